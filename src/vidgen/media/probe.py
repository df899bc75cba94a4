"""Is this photo or clip usable? One check, shared by ``generate`` and the stage that renders it.

``media_problem(path)`` answers with one line a user can act on, or None. It never opens the
file itself: ``stat`` first (``files.regular_file_problem``: a FIFO named as a photo would
block any reader), then the bundled ffmpeg decodes the first video frame under a time limit, so
a truncated download, a text file renamed ``.jpg`` or a video without a picture is refused
when the job is queued, naming the file, not three stage attempts later. ``probe_media`` returns
what the renderer needs (photo or clip, size, length, whether it has sound).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vidgen.files import regular_file_problem

PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"})
CLIP_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi"})
MEDIA_SUFFIXES = PHOTO_SUFFIXES | CLIP_SUFFIXES

# Decoding one frame takes milliseconds; a file that keeps ffmpeg busy this long is not usable.
PROBE_TIMEOUT = 30.0
# A clip shorter than this is a still in disguise (or a broken file): one frame is not footage.
MIN_CLIP_SECONDS = 0.2

_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\S+.*?: Video: .*?, (\d{1,5})x(\d{1,5})")
_AUDIO = re.compile(r"Stream #\S+.*?: Audio: ")


@dataclass(frozen=True)
class MediaFacts:
    path: Path
    kind: Literal["photo", "clip"]
    width: int
    height: int
    duration: float | None  # clips only
    has_audio: bool


def media_kind(path: Path) -> Literal["photo", "clip"] | None:
    """By the file name: what vidgen will treat it as, or None for files it does not use."""
    suffix = path.suffix.lower()
    if suffix in PHOTO_SUFFIXES:
        return "photo"
    if suffix in CLIP_SUFFIXES:
        return "clip"
    return None


def inspect_media(path: Path) -> MediaFacts | str:
    """The facts of a usable photo or clip, or why it is not usable (one line, without the path).

    Only ``stat`` touches the path before ffmpeg does; ffmpeg must decode a first frame.
    """
    kind = media_kind(path)
    if kind is None:
        known = ", ".join(sorted(MEDIA_SUFFIXES))
        return f"is not a photo or clip vidgen reads (name it with one of {known})"
    problem = regular_file_problem(path)
    if problem is not None:
        return problem
    from vidgen.media.ffmpeg import ffmpeg_exe

    try:
        proc = subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path),
             "-map", "0:v:0", "-frames:v", "1", "-f", "null", "-"],
            capture_output=True, text=True, errors="replace", timeout=PROBE_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return f"could not be decoded within {PROBE_TIMEOUT:g} s"
    except OSError as exc:
        return f"could not be probed ({exc.strerror})"
    err = proc.stderr
    video = _VIDEO.search(err)
    if proc.returncode != 0 or video is None:
        lines = [line.strip() for line in err.splitlines() if line.strip()]
        reason = lines[-1] if lines else f"ffmpeg exit {proc.returncode}"
        if str(path) in reason:  # ffmpeg prefixes the file name; the caller names it already
            reason = reason.split(str(path), 1)[1].lstrip(": ")
        what = "a picture" if kind == "photo" else "a video"
        return f"is not {what} ffmpeg can decode ({reason[:160]})"
    width, height = int(video.group(1)), int(video.group(2))
    duration: float | None = None
    if kind == "clip":
        found = _DURATION.search(err)
        if found is None:
            return "is a video without a known length; re-encode it (for example as H.264 MP4)"
        hours, minutes, seconds = found.groups()
        duration = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
        if duration < MIN_CLIP_SECONDS:
            return f"is a video of {duration:.2f} s; a clip needs at least {MIN_CLIP_SECONDS} s"
    return MediaFacts(
        path=path,
        kind=kind,
        width=width,
        height=height,
        duration=duration,
        has_audio=_AUDIO.search(err) is not None,
    )


def media_problem(path: Path) -> str | None:
    """Why ``path`` is not a usable photo or clip (one line, without the path), or None."""
    facts = inspect_media(path)
    return facts if isinstance(facts, str) else None
