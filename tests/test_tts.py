"""Speech providers: real espeak-ng and Piper synthesis, OpenAI only through recorded responses."""

from __future__ import annotations

import json
import threading
import wave
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import respx

from httpkit import SleepRecorder
from vidgen.errors import FatalStageError, StageError
from vidgen.media import tts as tts_module
from vidgen.media.piper_tts import PiperTTS
from vidgen.media.tts import (
    EspeakTTS,
    OpenAITTS,
    TTSProvider,
    VoiceChoice,
    Voiceover,
    _estimate_spans,
    get_tts,
)

FIXTURES = Path(__file__).parent / "fixtures" / "http"
SPEECH_URL = "https://api.openai.com/v1/audio/speech"
SCRIPT = "Meet the new desk lamp. It charges your phone, dims itself at night, and costs $49!"


def read_wav(path: Path) -> tuple[float, int, array[int]]:
    with wave.open(str(path), "rb") as handle:
        assert handle.getnchannels() == 1 and handle.getsampwidth() == 2
        rate = handle.getframerate()
        samples = array("h", handle.readframes(handle.getnframes()))
    return len(samples) / rate, rate, samples


def assert_voiceover_contract(result: Voiceover, out: Path) -> None:
    assert result.path == out and out.is_file()
    duration, rate, samples = read_wav(out)
    assert rate in (22050, 24000, 48000)
    assert abs(result.duration - duration) < 0.01
    assert max(abs(s) for s in samples) > 1000, "audio should not be silent"
    assert result.words, "there should be word timings"
    previous = 0.0
    for word in result.words:
        assert word.text.strip()
        assert previous <= word.start < word.end <= result.duration + 1e-6
        previous = word.start
    assert result.sentences
    assert result.sentences[0].start == result.words[0].start
    assert result.sentences[-1].end == result.words[-1].end
    assert all(s.start < s.end for s in result.sentences)
    assert result.cost >= 0
    # Written atomically: no temporary siblings survive.
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]


@pytest.fixture
def openai_speech(monkeypatch: pytest.MonkeyPatch) -> Iterator[respx.MockRouter]:
    monkeypatch.setenv("VIDGEN_OPENAI_API_KEY", "sk-test")
    monkeypatch.delenv("VIDGEN_OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("VIDGEN_OPENAI_TTS_MODEL", raising=False)
    body = (FIXTURES / "openai_speech_hello.wav").read_bytes()
    with respx.mock(assert_all_called=False) as router:
        router.post(SPEECH_URL).respond(200, content=body, headers={"content-type": "audio/wav"})
        yield router


# --- the shared contract, over every provider --------------------------------------------------

PROVIDERS: dict[str, tuple[Callable[[], TTSProvider], str]] = {
    "espeak": (EspeakTTS, "en-us"),
    "openai": (OpenAITTS, "alloy"),
    "piper": (PiperTTS, "en-us"),
}


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_every_tts_provider_keeps_the_contract(
    name: str, openai_speech: respx.MockRouter, tmp_path: Path
) -> None:
    make, voice = PROVIDERS[name]
    provider = make()
    assert isinstance(provider, TTSProvider)
    assert provider.name == name
    assert type(get_tts(name)) is type(provider)
    out = tmp_path / "audio" / "voiceover.wav"
    result = provider.synthesize(SCRIPT, out, voice=voice, rate=170)
    assert_voiceover_contract(result, out)
    assert result.provider == name
    assert [s.text for s in result.sentences] == [
        "Meet the new desk lamp.",
        "It charges your phone, dims itself at night, and costs $49!",
    ]


# --- espeak -------------------------------------------------------------------------------------


def test_espeak_words_follow_the_script_and_end_with_the_audio(tmp_path: Path) -> None:
    out = tmp_path / "v.wav"
    result = EspeakTTS().synthesize(SCRIPT, out, voice="en-us", rate=165)
    assert_voiceover_contract(result, out)
    assert [w.text for w in result.words][:5] == ["Meet", "the", "new", "desk", "lamp"]
    # "$49" is spoken as several words but stays one caption word.
    assert result.words[-1].text.endswith("49")
    assert abs(result.duration - result.words[-1].end) <= 0.3
    assert result.cost == 0.0 and result.model == "en-us"
    # The pause after the first sentence is not counted as part of "lamp".
    assert result.words[5].start - result.words[4].end > 0.1


def test_espeak_rate_changes_speed(tmp_path: Path) -> None:
    slow = EspeakTTS().synthesize(SCRIPT, tmp_path / "slow.wav", voice="en-us", rate=120)
    fast = EspeakTTS().synthesize(SCRIPT, tmp_path / "fast.wav", voice="en-us", rate=300)
    assert fast.duration < slow.duration * 0.7


def test_espeak_handles_non_ascii_text(tmp_path: Path) -> None:
    result = EspeakTTS().synthesize(
        "Café crème, très bien. Voilà!", tmp_path / "fr.wav", voice="fr", rate=160
    )
    assert [w.text for w in result.words] == ["Café", "crème", "très", "bien", "Voilà"]
    assert [s.text for s in result.sentences] == ["Café crème, très bien.", "Voilà!"]


def test_espeak_unknown_voice_is_fatal_and_says_how_to_list(tmp_path: Path) -> None:
    with pytest.raises(FatalStageError) as caught:
        EspeakTTS().synthesize("Hello.", tmp_path / "x.wav", voice="en-usa", rate=165)
    message = str(caught.value)
    assert "'en-usa'" in message and "list_voices" in message and "en-us" in message
    assert not (tmp_path / "x.wav").exists()


def test_espeak_lists_voices() -> None:
    voices = EspeakTTS().list_voices()
    assert {"en-us", "en-gb", "fr", "de"} <= set(voices)


def test_espeak_is_safe_from_several_threads(tmp_path: Path) -> None:
    results: dict[int, Voiceover] = {}
    errors: list[BaseException] = []

    def speak(index: int) -> None:
        try:
            text = f"Thread number {index} says hello."
            results[index] = EspeakTTS().synthesize(
                text, tmp_path / f"{index}.wav", voice="en-us", rate=200
            )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=speak, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    for index, result in results.items():
        assert [w.text for w in result.words][:3] == ["Thread", "number", str(index)]


def test_empty_script_is_fatal(tmp_path: Path) -> None:
    with pytest.raises(FatalStageError, match="empty"):
        EspeakTTS().synthesize("   ", tmp_path / "x.wav", voice="en-us", rate=165)


# --- OpenAI -------------------------------------------------------------------------------------


def test_openai_request_and_estimated_timings(
    openai_speech: respx.MockRouter, tmp_path: Path
) -> None:
    out = tmp_path / "o.wav"
    result = OpenAITTS().synthesize("Hello there. Ready?", out, voice="Nova", rate=165)
    assert_voiceover_contract(result, out)
    request = openai_speech.calls[0].request
    assert request.headers["Authorization"] == "Bearer sk-test"
    sent = json.loads(request.content)
    assert sent == {
        "model": "tts-1",
        "input": "Hello there. Ready?",
        "voice": "nova",
        "response_format": "wav",
        "speed": 1.0,
    }
    assert [w.text for w in result.words] == ["Hello", "there", "Ready"]
    assert abs(result.words[-1].end - result.duration) < 0.01
    assert result.model == "tts-1"
    assert result.cost == pytest.approx(15.0 * len("Hello there. Ready?") / 1e6)


def test_openai_base_url_and_model_from_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VIDGEN_OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("VIDGEN_OPENAI_BASE_URL", "http://llm.internal:8080/v1/")
    monkeypatch.setenv("VIDGEN_OPENAI_TTS_MODEL", "tts-1-hd")
    body = (FIXTURES / "openai_speech_hello.wav").read_bytes()
    with respx.mock() as router:
        route = router.post("http://llm.internal:8080/v1/audio/speech").respond(200, content=body)
        result = OpenAITTS().synthesize("Hi.", tmp_path / "o.wav", voice="alloy", rate=330)
    assert json.loads(route.calls[0].request.content)["speed"] == 2.0
    assert result.model == "tts-1-hd"
    assert result.cost == pytest.approx(30.0 * 3 / 1e6)


def test_openai_rejected_key_is_fatal_and_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VIDGEN_OPENAI_API_KEY", "sk-wrong")
    body = json.loads((FIXTURES / "openai_speech_error_401.json").read_text())
    with respx.mock() as router:
        router.post(SPEECH_URL).respond(401, json=body)
        with pytest.raises(FatalStageError, match="VIDGEN_OPENAI_API_KEY"):
            OpenAITTS().synthesize("Hello.", tmp_path / "x.wav", voice="alloy", rate=165)
    assert list(tmp_path.iterdir()) == []


def test_openai_missing_key_or_bad_voice_is_fatal(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("VIDGEN_OPENAI_API_KEY", raising=False)
    with pytest.raises(FatalStageError, match="VIDGEN_OPENAI_API_KEY"):
        OpenAITTS().synthesize("Hello.", tmp_path / "x.wav", voice="alloy", rate=165)
    monkeypatch.setenv("VIDGEN_OPENAI_API_KEY", "sk-test")
    with pytest.raises(FatalStageError, match="en-us"):
        OpenAITTS().synthesize("Hello.", tmp_path / "x.wav", voice="en-us", rate=165)


@pytest.mark.parametrize(
    "response", [httpx.Response(429, json={"error": {"message": "slow down"}}),
                 httpx.Response(500), httpx.ReadTimeout("slow")]
)  # fmt: skip
def test_openai_transient_failures_are_retryable(
    response: httpx.Response | Exception,
    monkeypatch: pytest.MonkeyPatch,
    sleeps: SleepRecorder,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("VIDGEN_OPENAI_API_KEY", "sk-test")
    with respx.mock() as router:
        route = router.post(SPEECH_URL)
        if isinstance(response, Exception):
            route.mock(side_effect=response)
        else:
            route.mock(return_value=response)
        with pytest.raises(StageError) as caught:
            OpenAITTS(sleep=sleeps).synthesize(
                "Hello.", tmp_path / "x.wav", voice="alloy", rate=165
            )
    assert not isinstance(caught.value, FatalStageError)
    # The shared rule: a bounded number of tries with backoff, then the stage's own retry.
    assert route.call_count == 4 and sleeps.calls == [1.0, 2.0, 4.0]
    assert "4 times in a row" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_openai_waits_for_retry_after_then_succeeds(
    openai_speech: respx.MockRouter, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    body = (FIXTURES / "openai_speech_hello.wav").read_bytes()
    limited = httpx.Response(
        429, json=json.loads((FIXTURES / "openai_error_429.json").read_text()),
        headers={"retry-after": "7"},
    )  # fmt: skip
    openai_speech.post(SPEECH_URL).mock(side_effect=[limited, httpx.Response(200, content=body)])
    out = tmp_path / "o.wav"
    result = OpenAITTS(sleep=sleeps).synthesize("Hello there.", out, voice="alloy", rate=165)
    assert_voiceover_contract(result, out)
    assert sleeps.calls == [7.0]


def test_openai_rejected_request_is_fatal_with_the_api_message(
    monkeypatch: pytest.MonkeyPatch, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    monkeypatch.setenv("VIDGEN_OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("VIDGEN_OPENAI_TTS_MODEL", "tts-9")
    with respx.mock() as router:
        route = router.post(SPEECH_URL).respond(
            400, json={"error": {"message": "Unknown model tts-9", "type": "invalid_request"}}
        )
        with pytest.raises(FatalStageError, match=r"HTTP 400: Unknown model tts-9.*TTS_MODEL"):
            OpenAITTS(sleep=sleeps).synthesize("Hi.", tmp_path / "x.wav", voice="alloy", rate=165)
    assert route.call_count == 1 and sleeps.calls == []
    assert list(tmp_path.iterdir()) == []


def test_openai_oversize_audio_is_refused_and_leaves_nothing(
    monkeypatch: pytest.MonkeyPatch, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    monkeypatch.setenv("VIDGEN_OPENAI_API_KEY", "sk-test")
    monkeypatch.setattr(tts_module, "_MAX_AUDIO_BYTES", 1000)
    body = (FIXTURES / "openai_speech_hello.wav").read_bytes()
    assert len(body) > 1000

    def chunked(request: httpx.Request) -> httpx.Response:
        # No Content-Length: the cap must hold while streaming, not only on the header.
        return httpx.Response(200, stream=httpx.ByteStream(body), headers={})

    with respx.mock() as router:
        router.post(SPEECH_URL).mock(side_effect=chunked)
        with pytest.raises(StageError, match="larger than 1000 bytes"):
            OpenAITTS(sleep=sleeps).synthesize(
                "Hello.", tmp_path / "a" / "x.wav", voice="alloy", rate=165
            )
    assert list((tmp_path / "a").iterdir()) == []


def test_openai_garbage_audio_is_retryable_and_leaves_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VIDGEN_OPENAI_API_KEY", "sk-test")
    with respx.mock() as router:
        router.post(SPEECH_URL).respond(200, content=b"<html>gateway hiccup</html>")
        with pytest.raises(StageError):
            OpenAITTS().synthesize("Hello.", tmp_path / "x.wav", voice="alloy", rate=165)
    assert list(tmp_path.iterdir()) == []


def test_estimated_timings_pause_at_punctuation() -> None:
    spans = _estimate_spans("One two, three. Four", 10.0)
    assert [round(s.end - s.start, 2) for s in spans][:2] == [
        round(spans[0].end - spans[0].start, 2)
    ] * 2  # "One" and "two" are the same length
    assert spans[2].start - spans[1].end > 0  # comma pause
    assert spans[3].start - spans[2].end > spans[2].start - spans[1].end  # full stop pauses longer
    assert spans[-1].end == pytest.approx(10.0)


def test_unknown_tts_provider_is_fatal() -> None:
    with pytest.raises(FatalStageError, match="unknown TTS provider"):
        get_tts("polly")


def test_the_default_voice_is_piper_and_other_languages_fall_back_to_espeak() -> None:
    from vidgen.media.tts import choose_voice

    assert choose_voice("piper", "en-us", "en") == VoiceChoice("piper", "en-us")
    # No bundled Piper voice speaks French: espeak-ng's French voice, with a note to log.
    french = choose_voice("piper", "en-us", "fr")
    assert (french.provider, french.voice) == ("espeak", "fr")
    assert french.note and "no installed Piper voice speaks 'fr'" in french.note
    # Chosen by config, espeak stays espeak; a named Piper file is never swapped.
    assert choose_voice("espeak", "en-us", "en") == VoiceChoice("espeak", "en-us")
    with pytest.raises(FatalStageError, match="not found"):
        choose_voice("piper", "/nowhere/voice.onnx", "en")
    with pytest.raises(FatalStageError, match="not found"):
        choose_voice("piper", "xx-nolang", "en")
