"""Speech types and helpers shared by every voice engine (``tts``: espeak-ng, OpenAI;
``piper_tts``: Piper). Both import this module; neither imports the other's internals.

``Voiceover``/``WordTiming`` are what a voice hands on; ``TTSProvider`` is the contract; a
``Span`` is a word as a slice of the script plus when it is heard, turned into words and
sentences by ``publish`` (offline engines) or estimated from a duration (``estimate_spans``).
"""

from __future__ import annotations

import io
import re
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from pydantic import BaseModel

from vidgen.errors import FatalStageError
from vidgen.files import atomic_write_bytes

if TYPE_CHECKING:
    from vidgen.cancel import CancelToken


class WordTiming(BaseModel):
    """A word (or a sentence) and when it is heard, in seconds from the start of the audio."""

    text: str
    start: float
    end: float


class Voiceover(BaseModel):
    path: Path
    duration: float
    words: list[WordTiming]
    sentences: list[WordTiming]
    provider: str
    model: str | None
    cost: float


@runtime_checkable
class TTSProvider(Protocol):
    """Contract every speech provider keeps.

    ``synthesize(text, out_path, voice=, rate=, ctx=)`` speaks ``text`` and writes a mono 16-bit
    PCM WAV at ``out_path`` atomically (a temporary sibling renamed into place, so a crash never
    leaves half a file under the final name). It returns a ``Voiceover`` whose ``duration`` is the
    WAV's length and whose ``words``/``sentences`` are in spoken order, with ``start < end``,
    in seconds relative to the start of that WAV. ``rate`` is in words per minute.

    Errors: ``StageError`` for what another attempt may fix (network, rate limit, server error,
    ffmpeg crash); ``FatalStageError`` for what it cannot (unknown voice, missing or rejected API
    key, empty text). Long work honours ``ctx`` cancellation.
    """

    name: str

    def synthesize(
        self,
        text: str,
        out_path: Path,
        *,
        voice: str,
        rate: int,
        ctx: CancelToken | None = None,
    ) -> Voiceover: ...


# --------------------------------------------------------------------------------------------
# Word spans -> sentences (shared by both providers)


@dataclass(frozen=True)
class Span:
    """A word as a slice of the input text plus when it is heard."""

    first: int  # character offsets into the text, end exclusive
    last: int
    start: float
    end: float


_SENTENCE_END = re.compile(r"[.!?\u2026\u3002\uff01\uff1f]")
_CLAUSE_BREAK = re.compile(r"[,;:\u2013\u2014]")


def sentences(text: str, spans: Sequence[Span]) -> list[WordTiming]:
    """Group words into sentences at sentence punctuation found between consecutive words.

    Looking at the text *between* words rather than inside them keeps decimals ("3.5") and
    abbreviations spoken as one word from splitting a sentence.
    """
    sentences: list[WordTiming] = []
    group: list[Span] = []
    for index, span in enumerate(spans):
        group.append(span)
        following = spans[index + 1].first if index + 1 < len(spans) else len(text)
        gap = text[span.last : following]
        if index + 1 == len(spans) or _SENTENCE_END.search(gap):
            # Keep the closing punctuation so a caption reads like the script.
            tail = re.match(r"[^\s]*", gap)
            stop = span.last + (tail.end() if tail else 0)
            sentences.append(
                WordTiming(
                    text=" ".join(text[group[0].first : stop].split()),
                    start=group[0].start,
                    end=group[-1].end,
                )
            )
            group = []
    return sentences


def clamp(spans: Sequence[Span], duration: float) -> list[Span]:
    """Timings are rounded to milliseconds; never let one point past the end of the audio."""
    return [Span(s.first, s.last, min(s.start, duration), min(s.end, duration)) for s in spans]


def words(text: str, spans: Sequence[Span]) -> list[WordTiming]:
    return [WordTiming(text=text[s.first : s.last], start=s.start, end=s.end) for s in spans]


def require_text(text: str) -> None:
    if not text.strip():
        raise FatalStageError("voiceover script is empty; the production plan has nothing to say")


def publish(
    text: str,
    out_path: Path,
    pcm: bytes,
    sample_rate: int,
    spans: Sequence[Span],
    provider: str,
    model: str,
) -> Voiceover:
    """Write mono 16-bit ``pcm`` as a WAV at ``out_path`` atomically and describe it (the
    offline providers' last step; their cost is 0)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(sample_rate)
        handle.writeframes(pcm)
    atomic_write_bytes(out_path, buffer.getvalue())
    duration = len(pcm) / 2 / sample_rate
    spans = clamp(spans, duration)
    return Voiceover(
        path=out_path,
        duration=duration,
        words=words(text, spans),
        sentences=sentences(text, spans),
        provider=provider,
        model=model,
        cost=0.0,
    )


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
            if _SENTENCE_END.search(gap):
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
