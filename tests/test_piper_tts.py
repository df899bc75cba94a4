"""The neural offline voice (``providers.tts: piper``): real Piper synthesis with the bundled voice.

The contract test in test_tts.py covers what every provider promises; these cover what is
Piper's own: finding voices, word timings from phoneme alignments, and the fallbacks.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import wave
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from vidgen.errors import FatalStageError, StageTimeout
from vidgen.media import piper_tts
from vidgen.media.piper_tts import (
    PiperTTS,
    _sentence_ranges,
    _spoken_words,
    _written_words,
    installed_voices,
    resolve_voice,
)
from vidgen.media.tts import get_tts

SCRIPT = "Meet the new desk lamp. It charges your phone, dims itself at night, and costs $49!"
BUNDLED = "en_US-joe-medium"


def test_the_base_install_ships_an_english_voice() -> None:
    voices = installed_voices()
    assert [v.name for v in voices] == [BUNDLED]
    assert voices[0].language == "en_US"
    assert voices[0].model.stat().st_size > 10_000_000  # a real model, not a pointer file
    assert PiperTTS().list_voices() == [BUNDLED]


@pytest.mark.parametrize("name", [BUNDLED, "joe", "en-us", "EN_us"])
def test_a_voice_is_found_by_name_speaker_or_language(name: str) -> None:
    assert resolve_voice(name).name == BUNDLED


def test_unknown_voice_is_fatal_and_lists_the_installed_ones() -> None:
    with pytest.raises(FatalStageError) as caught:
        resolve_voice("fr-fr")
    assert "'fr-fr'" in str(caught.value) and f"{BUNDLED} (en_US)" in str(caught.value)


def test_a_voice_file_is_used_from_its_path_and_needs_its_config(tmp_path: Path) -> None:
    bundled = resolve_voice(BUNDLED)
    model = tmp_path / "custom-voice.onnx"
    model.symlink_to(bundled.model)
    with pytest.raises(FatalStageError, match=r"needs its config custom-voice\.onnx\.json"):
        resolve_voice(str(model))
    shutil.copy(bundled.config, tmp_path / "custom-voice.onnx.json")
    found = resolve_voice(str(model))
    assert (found.name, found.model, found.language) == ("custom-voice", model, "en_US")
    with pytest.raises(FatalStageError, match=r"not found; check voice\.name"):
        resolve_voice(str(tmp_path / "missing.onnx"))


def test_a_broken_install_says_what_to_reinstall(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(piper_tts, "VOICE_PACKAGES", ("no_such_voice_package",))
    with pytest.raises(FatalStageError, match=r"reinstall vidgen \(pip install vidgen\)"):
        resolve_voice("en-us")
    monkeypatch.setitem(sys.modules, "piper", None)  # as if piper-tts were not installed
    voice = piper_tts.PiperVoiceFile("x", Path("x.onnx"), Path("x.onnx.json"), "en_US")
    with pytest.raises(FatalStageError, match=r"needs piper-tts; reinstall vidgen"):
        piper_tts.load_voice(voice)


def test_words_are_timed_from_phoneme_alignments(tmp_path: Path) -> None:
    out = tmp_path / "v.wav"
    result = PiperTTS().synthesize(
        'Meet the new desk lamp. In 2024, "sales" doubled!', out, voice="en-us", rate=165
    )
    words = [w.text for w in result.words]
    # Quotes and punctuation stay out of caption words; "2024" is four spoken words but one
    # caption word, and the words after it still line up.
    assert words == ["Meet", "the", "new", "desk", "lamp", "In", "2024", "sales", "doubled"]
    timings = {w.text: w for w in result.words}
    assert timings["2024"].end - timings["2024"].start > 0.8  # "two thousand twenty four"
    assert timings["the"].end - timings["the"].start < 0.3
    # The sentence break is a pause, not part of "lamp" or "In"; a comma pauses too.
    assert timings["In"].start - timings["lamp"].end > 0.1
    assert timings["sales"].start - timings["2024"].end > 0.05
    assert result.model == BUNDLED and result.cost == 0.0
    assert abs(result.duration - result.words[-1].end) <= 0.3
    with wave.open(str(out)) as handle:
        assert handle.getframerate() == 22050


def test_the_aligned_voice_is_patched_once_and_loaded_from_the_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    voice = resolve_voice(BUNDLED)
    folder = tmp_path / "cache" / "vidgen" / "piper"
    folder.mkdir(parents=True)
    stale = folder / f"{voice.model.stem}-1-2.onnx"  # left by an earlier install of the voice
    other = folder / "another-voice-1-2.onnx"
    stale.write_bytes(b"old")
    other.write_bytes(b"kept")
    first = PiperTTS().synthesize(SCRIPT, tmp_path / "a.wav", voice="en-us", rate=165)
    assert not stale.exists() and other.read_bytes() == b"kept"
    (cached,) = folder.glob(f"{voice.model.stem}-*.onnx")
    assert cached.name.startswith(voice.model.stem) and cached.stat().st_size > 50_000_000
    patched_at = cached.stat().st_mtime_ns
    second = PiperTTS().synthesize(SCRIPT, tmp_path / "b.wav", voice="en-us", rate=165)
    assert cached.stat().st_mtime_ns == patched_at  # loaded from the cache, not patched again
    # The same take from the cached model: the voice's noise is seeded, so a script always
    # sounds the same (a retried job keeps its voice and timings).
    assert [w.text for w in second.words] == [w.text for w in first.words]
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()
    assert second.words == first.words


def test_a_cache_that_cannot_be_written_still_speaks(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    result = PiperTTS().synthesize(SCRIPT, tmp_path / "v.wav", voice="en-us", rate=165)
    assert [w.text for w in result.words][:5] == ["Meet", "the", "new", "desk", "lamp"]


def test_the_voice_child_imports_no_pydantic() -> None:
    """The voice's process is the job's memory peak (~300 MB beside vidgen's ~80 MB, against
    a 400 MB budget): pydantic would add ~19 MB to it for nothing."""
    probe = "import sys, vidgen.media.piper_tts; print('pydantic' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_rate_changes_speed(tmp_path: Path) -> None:
    slow = PiperTTS().synthesize(SCRIPT, tmp_path / "slow.wav", voice="en-us", rate=120)
    fast = PiperTTS().synthesize(SCRIPT, tmp_path / "fast.wav", voice="en-us", rate=260)
    assert fast.duration < slow.duration * 0.7


def test_a_voice_without_alignments_falls_back_to_estimates_per_sentence(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from piper import PiperVoice

    loaded = PiperVoice.load(resolve_voice(BUNDLED).model)  # no alignment output
    monkeypatch.setattr(piper_tts, "load_voice", lambda voice: loaded)
    result = PiperTTS(in_process=True).synthesize(
        SCRIPT, tmp_path / "v.wav", voice="en-us", rate=165
    )
    assert [w.text for w in result.words][:5] == ["Meet", "the", "new", "desk", "lamp"]
    first, second = result.sentences
    assert first.text == "Meet the new desk lamp." and second.text.endswith("$49!")
    # Sentences still start where their audio starts: each one is synthesized on its own.
    # ... and words share only its voiced part, not the silence around it.
    assert 0.0 < first.start < 0.3 and second.start >= first.end
    assert 0.0 < result.duration - result.words[-1].end <= 0.125


def test_cancellation_between_sentences_leaves_no_file(tmp_path: Path) -> None:
    class Ctx:
        calls = 0

        def check_cancelled(self) -> None:
            self.calls += 1
            if self.calls == 3:  # before load, before sentence 1, before sentence 2
                raise StageTimeout("stopped")

        def remaining(self) -> float:
            return float("inf")

    out = tmp_path / "audio" / "v.wav"
    with pytest.raises(StageTimeout):
        PiperTTS(in_process=True).synthesize(SCRIPT, out, voice="en-us", rate=165, ctx=Ctx())  # type: ignore[arg-type]
    assert not out.exists()


def test_the_voice_runs_in_a_child_that_a_cancel_kills(tmp_path: Path) -> None:
    import threading
    import time

    from vidgen.cancel_token import Deadline

    token = Deadline.after(60)
    threading.Timer(0.3, token.cancel.set).start()  # while the child is still loading
    out = tmp_path / "v.wav"
    started = time.monotonic()
    with pytest.raises(StageTimeout, match="Piper voice was stopped"):
        PiperTTS().synthesize(SCRIPT * 20, out, voice="en-us", rate=165, ctx=token)
    assert time.monotonic() - started < 2.0
    assert not out.exists() and list(tmp_path.iterdir()) == []  # no temporary file either


def test_the_caller_never_loads_the_model(tmp_path: Path) -> None:
    """The memory budget: the ~200 MB voice lives and dies in the child, never in the worker."""
    import subprocess

    code = (
        "import sys; from pathlib import Path; from vidgen.media.piper_tts import PiperTTS; "
        f"v = PiperTTS().synthesize({SCRIPT!r}, Path(sys.argv[1]), voice='en-us', rate=165); "
        "print(len(v.words), 'onnxruntime' in sys.modules, 'piper' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "v.wav")],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    words, onnx_here, piper_here = done.stdout.split()
    assert int(words) > 10 and (onnx_here, piper_here) == ("False", "False")


def test_a_child_error_comes_back_as_the_same_kind_of_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    (tmp_path / "bad.onnx.json").write_text(
        (resolve_voice(BUNDLED).config).read_text(encoding="utf-8"), encoding="utf-8"
    )
    with pytest.raises(FatalStageError, match=r"Piper could not load voice bad\.onnx"):
        PiperTTS().synthesize(SCRIPT, tmp_path / "v.wav", voice=str(bad), rate=165)


def test_empty_script_is_fatal(tmp_path: Path) -> None:
    with pytest.raises(FatalStageError, match="empty"):
        get_tts("piper").synthesize(" \n", tmp_path / "x.wav", voice="en-us", rate=165)


# --- the pieces, on fixed data -------------------------------------------------------------------


def test_sentences_split_at_closing_punctuation_only() -> None:
    text = 'It costs 24.99 today. "Really?" Yes… and more'
    assert [text[a:b] for a, b in _sentence_ranges(text)] == [
        "It costs 24.99 today.",
        '"Really?"',
        "Yes…",
        "and more",
    ]


def test_written_words_drop_quotes_and_punctuation_alone() -> None:
    text = '"Wow," she said — (really) $49!'
    assert [text[a:b] for a, b in _written_words(text, 0, len(text))] == [
        "Wow",
        "she",
        "said",
        "really",
        "$49",
    ]


def test_spoken_words_skip_markers_punctuation_and_separators() -> None:
    def a(phoneme: str, samples: int) -> Any:
        return SimpleNamespace(phoneme=phoneme, num_samples=samples)

    alignments = [a("^", 100), a("h", 50), a("i", 50), a(" ", 30), a("j", 40), a("o", 60),
                  a(",", 200), a(" ", 20), a("x", 10), a("$", 5)]  # fmt: skip
    words, total = _spoken_words(alignments)
    assert words == [(100, 200), (230, 330), (550, 560)]
    assert total == 565


def test_a_missing_voice_file_is_refused_at_generate_saying_what_to_fix(
    cli: Any, home: Path, tmp_path: Path
) -> None:
    from vidgen.config import packaged_config_path

    config = packaged_config_path().read_text()
    assert "tts: piper " in config  # the default voice
    config = config.replace("name: en-us ", "name: voices/missing.onnx ")
    (tmp_path / "theme.yml").write_text(config)
    result = cli("generate", "--config", str(tmp_path / "theme.yml"), "--wait")
    # Checked before anything is queued: a usage error naming the file, and no job.
    assert result.code == 2
    assert "missing.onnx: file not found" in result.err
    assert cli("jobs", "--json").json()["count"] == 0


def test_long_sentences_are_spoken_in_clauses_short_ones_whole() -> None:
    """Piper's memory grows with the audio of one call (~35 MB a second): a long sentence is
    cut after its clauses (or before "while", "and"... when it has none), a short one never."""
    from vidgen.media.piper_tts import _synthesis_ranges

    text = (
        "Meet the new desk lamp. Warm light in the evening and cool light for deep work, "
        "with one touch to switch between reading and screen modes while it charges your phone."
    )
    assert [text[a:b] for a, b in _synthesis_ranges(text)] == [
        "Meet the new desk lamp.",
        "Warm light in the evening and cool light for deep work,",
        "with one touch to switch between reading and screen modes",
        "while it charges your phone.",
    ]
    plain = "One two three four five six seven eight nine ten eleven twelve thirteen."
    assert _synthesis_ranges(plain) == [(0, len(plain))]  # nowhere natural to cut: whole


def test_a_long_sentence_keeps_every_word_and_one_sentence(tmp_path: Path) -> None:
    text = (
        "Warm light in the evening and cool light for deep work, with one touch to switch "
        "between reading and screen modes while it charges your phone."
    )
    result = PiperTTS(in_process=True).synthesize(text, tmp_path / "v.wav", voice="en-us", rate=165)
    assert [w.text for w in result.words] == [w.strip(",.") for w in text.split()]
    assert len(result.sentences) == 1 and result.sentences[0].text == text
    starts = [w.start for w in result.words]
    assert starts == sorted(starts)
