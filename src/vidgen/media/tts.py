"""Text to speech: the voiceover of a video and the word timings its captions follow.

Three providers share one contract (``TTSProvider``): ``EspeakTTS`` runs offline through the
libespeak-ng shipped in the ``espeakng-loader`` wheel and reports real word timings;
``PiperTTS`` (``vidgen.media.piper_tts``, the default) runs a neural voice offline;
``OpenAITTS`` calls the OpenAI speech endpoint and has to estimate them. ``get_tts`` picks one
by the name used in theme configs (``providers.tts``).
"""

from __future__ import annotations

import ctypes
import difflib
import os
import threading
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from vidgen.errors import FatalStageError, StageError
from vidgen.files import temp_sibling
from vidgen.media import ffmpeg
from vidgen.media.spans import Span as _Span
from vidgen.media.spans import clamp as _clamp
from vidgen.media.spans import estimate_spans as _estimate_spans
from vidgen.media.spans import require_text as _require_text
from vidgen.media.speech import TTSProvider, Voiceover, WordTiming
from vidgen.media.speech import publish as _publish
from vidgen.media.speech import sentences as _sentences
from vidgen.media.speech import words as _words
from vidgen.outgoing import Credential, RetryPolicy, Sleep, default_timeout, download, require_key

if TYPE_CHECKING:
    from vidgen.cancel_token import CancelToken

__all__ = ["EspeakTTS", "OpenAITTS", "TTSProvider", "Voiceover", "WordTiming", "get_tts"]


def _wav_duration(path: Path) -> float:
    with wave.open(str(path), "rb") as handle:
        return handle.getnframes() / float(handle.getframerate())


# --------------------------------------------------------------------------------------------
# espeak-ng through ctypes

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_ESPEAK_INITIALIZE_DONT_EXIT = 0x8000  # without it libespeak-ng calls exit() on a data error
_POS_CHARACTER = 1
_ESPEAK_CHARS_UTF8 = 1
_ESPEAK_RATE = 1
_EE_OK = 0
_EE_NOT_FOUND = 2
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1


class _EventId(ctypes.Union):
    _fields_ = [
        ("number", ctypes.c_int),
        ("name", ctypes.c_char_p),
        ("string", ctypes.c_char * 8),
    ]


class _Event(ctypes.Structure):
    """``espeak_EVENT`` from speak_lib.h."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based, counted in characters
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # milliseconds
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


class _VoiceInfo(ctypes.Structure):
    """``espeak_VOICE`` from speak_lib.h."""

    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),  # (priority byte, NUL-terminated language)*, then 0
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


class _EspeakEngine:
    """The one libespeak-ng of this process.

    The library keeps its voice, parameters and callback in globals, so every use goes through
    ``lock`` and it is initialised exactly once.
    """

    lock = threading.Lock()
    _instance: _EspeakEngine | None = None

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as exc:
            raise FatalStageError(
                f"espeak TTS needs the espeakng-loader package ({exc}); reinstall vidgen"
            ) from None
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_VoiceInfo))
        data_path = str(espeakng_loader.get_data_path()).encode()
        rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, _ESPEAK_INITIALIZE_DONT_EXIT
        )
        if rate <= 0:
            raise FatalStageError(f"libespeak-ng failed to initialise (code {rate}); reinstall")
        self.lib = lib
        self.sample_rate = int(rate)
        self.samples: array[int] = array("h")
        self.events: list[tuple[int, int, int]] = []  # (text_position, length, audio ms)
        self.cancel: threading.Event | None = None
        self.deadline_check: CancelToken | None = None
        # ctypes only keeps the C thunk alive while this Python object lives.
        self._callback = _SynthCallback(self._on_audio)
        lib.espeak_SetSynthCallback(self._callback)

    @classmethod
    def get(cls) -> _EspeakEngine:
        """The shared engine; callers must hold ``lock``."""
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def _on_audio(self, wav: Any, count: int, events: Any) -> int:
        if wav and count > 0:
            self.samples.frombytes(ctypes.string_at(wav, count * 2))
        index = 0
        while events[index].type != _EVENT_LIST_TERMINATED:
            event = events[index]
            if event.type == _EVENT_WORD:
                self.events.append((event.text_position, event.length, event.audio_position))
            index += 1
        ctx = self.deadline_check
        if ctx is not None and ctx.remaining() <= 0:
            return 1  # non-zero asks espeak to abandon the utterance
        if self.cancel is not None and self.cancel.is_set():
            return 1
        return 0

    def voices(self) -> list[str]:
        listing = self.lib.espeak_ListVoices(None)
        names: set[str] = set()
        index = 0
        while listing[index]:
            address = listing[index].contents.languages
            while address and ctypes.c_ubyte.from_address(address).value != 0:
                language = ctypes.string_at(address + 1)
                names.add(language.decode("utf-8", "replace"))
                address += len(language) + 2
            index += 1
        return sorted(names)


_SILENCE_PEAK = 400  # of 32767: below this a 10 ms frame counts as a pause between words
_FRAME_SECONDS = 0.01
_TAIL_PAD = 0.12  # keep a breath after the last word so the audio does not end abruptly


class EspeakTTS:
    """Offline speech with espeak-ng; word starts come from espeak's own word events.

    espeak reports when each word starts, not when it ends, so a word ends at the last
    non-silent 10 ms frame before the next word starts (pauses at commas and full stops are not
    counted as speech). Sentences are groups of words split at sentence punctuation. The WAV is
    22.05 kHz mono 16-bit, trimmed to the last word plus a short pause. Cost is 0.
    """

    name = "espeak"

    def list_voices(self) -> list[str]:
        """Language voices espeak-ng knows (``en-us``, ``en-gb``, ``fr``...); ``+f3``-style
        variants may be appended to any of them."""
        with _EspeakEngine.lock:
            return _EspeakEngine.get().voices()

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
        if ctx is not None:
            ctx.check_cancelled()
        with _EspeakEngine.lock:
            engine = _EspeakEngine.get()
            status = engine.lib.espeak_SetVoiceByName(voice.encode("utf-8"))
            if status != _EE_OK:
                known = engine.voices()
                close = difflib.get_close_matches(voice.lower(), known, n=3)
                hint = f" Did you mean {', '.join(close)}?" if close else ""
                raise FatalStageError(
                    f"espeak voice {voice!r} not found.{hint} List voices with: python -c "
                    '"from vidgen.media.tts import EspeakTTS; print(EspeakTTS().list_voices())"'
                )
            engine.lib.espeak_SetParameter(_ESPEAK_RATE, max(80, min(450, int(rate))), 0)
            engine.samples = array("h")
            engine.events = []
            engine.cancel = ctx.cancel if ctx is not None else None
            engine.deadline_check = ctx
            try:
                encoded = text.encode("utf-8")
                code = engine.lib.espeak_Synth(
                    encoded, len(encoded) + 1, 0, _POS_CHARACTER, 0, _ESPEAK_CHARS_UTF8, None, None
                )
            finally:
                engine.cancel = None
                engine.deadline_check = None
            samples, events, sample_rate = engine.samples, engine.events, engine.sample_rate
        if ctx is not None:
            ctx.check_cancelled()
        if code != _EE_OK:
            raise StageError(f"espeak-ng synthesis failed (code {code})")
        spans = self._spans(text, events, samples, sample_rate) if samples else []
        if not spans:
            raise StageError("espeak-ng produced no audio or words for the voiceover script")
        keep = min(len(samples), int((spans[-1].end + _TAIL_PAD) * sample_rate))
        del samples[keep:]
        return _publish(text, out_path, samples.tobytes(), sample_rate, spans, self.name, voice)

    @staticmethod
    def _spans(
        text: str, events: list[tuple[int, int, int]], samples: array[int], sample_rate: int
    ) -> list[_Span]:
        # espeak emits several word events for one written token it expands ("2024" is spoken
        # as "twenty twenty four", all pointing inside the same characters): merge them.
        merged: list[tuple[int, int, float]] = []
        for position, length, millis in events:
            first = max(0, position - 1)
            if merged and first < merged[-1][1]:
                continue
            last = min(len(text), first + max(1, length))
            if not text[first:last].strip():
                continue  # a caption word must show something
            merged.append((first, last, millis / 1000.0))
        total = len(samples) / sample_rate
        frame = max(1, int(_FRAME_SECONDS * sample_rate))
        spans: list[_Span] = []
        for index, (first, last, start) in enumerate(merged):
            limit = merged[index + 1][2] if index + 1 < len(merged) else total
            start = min(start, total)
            end = _last_voiced(samples, start, limit, sample_rate, frame)
            spans.append(_Span(first, last, round(start, 3), round(max(end, start + 0.01), 3)))
        return spans


def _last_voiced(samples: array[int], start: float, limit: float, rate: int, frame: int) -> float:
    """End (s) of the last loud frame in [start, limit); ``limit`` if the word never goes quiet."""
    lo = int(start * rate)
    position = int(limit * rate)
    while position - frame >= lo:
        chunk = samples[position - frame : position]
        if max(chunk) > _SILENCE_PEAK or -min(chunk) > _SILENCE_PEAK:
            return position / rate
        position -= frame
    return min(limit, start + 0.05)


# --------------------------------------------------------------------------------------------
# OpenAI speech API

OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
OPENAI_VOICES: tuple[str, ...] = (
    "alloy", "ash", "ballad", "cedar", "coral", "echo", "fable",
    "marin", "nova", "onyx", "sage", "shimmer", "verse",
)  # fmt: skip
# USD per 1M input characters, OpenAI's published price for the tts models.
OPENAI_TTS_PRICE_PER_MCHAR: dict[str, float] = {"tts-1": 15.0, "tts-1-hd": 30.0}
# gpt-4o-mini-tts is billed per token; OpenAI quotes about $0.015 per minute of audio.
OPENAI_TTS_PRICE_PER_MINUTE: dict[str, float] = {"gpt-4o-mini-tts": 0.015}
OPENAI_KEY_ENV = "VIDGEN_OPENAI_API_KEY"
_OPENAI_CREDENTIAL = Credential(
    "OpenAI TTS",
    "API key",
    OPENAI_KEY_ENV,
    request_fix="check voice.name and VIDGEN_OPENAI_TTS_MODEL",
)
_MAX_AUDIO_BYTES = 64 * 1024 * 1024
_OUTPUT_RATE = 24000  # OpenAI's native rate; resampling would only add a step
_WORDS_PER_MINUTE_AT_SPEED_1 = 165.0


class OpenAITTS:
    """Speech from OpenAI's ``POST /audio/speech`` (``response_format: wav``).

    Configuration: ``VIDGEN_OPENAI_API_KEY`` (required), ``VIDGEN_OPENAI_BASE_URL`` (default
    ``https://api.openai.com/v1``), ``VIDGEN_OPENAI_TTS_MODEL`` (default ``tts-1``). ``voice`` is
    an OpenAI voice name (``alloy``, ``nova``...); ``rate`` maps to ``speed = rate / 165``.
    The request follows ``vidgen.outgoing``'s rules: 429/5xx and timeouts retried (honouring
    Retry-After), 401/403 fatal naming the key variable, the audio capped at 64 MB.

    The API returns audio only, no timings, so word timings are ESTIMATED: the clip is divided
    among the words in proportion to their length in characters, with short pauses at commas and
    longer ones at sentence ends. Captions follow speech closely enough for short videos but can
    drift by a few hundred milliseconds in long sentences.

    Cost: ``tts-1`` $15 and ``tts-1-hd`` $30 per million characters; ``gpt-4o-mini-tts`` about
    $0.015 per minute of audio; other models are priced like ``tts-1`` (an estimate).
    """

    name = "openai"

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        model: str | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Sleep | None = None,
        policy: RetryPolicy = RetryPolicy(),
    ) -> None:
        self._api_key = api_key
        self._base_url = base_url
        self._model = model
        self._transport = transport
        self._sleep = sleep
        self._policy = policy

    @property
    def model(self) -> str:
        return self._model or os.environ.get("VIDGEN_OPENAI_TTS_MODEL") or "tts-1"

    def estimate_cost(self, text: str, rate: int) -> float:
        """What ``synthesize`` will cost, before calling it (per character, or per minute at
        ``rate`` words per minute), for budget checks."""
        model = self.model
        if model in OPENAI_TTS_PRICE_PER_MINUTE:
            minutes = len(text.split()) / max(rate, 1)
            return round(OPENAI_TTS_PRICE_PER_MINUTE[model] * minutes, 6)
        return round(OPENAI_TTS_PRICE_PER_MCHAR.get(model, 15.0) * len(text) / 1_000_000, 6)

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
        api_key = require_key(
            self._api_key, OPENAI_KEY_ENV, "OpenAI TTS", "use providers.tts: espeak"
        )
        if voice.lower() not in OPENAI_VOICES:
            raise FatalStageError(
                f"OpenAI TTS voice {voice!r} is not an OpenAI voice; set config voice.name to one "
                f"of: {', '.join(OPENAI_VOICES)}"
            )
        base = (
            self._base_url or os.environ.get("VIDGEN_OPENAI_BASE_URL") or OPENAI_DEFAULT_BASE_URL
        ).rstrip("/")
        model = self.model
        speed = max(0.25, min(4.0, rate / _WORDS_PER_MINUTE_AT_SPEED_1))
        out_path.parent.mkdir(parents=True, exist_ok=True)
        raw = temp_sibling(out_path.with_suffix(".download"))
        try:
            with httpx.Client(timeout=default_timeout(read=120.0), transport=self._transport) as c:
                download(
                    c,
                    f"{base}/audio/speech",
                    raw,
                    method="POST",
                    json={
                        "model": model,
                        "input": text,
                        "voice": voice.lower(),
                        "response_format": "wav",
                        "speed": round(speed, 3),
                    },
                    headers={"Authorization": f"Bearer {api_key}"},
                    credential=_OPENAI_CREDENTIAL,
                    max_bytes=_MAX_AUDIO_BYTES,
                    what="audio",
                    sleep=self._sleep,
                    policy=self._policy,
                    ctx=ctx,
                )
            # Re-encode to a plain PCM WAV: streamed WAV responses can carry placeholder sizes in
            # their header that the ``wave`` module and some players misread.
            tmp = temp_sibling(out_path)
            try:
                ffmpeg.run(
                    ["-i", str(raw), "-vn", "-ac", "1", "-ar", str(_OUTPUT_RATE),
                     "-c:a", "pcm_s16le", "-f", "wav", str(tmp)],
                    ctx=ctx,
                    what="decoding the OpenAI speech audio",
                )  # fmt: skip
                duration = _wav_duration(tmp)
                os.replace(tmp, out_path)
            finally:
                tmp.unlink(missing_ok=True)
        finally:
            raw.unlink(missing_ok=True)
        if duration <= 0:
            raise StageError("OpenAI TTS returned empty audio")
        spans = _clamp(_estimate_spans(text, duration), duration)
        if model in OPENAI_TTS_PRICE_PER_MINUTE:
            cost = OPENAI_TTS_PRICE_PER_MINUTE[model] * duration / 60.0
        else:
            cost = OPENAI_TTS_PRICE_PER_MCHAR.get(model, 15.0) * len(text) / 1_000_000
        return Voiceover(
            path=out_path,
            duration=duration,
            words=_words(text, spans),
            sentences=_sentences(text, spans),
            provider=self.name,
            model=model,
            cost=round(cost, 6),
        )


@dataclass(frozen=True)
class VoiceChoice:
    """Which provider speaks a job, with which voice, and why if that is not what was asked."""

    provider: str
    voice: str
    note: str | None = None


DEFAULT_VOICE = "en-us"


def choose_voice(provider: str, voice: str, language: str) -> VoiceChoice:
    """The provider and voice for ``providers.tts``, ``voice.name`` and ``language``.

    The default ``voice.name`` (``en-us``) means "the language's voice": with ``language: fr``
    it asks for French. Piper speaks it when an installed voice does; otherwise espeak-ng, which
    has voices for about a hundred languages, takes over and ``note`` says so (the stage logs
    it). A named Piper voice or ``.onnx`` path is never swapped for another engine.
    """
    wanted = voice
    if voice.lower() == DEFAULT_VOICE and not language.lower().startswith("en"):
        wanted = language
    if provider != "piper":
        return VoiceChoice(provider, wanted if provider == "espeak" else voice)
    from vidgen.media.piper_tts import resolve_voice

    try:
        resolve_voice(wanted)
    except FatalStageError:
        explicit = wanted.endswith(".onnx") or "/" in wanted or "\\" in wanted
        if explicit:
            raise
        known = EspeakTTS().list_voices()
        if wanted.lower() not in known:
            raise
        return VoiceChoice(
            "espeak",
            wanted.lower(),
            f"no installed Piper voice speaks {wanted!r}; using espeak-ng's {wanted.lower()!r} "
            "voice instead (set voice.name to a Piper .onnx voice for a natural one)",
        )
    return VoiceChoice("piper", wanted)


def get_tts(name: str) -> TTSProvider:
    """The provider named in ``providers.tts``: ``piper`` (offline neural voice, the default),
    ``espeak`` (offline, robotic, about a hundred languages) or ``openai``."""
    if name == "espeak":
        return EspeakTTS()
    if name == "openai":
        return OpenAITTS()
    if name == "piper":
        # Imported here: numpy/onnxruntime are heavy, and `vidgen status` must start instantly.
        from vidgen.media.piper_tts import PiperTTS

        return PiperTTS()
    raise FatalStageError(f"unknown TTS provider {name!r}; use 'espeak', 'piper' or 'openai'")
