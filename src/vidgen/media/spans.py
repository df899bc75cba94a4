"""Word spans of a voiceover script, without pydantic: what the voice engines compute.

A ``Span`` is a word as a slice of the script plus when it is heard. ``vidgen.media.speech``
turns spans into the ``WordTiming``s a voice hands on; this module is apart so that the Piper
voice's child process (``python -m vidgen.media.piper_tts``) imports no pydantic: ~19 MB less
beside a ~300 MB voice, within the job's 400 MB budget.
"""

from __future__ import annotations

import io
import re
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vidgen.errors import FatalStageError
from vidgen.files import atomic_write_bytes


@dataclass(frozen=True)
class Span:
    """A word as a slice of the input text plus when it is heard."""

    first: int  # character offsets into the text, end exclusive
    last: int
    start: float
    end: float


SENTENCE_END = re.compile(r"[.!?\u2026\u3002\uff01\uff1f]")
_CLAUSE_BREAK = re.compile(r"[,;:\u2013\u2014]")


def clamp(spans: Sequence[Span], duration: float) -> list[Span]:
    """Timings are rounded to milliseconds; never let one point past the end of the audio."""
    return [Span(s.first, s.last, min(s.start, duration), min(s.end, duration)) for s in spans]


def require_text(text: str) -> None:
    if not text.strip():
        raise FatalStageError("voiceover script is empty; the production plan has nothing to say")


def write_wav(out_path: Path, pcm: bytes, sample_rate: int) -> float:
    """Write mono 16-bit ``pcm`` as a WAV at ``out_path`` atomically; returns its duration."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(sample_rate)
        handle.writeframes(pcm)
    atomic_write_bytes(out_path, buffer.getvalue())
    return len(pcm) / 2 / sample_rate


_TOKEN = re.compile(r"\w(?:[\w'\u2019.\-]*\w)?")
_CLAUSE_PAUSE = 2.0  # in "characters" of speaking time
_SENTENCE_PAUSE = 4.0


def estimate_spans(text: str, duration: float) -> list[Span]:
    """Share ``duration`` among the words by length, leaving room for punctuation pauses."""
    matches = list(_TOKEN.finditer(text))
    if not matches:
        return [Span(0, len(text), 0.0, duration)]
    units: list[tuple[float, float]] = []  # (pause before, speaking length)
    for index, match in enumerate(matches):
        pause = 0.0
        if index > 0:
            gap = text[matches[index - 1].end() : match.start()]
            if SENTENCE_END.search(gap):
                pause = _SENTENCE_PAUSE
            elif _CLAUSE_BREAK.search(gap):
                pause = _CLAUSE_PAUSE
        units.append((pause, float(len(match.group()))))
    per_unit = duration / sum(pause + length for pause, length in units)
    spans: list[Span] = []
    clock = 0.0
    for match, (pause, length) in zip(matches, units, strict=True):
        clock += pause * per_unit
        start = clock
        clock += length * per_unit
        spans.append(Span(match.start(), match.end(), round(start, 3), round(clock, 3)))
    return spans
