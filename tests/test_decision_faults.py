"""Approve and reject are all-or-nothing: a move that cannot finish changes nothing.

A failure part-way (injected), a read-only ``approved/`` and a full disk (real tmpfs mounts,
root only; skipped cleanly where mounting is not permitted): the command exits 1 with one
line, every file is still in ``review/`` byte for byte, the row is still ``pending_review``,
and the same decision works once the folder is fixed.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import CliResult
from test_decisions import _pending_video
from vidgen import files as vidgen_files
from vidgen.settings import Settings, load_settings
from vidgen.store import get_store, reset_stores, videos

Cli = Callable[..., CliResult]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.is_dir() else {}


def _refused_and_unchanged(
    cli: Cli, settings: Settings, video_id: int, before: dict[str, bytes], *args: str
) -> str:
    result = cli(*args)
    assert result.code == 1, (result.out, result.err)
    err = result.err.strip()
    assert "Traceback" not in result.out + result.err
    assert len(err.splitlines()) == 1, err
    assert "nothing was changed" in err
    review = settings.output_root / "review"
    assert _snapshot(review) == before  # every file back, byte for byte, nothing hidden left
    for other in ("approved", "rejected"):
        leftover = [p.name for p in (settings.output_root / other).glob("*") if p.is_file()]
        assert leftover == [], leftover
    video = videos.get(get_store(settings), video_id)
    assert video is not None and video.status == "pending_review"
    assert Path(video.video_path).parent == review
    return err


@pytest.mark.parametrize("failing", [".jpg", ".srt", "log"])
def test_a_move_failing_part_way_puts_every_file_back(
    settings: Settings, cli: Cli, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    video_id = _pending_video(get_store(settings), settings)
    before = _snapshot(settings.output_root / "review")
    real_replace = os.replace

    def replace(src: object, dest: object) -> None:
        name = Path(str(dest)).name
        hit = name.startswith("job-") and (
            name.endswith(failing) or (failing == "log" and Path(str(src)).suffix == ".tmp")
        )
        if hit and "approved" in str(dest):
            raise PermissionError(errno.EACCES, "Permission denied", str(dest))
        real_replace(src, dest)  # type: ignore[arg-type]

    monkeypatch.setattr(vidgen_files.os, "replace", replace)
    err = _refused_and_unchanged(cli, settings, video_id, before, "approve", str(video_id))
    assert "Permission denied" in err
    monkeypatch.setattr(vidgen_files.os, "replace", real_replace)
    assert cli("reject", str(video_id), "--reason", "fixed").code == 0
    assert sorted(_snapshot(settings.output_root / "rejected")) == sorted(before)


def _mount(target: Path, options: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")


@pytest.fixture
def mounts() -> Iterator[list[Path]]:
    made: list[Path] = []
    yield made
    for target in reversed(made):
        subprocess.run(["umount", "-l", str(target)], check=False)


def test_a_read_only_approved_folder_is_one_line_and_changes_nothing(
    home: Path, cli: Cli, mounts: list[Path]
) -> None:
    settings = load_settings()
    approved = settings.output_root / "approved"
    _mount(approved, "size=4m,ro")
    mounts.append(approved)
    video_id = _pending_video(get_store(settings), settings)
    before = _snapshot(settings.output_root / "review")
    err = _refused_and_unchanged(cli, settings, video_id, before, "approve", str(video_id))
    assert "Read-only file system" in err
    subprocess.run(["mount", "-o", "remount,rw", str(approved)], check=True)
    assert cli("approve", str(video_id)).code == 0
    assert sorted(_snapshot(approved)) == sorted(before)


def test_a_full_disk_during_a_decision_is_one_line_and_changes_nothing(
    home: Path, cli: Cli, mounts: list[Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    output = tmp_path / "small-output"
    _mount(output, "size=1m")
    mounts.append(output)
    monkeypatch.setenv("VIDGEN_OUTPUT_DIR", str(output))
    reset_stores()
    settings = load_settings()
    video_id = _pending_video(get_store(settings), settings)
    (output / "approved").mkdir()
    filler = output / "filler"
    handle = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:  # fill the disk to the last block
        while True:
            os.write(handle, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(handle)
    before = _snapshot(output / "review")
    err = _refused_and_unchanged(cli, settings, video_id, before, "approve", str(video_id))
    assert "No space left on device" in err
    filler.unlink()
    assert cli("approve", str(video_id)).code == 0
    assert sorted(_snapshot(output / "approved")) == sorted(before)
