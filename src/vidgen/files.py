"""Crash-safe file writes: everything vidgen files is written to a temporary name and renamed.

A reader (or a retry after a crash or a full disk) therefore sees the old file or the new one,
never half of one. Files that belong together (a video, its thumbnail, log and subtitles) are
staged in a hidden folder and renamed into place together (``Filing``). What a killed
process leaves behind -- temporary names, staging folders -- is recognisable by name and removed
by ``sweep_temp`` and ``sweep_filed``.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import shutil
import stat
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

# ``temp_sibling`` names: ``.<name>.<8 hex>.tmp`` (or another last suffix, e.g. ``.png``).
TEMP_NAME = re.compile(r"^\..+\.[0-9a-f]{8}\.[A-Za-z0-9]+$")
STAGING_PREFIX = ".publish-"  # on-disk name kept: older leftovers are still recognised


def temp_sibling(path: Path) -> Path:
    """A hidden temporary name in the same folder, so the final rename is atomic."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")


def is_temp_name(name: str) -> bool:
    return TEMP_NAME.match(name) is not None


def _fsync_and_replace(tmp: Path, dest: Path) -> None:
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, dest)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(path)
    try:
        tmp.write_bytes(data)
        _fsync_and_replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_copy(src: Path, dest: Path) -> None:
    """Copy src to dest via a temporary sibling; dest appears complete or not at all."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(dest)
    try:
        shutil.copyfile(src, tmp)
        _fsync_and_replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def file_digest(path: Path) -> dict[str, int | str]:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"size": path.stat().st_size, "sha256": digest.hexdigest()}


def regular_file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as an input file, or None if it can.

    Decided with ``stat`` and ``access`` only: opening a FIFO named as an image or a music
    file would block the reader until someone writes to it (a stage until its time limit).
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "file not found"
    except NotADirectoryError:
        return "file not found (a parent is not a folder)"
    except OSError as exc:
        return f"cannot be checked ({exc.strerror})"
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe), not a regular file"
    if not stat.S_ISREG(mode):
        kind = "a socket" if stat.S_ISSOCK(mode) else "a device"
        return f"is {kind}, not a regular file"
    if not os.access(path, os.R_OK):
        return "is not readable (permission denied)"
    return None


@dataclass
class Swept:
    """What a sweep removed."""

    files: int = 0
    bytes: int = 0
    paths: list[Path] = field(default_factory=list)

    def add(self, other: Swept) -> None:
        self.files += other.files
        self.bytes += other.bytes
        self.paths += other.paths


def _remove(path: Path, swept: Swept, dry_run: bool = False) -> None:
    if dry_run:
        swept.files += 1
        swept.paths.append(path)
        return
    try:
        if path.is_dir() and not path.is_symlink():
            for child in path.rglob("*"):
                if child.is_file():
                    swept.files += 1
                    swept.bytes += child.lstat().st_size
            shutil.rmtree(path, ignore_errors=True)
        else:
            size = path.lstat().st_size
            path.unlink()
            swept.files += 1
            swept.bytes += size
        swept.paths.append(path)
    except OSError:
        pass  # gone already, or not ours to remove: a sweep never fails the caller


def sweep_temp(root: Path, *, dry_run: bool = False) -> Swept:
    """Remove every temporary file (``temp_sibling`` names) and staging folder under ``root``.

    These are what a killed attempt leaves behind: a half-written clip, soundtrack or copy.
    The caller guarantees no live process writes under ``root`` (the job is not running, or
    the caller has just claimed it); completed files are never touched. ``dry_run`` only
    lists them (``bytes`` stays 0).
    """
    swept = Swept()
    if not root.is_dir():
        return swept
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        for name in list(dirnames):
            if name.startswith(STAGING_PREFIX):
                dirnames.remove(name)
                _remove(here / name, swept, dry_run)
        for name in filenames:
            if is_temp_name(name):
                _remove(here / name, swept, dry_run)
    return swept


def sweep_filed(folder: Path, prefix: str, keep: set[Path], *, dry_run: bool = False) -> Swept:
    """Remove what an unfinished filing named ``prefix...`` left in ``folder``.

    That is its staging folders, its temporary names and any filed file not in ``keep``
    (the files a recorded row points at): an MP4 renamed into place by a process killed before
    its row was committed, or the files of an earlier title of the same job.
    """
    swept = Swept()
    if not folder.is_dir():
        return swept
    kept = {path.absolute() for path in keep}
    for entry in folder.iterdir():
        name = entry.name
        staging = name.startswith(f"{STAGING_PREFIX}{prefix}")
        temp = name.startswith(f".{prefix}") and is_temp_name(name)
        orphan = name.startswith(prefix) and entry.absolute() not in kept
        if staging or temp or orphan:
            _remove(entry, swept, dry_run)
    return swept


def sweep_name(folder: Path, base: str, keep: set[Path], *, dry_run: bool = False) -> Swept:
    """Remove what an unfinished filing under exactly ``base`` left in ``folder``: its
    staging folders (``.publish-<base>-<8 hex>``), temporary names (``.<base>.<ext>.<8
    hex>.tmp``) and files ``<base>.<ext>`` not in ``keep``. Unlike ``sweep_filed`` it
    touches no other name: callers pass only names their store recorded as its own."""
    swept = Swept()
    if not folder.is_dir():
        return swept
    kept = {path.absolute() for path in keep}
    staging = re.compile(re.escape(f"{STAGING_PREFIX}{base}-") + r"[0-9a-f]{8}$")
    for entry in folder.iterdir():
        name = entry.name
        leftover = staging.match(name) or (name.startswith(f".{base}.") and is_temp_name(name))
        orphan = (
            name.startswith(f"{base}.")
            and "." not in name[len(base) + 1 :]
            and entry.absolute() not in kept
            and not entry.is_dir()
        )
        if leftover or orphan:
            _remove(entry, swept, dry_run)
    return swept


class Filing:
    """Files that appear in ``folder`` together or not at all.

    Each file is first copied (or written) into a hidden staging folder beside the final names
    (same filesystem, so the renames are atomic and cost no copy); ``commit`` renames them all
    into place, which takes microseconds; ``discard`` removes the staging folder and anything
    already renamed that the caller did not ask to keep. A process killed at any point leaves
    only names ``sweep_filed`` recognises.
    """

    def __init__(self, folder: Path, base: str) -> None:
        self.folder, self.base = folder, base
        self.staging = folder / f"{STAGING_PREFIX}{base}-{uuid.uuid4().hex[:8]}"
        self.entries: list[Path] = []  # final paths, in the order they were added
        self.committed: list[Path] = []

    def dest(self, suffix: str) -> Path:
        return self.folder / f"{self.base}{suffix}"

    def _staged(self, dest: Path) -> Path:
        self.staging.mkdir(parents=True, exist_ok=True)
        if dest not in self.entries:
            self.entries.append(dest)
        return self.staging / dest.name

    def add_copy(self, src: Path, suffix: str) -> Path:
        dest = self.dest(suffix)
        atomic_copy(src, self._staged(dest))
        return dest

    def add_text(self, suffix: str, text: str) -> Path:
        dest = self.dest(suffix)
        atomic_write_text(self._staged(dest), text)
        return dest

    def commit(self) -> list[Path]:
        for dest in self.entries:
            os.replace(self.staging / dest.name, dest)
            self.committed.append(dest)
        _fsync_dir(self.folder)
        shutil.rmtree(self.staging, ignore_errors=True)
        return list(self.entries)

    def discard(self, keep: Collection[Path] = ()) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        for dest in self.committed:
            if dest not in keep:
                dest.unlink(missing_ok=True)


class Moves:
    """Files moved to another folder all-or-nothing (a reviewer's decision).

    ``move`` renames a file into place (across filesystems: copies it to a temporary name,
    fsyncs and renames it, keeping the source); ``write`` replaces a file's content with an
    fsynced temporary file, keeping the old one aside. If anything fails the caller runs
    ``undo()``, which puts every file back as it was (renames need no free space, so a full
    disk cannot stop it); once the decision is recorded, ``finish()`` removes what was kept for
    the undo. A process killed in between leaves only temporary names the sweeps recognise.
    """

    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] = []
        self._finish: list[Callable[[], None]] = []

    def move(self, src: Path, dest: Path) -> None:
        try:
            os.replace(src, dest)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            atomic_copy(src, dest)
            self._undo.append(lambda: dest.unlink(missing_ok=True))
            self._finish.append(lambda: src.unlink(missing_ok=True))
            return
        self._undo.append(lambda: os.replace(dest, src))

    def write(self, dest: Path, text: str) -> None:
        tmp = temp_sibling(dest)
        try:
            tmp.write_bytes(text.encode("utf-8"))
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
            aside = None
            if dest.exists():
                aside = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.old")
                os.replace(dest, aside)
                self._undo.append(lambda: os.replace(aside, dest))
                self._finish.append(lambda: aside.unlink(missing_ok=True))
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
        if aside is None:
            self._undo.append(lambda: dest.unlink(missing_ok=True))

    def undo(self) -> None:
        for step in reversed(self._undo):
            with contextlib.suppress(OSError):
                step()
        self._undo.clear()
        self._finish.clear()

    def finish(self, folder: Path | None = None) -> None:
        for step in self._finish:
            with contextlib.suppress(OSError):
                step()
        self._undo.clear()
        self._finish.clear()
        if folder is not None:
            _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
