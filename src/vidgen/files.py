"""Crash-safe file writes: everything vidgen publishes is written to a temporary name and renamed.

A reader (or a retry after a crash or a full disk) therefore sees the old file or the new one,
never half of one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import uuid
from pathlib import Path


def temp_sibling(path: Path) -> Path:
    """A hidden temporary name in the same folder, so the final rename is atomic."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")


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


def publish_copy(src: Path, dest: Path) -> None:
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
