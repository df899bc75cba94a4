"""Speech types and helpers shared by every voice engine (``tts``: espeak-ng, OpenAI;
``piper_tts``: Piper). Both import this module; neither imports the other's internals.

``Voiceover``/``WordTiming`` are what a voice hands on; ``TTSProvider`` is the contract. The
engines compute ``Span``s (``vidgen.media.spans``: a word as a slice of the script plus when it
is heard), turned into words and sentences here by ``publish`` / ``describe``. A voice given a
respelled script (``vidgen.media.pronounce``) is described in the script's words by
``in_script_words``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from pydantic import BaseModel

from vidgen.media.spans import SENTENCE_END, Span, clamp, write_wav

if TYPE_CHECKING:
    from vidgen.cancel_token import CancelToken
    from vidgen.media.pronounce import Respelling


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
        if index + 1 == len(spans) or SENTENCE_END.search(gap):
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


def words(text: str, spans: Sequence[Span]) -> list[WordTiming]:
    return [WordTiming(text=text[s.first : s.last], start=s.start, end=s.end) for s in spans]


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
    duration = write_wav(out_path, pcm, sample_rate)
    return describe(text, out_path, duration, spans, provider, model)


def describe(
    text: str,
    out_path: Path,
    duration: float,
    spans: Sequence[Span],
    provider: str,
    model: str,
) -> Voiceover:
    """The ``Voiceover`` of a WAV already written (cost 0): its words and sentences."""
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


# --------------------------------------------------------------------------------------------
# Respelled speech -> the script's words


def in_script_words(spoken: Voiceover, respelling: Respelling) -> Voiceover:
    """``spoken``, made from ``respelling.text``, described in the script's own words.

    Every provider reports words as slices of the text it was given, in order, so each word's
    characters are found by walking that text; ``respelling.to_script`` turns them into the
    script characters they stand for. The words spoken for one replaced script word ("focus",
    "flow" for "FocusFlow") become that one word, from the first one's start to the last one's
    end: captions show the script's spelling for exactly the time its words were heard.
    """
    if not respelling.changed:
        return spoken
    text, script = respelling.text, respelling.script
    spans: list[Span] = []
    cursor = 0
    for word in spoken.words:
        at = text.find(word.text, cursor)
        if not word.text or at < 0:
            continue  # not a slice of what was spoken: nothing to time in the script
        cursor = at + len(word.text)
        first, last = respelling.to_script(at, cursor)
        if spans and first < spans[-1].last:  # another spoken word of the same script word
            previous = spans[-1]
            spans[-1] = Span(previous.first, max(previous.last, last), previous.start,
                             max(previous.end, word.end))  # fmt: skip
        else:
            spans.append(Span(first, last, word.start, word.end))
    spans = [part for span in spans for part in _per_written_word(script, span)]
    return spoken.model_copy(
        update={"words": words(script, spans), "sentences": sentences(script, spans)}
    )


def _per_written_word(script: str, span: Span) -> list[Span]:
    """A span over several written words (a phrase said with another number of words) as one
    span per written word, its time shared by their length: captions time each word."""
    found = list(re.finditer(r"\S+", script[span.first : span.last]))
    if len(found) < 2:
        return [span]
    total = sum(len(m.group()) for m in found)
    parts: list[Span] = []
    clock = span.start
    for match in found:
        step = (span.end - span.start) * len(match.group()) / total
        parts.append(Span(span.first + match.start(), span.first + match.end(),
                          round(clock, 3), round(clock + step, 3)))  # fmt: skip
        clock += step
    return parts
