"""Running the bundled ffmpeg (imageio-ffmpeg's static build) and probing what it made.

``run`` never lets ffmpeg outlive a cancelled stage: it polls ``ctx.cancel`` and the stage deadline
and kills the process. Failures become ``StageError`` carrying ffmpeg's last stderr lines.
There is no ffprobe in the wheel, so ``probe`` parses ``ffmpeg -i`` output.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from vidgen.errors import FatalStageError, StageError
from vidgen.media.process import run_child

if TYPE_CHECKING:
    from vidgen.cancel_token import CancelToken


@cache
def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError) as exc:
        raise FatalStageError(
            f"no ffmpeg binary available ({exc}); reinstall imageio-ffmpeg"
        ) from None


class FfmpegError(StageError):
    """ffmpeg exited non-zero; ``details["stderr_tail"]`` holds its last stderr lines, which the
    runner records on the ``stage_failed`` event (``vidgen logs`` shows them)."""

    def __init__(self, message: str, stderr: str) -> None:
        super().__init__(message)
        lines = [line.rstrip() for line in stderr.strip().splitlines() if line.strip()]
        self.details: dict[str, list[str]] = {"stderr_tail": lines[-20:]}


def _tail(text: str, lines: int = 6) -> str:
    kept = [line.strip() for line in text.strip().splitlines() if line.strip()][-lines:]
    return " | ".join(kept)


def run(
    args: list[str],
    *,
    ctx: CancelToken | None = None,
    timeout: float | None = None,
    what: str = "ffmpeg",
) -> subprocess.CompletedProcess[str]:
    """Run ffmpeg with ``args`` (no shell: text never reaches one). Raise StageError on failure."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
    proc = run_child(cmd, ctx=ctx, timeout=timeout, what=what)
    if proc.returncode != 0:
        err = proc.stderr
        if "No space left on device" in err:
            raise StageError(f"{what} failed: no space left on device; free disk space and retry")
        raise FfmpegError(f"{what} failed (exit {proc.returncode}): {_tail(err)}", err)
    return proc


@dataclass(frozen=True)
class MediaInfo:
    duration: float
    width: int | None
    height: int | None
    fps: float | None
    video_codec: str | None
    video_profile: str | None
    pixel_format: str | None
    audio_codec: str | None
    sample_rate: int | None
    size_bytes: int


_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(
    r"Stream #\S+.*?: Video: (?P<codec>\w+)(?: \((?P<profile>[^)]*)\))?.*?, "
    r"(?P<pix>[a-z0-9_]+)(?:\([^)]*\))?, (?P<w>\d+)x(?P<h>\d+)"
)
_FPS = re.compile(r"(\d+(?:\.\d+)?) fps")
_AUDIO = re.compile(r"Stream #\S+.*?: Audio: (?P<codec>\w+).*?, (?P<rate>\d+) Hz")


def probe(path: Path) -> MediaInfo:
    """Read duration, stream codecs and size of a media file (StageError if unreadable)."""
    if not path.is_file():
        raise StageError(f"cannot probe {path}: file does not exist")
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=60,
    )
    err = proc.stderr
    duration = _DURATION.search(err)
    if duration is None:
        raise StageError(f"cannot probe {path.name}: not a readable media file ({_tail(err, 2)})")
    hours, minutes, seconds = duration.groups()
    video = _VIDEO.search(err)
    audio = _AUDIO.search(err)
    fps = _FPS.search(err) if video else None
    return MediaInfo(
        duration=int(hours) * 3600 + int(minutes) * 60 + float(seconds),
        width=int(video["w"]) if video else None,
        height=int(video["h"]) if video else None,
        fps=float(fps.group(1)) if fps else None,
        video_codec=video["codec"] if video else None,
        video_profile=video["profile"] if video else None,
        pixel_format=video["pix"] if video else None,
        audio_codec=audio["codec"] if audio else None,
        sample_rate=int(audio["rate"]) if audio else None,
        size_bytes=path.stat().st_size,
    )


_LOG_PREFIX = re.compile(r"^(\[[^\]]*\]\s*)+")


def media_file_problem(path: Path, kind: str) -> str | None:
    """Why ``path`` cannot serve as ``kind`` media ("audio": music; "image": a still or a
    clip), or None if the bundled ffmpeg decodes a stream of that kind from it.

    ``generate`` calls this for each file a config names, so a corrupt file is refused before
    a job is queued, not three attempts into composition. ``stat`` comes first: opening a FIFO
    would block. Decoding (a second of audio, one frame) rather than reading the header: ffmpeg
    accepts a PNG with a broken body until it decodes it."""
    from vidgen.files import regular_file_problem

    problem = regular_file_problem(path)
    if problem is not None:
        return problem
    pick = ["-map", "0:a:0", "-t", "1"] if kind == "audio" else ["-map", "0:v:0", "-frames:v", "1"]
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(path), *pick]
    try:
        proc = subprocess.run(
            [*cmd, "-f", "null", "-"],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return f"ffmpeg could not read it within 30 s; use a plain {kind} file"
    except (OSError, FatalStageError) as exc:
        return f"cannot run ffmpeg to check it ({exc})"
    if proc.returncode == 0:
        return None
    said = [_LOG_PREFIX.sub("", line).strip() for line in proc.stderr.splitlines()]
    said = [line for line in said if line]
    reason = said[0].replace(str(path), path.name) if said else f"exit {proc.returncode}"
    examples = "an MP3, WAV, OGG or M4A file" if kind == "audio" else "a PNG, JPEG or WebP file"
    return f"not a readable {kind} file (ffmpeg: {reason[:160]}); replace it with {examples}"
