"""Stages for the runner's tests, loaded with ``VIDGEN_STAGE_PACKAGE=stagekit``.

Each stage writes a small file, records each run in ``$VIDGEN_HOME/runs.log`` and returns
outputs naming the earlier outputs it was given, so tests can see exactly what ran and what was
reused. ``STAGEKIT_<STAGE>`` scripts a fault:

- ``fail:N``   the first N attempts raise StageError
- ``fatal``    raise FatalStageError
- ``hang``     sleep forever, ignoring cancellation (only a time limit stops waiting for it)
- ``sleep:S``  sleep S seconds, checking cancellation
- ``pause``    wait (cooperatively) until ``$VIDGEN_HOME/release-<stage>`` exists
- ``real``     run vidgen's real stage
- ``pause+real``  pause as above, then run the real stage
- ``fakevideo``   (composition) write a ``STAGEKIT_FAKEVIDEO_BYTES``-byte video.mp4 and a
  thumbnail.jpg with the outputs the real review stage needs
- ``tinyvideo``    (composition) a real 2-second 360x640 H.264/AAC MP4 and a JPEG thumbnail
  made with the bundled ffmpeg in well under a second: a video a browser can play
- ``enospc+real`` run the real stage, but on its first run any file copy into a ``.jpg``
  writes half the bytes and raises ``OSError(ENOSPC)``, as a full disk does
- ``ffmpeg-long``  run the bundled ffmpeg on a 10-minute generated input (a real child
  process that only the stage's cancel event stops), writing ``$VIDGEN_HOME/ffmpeg-<stage>``
  once it started
- ``ffmpeg-fail``  run ffmpeg with a filter it rejects, so it fails with stderr output
- ``diskfull-checkpoint`` on its first run, the store write that records this stage's checkpoint
  fails with SQLite's "database or disk is full"
- ``tempfile+pause`` leave a 1 MB temporary file (a ``temp_sibling`` name, as a killed ffmpeg
  would) in the attempt folder, then pause as above
- ``hold-copy+real`` run the real stage, but on its first run the copy of the ``.mp4`` writes
  half the bytes, creates ``$VIDGEN_HOME/inside-<stage>`` and hangs (for a SIGKILL mid-copy)
- ``hold-rename+real`` run the real stage, but on its first run its publication renames the
  first file into place, creates ``inside-<stage>`` and hangs (a SIGKILL between renames)
"""

from __future__ import annotations

import errno
import os
import sqlite3
import time
from pathlib import Path

from pydantic import BaseModel

from vidgen.errors import FatalStageError, StageError
from vidgen.stages.base import StageContext, StageResult


class KitOutput(BaseModel):
    """What a scripted (not ``real``) stage records. The stagekit modules declare no ``Output``,
    so a resume reuses whatever they recorded (``vidgen.stages.base.RecordedOutput``)."""

    file: str
    saw: list[str]
    stage: str


def _composed(video: Path, thumbnail: Path, ctx: StageContext, **probed: object) -> BaseModel:
    """The outputs the real composition records, so the real review stage can read them."""
    from vidgen.stages import composition

    return composition.Output.model_validate(
        {
            "video_path": ctx.rel(video),
            "thumbnail_path": ctx.rel(thumbnail),
            **probed,
            "assets": [],
            "attribution": None,
        }
    )


def runs_log(home: Path) -> list[tuple[str, int, int]]:
    """(stage, job_id, attempt) for every stage run recorded under ``home``."""
    path = home / "runs.log"
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        fields = line.split()
        if len(fields) == 3:  # another worker process may be half-way through appending a line
            rows.append((fields[0], int(fields[1]), int(fields[2])))
    return rows


def run_stage(name: str, ctx: StageContext) -> StageResult:
    home = ctx.settings.home
    with open(home / "runs.log", "a") as log:
        log.write(f"{name} {ctx.job_id} {ctx.attempt}\n")
    script = os.environ.get(f"STAGEKIT_{name.upper()}", "")
    first_run = script in (
        "enospc+real",
        "diskfull-checkpoint",
        "hold-copy+real",
        "hold-rename+real",
    ) and (sum(1 for row in runs_log(home) if row[0] == name and row[1] == ctx.job_id) == 1)
    if script == "pause+real":
        _pause(name, ctx)
        script = "real"
    if script == "enospc+real" and first_run:
        return _with_full_disk_on_jpg(name, ctx)
    if script == "hold-copy+real" and first_run:
        return _hanging_in_the_mp4_copy(name, ctx)
    if script == "hold-rename+real" and first_run:
        return _hanging_after_the_first_rename(name, ctx)
    if script == "tempfile+pause":
        (ctx.work_dir / ".partial.mp4.deadbeef.tmp").write_bytes(b"\0" * (1 << 20))
        script = "pause"
    if script in ("real", "enospc+real", "hold-copy+real", "hold-rename+real"):
        return _real(name, ctx)
    if script == "fakevideo":
        return _fake_video(ctx)
    if script == "tinyvideo":
        return _tiny_video(ctx)
    if script.startswith("ffmpeg-"):
        _run_ffmpeg(name, ctx, fail=script == "ffmpeg-fail")
    if script == "diskfull-checkpoint" and first_run:
        _fail_next_checkpoint_write(ctx)
    if script.startswith("fail:"):
        failures = int(script.split(":")[1])
        if sum(1 for row in runs_log(home) if row[0] == name and row[1] == ctx.job_id) <= failures:
            raise StageError(f"{name} scripted failure")
    elif script == "fatal":
        raise FatalStageError(f"{name} cannot work with this config")
    elif script == "hang":
        while True:
            time.sleep(0.05)
    elif script.startswith("sleep:"):
        end = time.monotonic() + float(script.split(":")[1])
        while time.monotonic() < end:
            ctx.check_cancelled()
            time.sleep(0.02)
    elif script == "pause":
        _pause(name, ctx)
    out = ctx.work_dir / f"{name}.txt"
    out.write_text(f"{name} output for job {ctx.job_id}\n")
    return StageResult(
        output=KitOutput(file=ctx.rel(out), saw=sorted(ctx.outputs), stage=name),
        files=[out],
        cost=0.01,
    )


def _run_ffmpeg(name: str, ctx: StageContext, *, fail: bool) -> None:
    from vidgen.media import ffmpeg

    # -re: read at the native rate, so it runs for minutes at almost no CPU
    source = ["-re", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=5:duration=600"]
    if fail:
        args = [*source, "-vf", "no_such_filter_xyz", "-f", "null", "-"]
    else:
        (ctx.settings.home / f"ffmpeg-{name}").touch()
        args = [*source, "-f", "null", "-"]
    ffmpeg.run(args, ctx=ctx, what=f"ffmpeg {name}")


def _pause(name: str, ctx: StageContext) -> None:
    home = ctx.settings.home
    (home / f"inside-{name}").touch()
    while not (home / f"release-{name}").exists():
        ctx.check_cancelled()
        time.sleep(0.02)


def _real(name: str, ctx: StageContext) -> StageResult:
    from importlib import import_module

    result: StageResult = import_module(f"vidgen.stages.{name}").run(ctx)
    return result


def _with_full_disk_on_jpg(name: str, ctx: StageContext) -> StageResult:
    import shutil

    import vidgen.files

    real_copy = shutil.copyfile

    def copyfile(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> object:
        if ".jpg." not in os.fspath(dst):
            return real_copy(src, dst)
        data = Path(src).read_bytes()
        Path(dst).write_bytes(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(dst))

    original = vidgen.files.shutil
    vidgen.files.shutil = _shutil_with(copyfile)  # type: ignore[assignment]
    try:
        return _real(name, ctx)
    finally:
        vidgen.files.shutil = original


def _shutil_with(copyfile: object) -> object:
    """The shutil module as ``vidgen.files`` sees it, with ``copyfile`` replaced."""
    import shutil
    import types

    return types.SimpleNamespace(**{**vars(shutil), "copyfile": copyfile})


def _hold(name: str, ctx: StageContext) -> None:
    (ctx.settings.home / f"inside-{name}").touch()
    while True:  # until the test SIGKILLs the worker
        time.sleep(0.05)


def _hanging_in_the_mp4_copy(name: str, ctx: StageContext) -> StageResult:
    import shutil

    import vidgen.files

    real_copy = shutil.copyfile

    def copyfile(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> object:
        if ".mp4." not in os.fspath(dst):
            return real_copy(src, dst)
        data = Path(src).read_bytes()
        with open(dst, "wb") as out:
            out.write(data[: len(data) // 2])
            out.flush()
            os.fsync(out.fileno())
        _hold(name, ctx)
        return dst

    vidgen.files.shutil = _shutil_with(copyfile)  # type: ignore[assignment]
    return _real(name, ctx)


def _hanging_after_the_first_rename(name: str, ctx: StageContext) -> StageResult:
    import vidgen.files

    def commit(self: vidgen.files.Filing) -> list[Path]:
        first = self.entries[0]
        os.replace(self.staging / first.name, first)
        _hold(name, ctx)
        return []

    vidgen.files.Filing.commit = commit  # type: ignore[method-assign]
    return _real(name, ctx)


def _fake_video(ctx: StageContext) -> StageResult:
    size = int(os.environ.get("STAGEKIT_FAKEVIDEO_BYTES", str(2 << 20)))
    video = ctx.work_dir / "video.mp4"
    thumbnail = ctx.work_dir / "thumbnail.jpg"
    video.write_bytes(os.urandom(size))
    thumbnail.write_bytes(os.urandom(size // 4))
    return StageResult(
        output=_composed(
            video,
            thumbnail,
            ctx,
            duration=1.0,
            width=1080,
            height=1920,
            video_codec="h264",
            audio_codec="aac",
            size_bytes=size,
        ),
        files=[video, thumbnail],
    )


def _tiny_video(ctx: StageContext) -> StageResult:
    import subprocess

    import imageio_ffmpeg

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    video = ctx.work_dir / "video.mp4"
    thumbnail = ctx.work_dir / "thumbnail.jpg"
    seconds = 2.0
    subprocess.run(
        [ffmpeg, "-v", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size=360x640:rate=30:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-shortest", "-movflags", "+faststart", str(video)],
        check=True,
    )  # fmt: skip
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-ss", "0.5", "-i", str(video), "-frames:v", "1",
         str(thumbnail)],
        check=True,
    )  # fmt: skip
    return StageResult(
        output=_composed(
            video,
            thumbnail,
            ctx,
            duration=seconds,
            width=360,
            height=640,
            video_codec="h264",
            audio_codec="aac",
            size_bytes=video.stat().st_size,
        ),
        files=[video, thumbnail],
    )


def _fail_next_checkpoint_write(ctx: StageContext) -> None:
    """Make the runner's next write of a completed checkpoint hit a full disk, once."""
    from sqlalchemy import event

    engine = ctx.store.engine

    def before(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE CHECKPOINT") and "outputs" in statement:
            event.remove(engine, "before_cursor_execute", before)
            raise sqlite3.OperationalError("database or disk is full")

    event.listen(engine, "before_cursor_execute", before)
