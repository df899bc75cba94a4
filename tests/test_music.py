"""Music that sits under the voice: ducked along the speech without swelling in short pauses,
a different track for each consecutive video of a config, the mix at -14 LUFS."""

from __future__ import annotations

import itertools
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vidgen.media import ffmpeg, music
from vidgen.media.compose import CompositionSpec, build_audio_command
from vidgen.media.ffmpeg import ffmpeg_exe
from vidgen.stages import composition
from vidgen.stages.base import StageContext

RATE = 48000
MUSIC_HZ = 600.0
VOICE_HZ = 2500.0
# Speech with the pauses a narration has: 0.35 and 0.6 s between sentences, one long pause.
PHRASES = [(0.2, 2.6), (2.95, 5.3), (5.9, 8.2), (10.2, 12.4)]
SHORT_PAUSES = [(2.6, 2.95), (5.3, 5.9)]
LONG_PAUSE = (8.2, 10.2)
TOTAL = 13.5


def _tone(path: Path, source: str) -> None:
    subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", source, str(path)],
        check=True, timeout=60,
    )  # fmt: skip


def _band_level(pcm: np.ndarray, start: float, end: float, hz: float) -> float:
    """Level (dB) of the ``hz`` tone in ``pcm[start:end]``: the music alone, even under the
    voice (its tone is elsewhere in the spectrum)."""
    chunk = pcm[int(start * RATE) : int(end * RATE)]
    window = np.hanning(len(chunk))
    spectrum = np.abs(np.fft.rfft(chunk * window))
    freqs = np.fft.rfftfreq(len(chunk), 1 / RATE)
    band = spectrum[(freqs > hz - 15) & (freqs < hz + 15)]
    return float(20 * np.log10(np.sqrt(np.sum(band**2)) / np.sum(window) + 1e-12))


def _mix(tmp_path: Path, speech: list[tuple[float, float]]) -> np.ndarray:
    """The production soundtrack (build_audio_command: envelope, loudnorm) of a 'voice' that
    is a 2.5 kHz tone during PHRASES over a 600 Hz 'music' bed; mono float samples."""
    voice = tmp_path / "voice.wav"
    bed = tmp_path / "bed.wav"
    on = "+".join(f"between(t,{a},{b})" for a, b in PHRASES)
    _tone(voice, f"aevalsrc='0.5*sin(2*PI*{VOICE_HZ}*t)*({on})':s=22050:d={TOTAL}")
    bed_wave = f"0.8*sin(2*PI*{MUSIC_HZ}*t)"
    _tone(bed, f"aevalsrc='{bed_wave}':s=44100:d=4")  # looped by the mix
    spec = CompositionSpec(
        clips=[voice], scene_durations=[TOTAL], output=tmp_path / "unused.mp4", width=360,
        height=640, voiceover=voice, music=bed, music_volume=music.DEFAULT_VOLUME, speech=speech,
    )  # fmt: skip
    out = tmp_path / "mix.wav"
    ffmpeg.run(build_audio_command(spec, out), what="soundtrack")
    raw = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(out), "-ac", "1", "-f", "f32le", "-"],
        capture_output=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, dtype="<f4")


def _words_of(phrases: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Word timings inside each phrase: 0.3 s words with 0.1 s gaps, as a voice reports them."""
    words = []
    for start, end in phrases:
        t = start
        while t + 0.3 <= end + 1e-9:
            words.append((round(t, 3), round(t + 0.3, 3)))
            t += 0.4
    return words


def test_the_music_stays_down_through_short_pauses_and_rises_in_long_ones(
    tmp_path: Path,
) -> None:
    pcm = _mix(tmp_path, _words_of(PHRASES))
    under = [_band_level(pcm, a + 0.3, b - 0.1, MUSIC_HZ) for a, b in PHRASES[:3]]
    pauses = [_band_level(pcm, a + 0.05, b - 0.05, MUSIC_HZ) for a, b in SHORT_PAUSES]
    long_pause = _band_level(pcm, LONG_PAUSE[0] + 0.9, LONG_PAUSE[1] - 0.3, MUSIC_HZ)
    # No swell: in a pause under a second the bed is where it is under the words.
    for level in pauses:
        assert abs(level - np.mean(under)) <= 3.0, (pauses, under)
    # It is ducked for real, and comes back when the voice rests for two seconds.
    assert long_pause - np.mean(under) >= 12.0, (long_pause, under)
    # Smoothly: no 10 ms step of the bed's level jumps by more than 3 dB at the ramps.
    steps = [_band_level(pcm, t, t + 0.05, MUSIC_HZ) for t in np.arange(8.2, 9.2, 0.01)]
    assert max(abs(b - a) for a, b in itertools.pairwise(steps)) < 3.0


def test_speech_regions_bridge_pauses_under_a_second() -> None:
    words = [(0.0, 0.4), (0.5, 1.0), (1.6, 2.0), (3.2, 3.5), (3.4, 3.9)]
    assert music.speech_regions(words) == [(0.0, 2.0), (3.2, 3.9)]
    assert music.speech_regions([]) == []


def test_the_envelope_is_one_volume_expression_of_the_speech(tmp_path: Path) -> None:
    spec = CompositionSpec(
        clips=[tmp_path / "a.mp4"], scene_durations=[5.0], output=tmp_path / "o.mp4",
        width=360, height=640, voiceover=tmp_path / "v.wav", music=tmp_path / "m.wav",
        speech=[(0.1, 2.0), (2.5, 4.0)],
    )  # fmt: skip
    graph = ";".join(build_audio_command(spec, tmp_path / "s.wav"))
    assert "sidechaincompress" not in graph and "volume='" in graph and ":eval=frame" in graph
    assert "2.000" not in graph  # the 0.5 s pause is bridged: one region 0.1-4.0
    assert "0.100" in graph and "4.000" in graph


@pytest.fixture
def library_ctx(
    stage_context: Callable[..., StageContext], theme_config: Callable[..., Any]
) -> Callable[[], StageContext]:
    config = theme_config()  # the default bed: a packaged track chosen by style and tone

    def make() -> StageContext:
        return stage_context("composition", config=config)

    return make


def _finish_composition(ctx: StageContext, asset: dict[str, Any]) -> None:
    """Record the job's composition as the runner would, with the music it used."""
    from vidgen.store.models import Checkpoint

    with ctx.store.write() as session:
        session.add(
            Checkpoint(
                job_id=ctx.job_id, stage="composition", attempt=1, status="completed",
                outputs={"assets": [{"kind": "icon", "id": "x"}, asset]},
            )
        )  # fmt: skip


def test_consecutive_videos_of_one_config_rotate_through_the_moods_tracks(
    library_ctx: Callable[[], StageContext],
) -> None:
    chosen: list[str] = []
    first = library_ctx()
    options = music.tracks(music.mood_for(first.config.config.style, first.config.config.tone))
    assert len(options) >= 2
    ctx = first
    for _ in range(len(options) + 2):
        path, volume, asset = composition._music(ctx, f"{ctx.job_id}:title")
        assert path is not None and asset is not None and volume == music.DEFAULT_VOLUME
        # A retried composition of the same job keeps its track.
        assert composition._music(ctx, f"{ctx.job_id}:title")[2] == asset
        chosen.append(str(asset["id"]))
        _finish_composition(ctx, asset)
        ctx = library_ctx()
    assert all(a != b for a, b in itertools.pairwise(chosen)), chosen
    assert len(set(chosen[: len(options)])) == len(options), chosen  # every track, in turn


def test_another_configs_videos_do_not_count(
    library_ctx: Callable[[], StageContext],
    stage_context: Callable[..., StageContext],
    theme_config: Callable[..., Any],
) -> None:
    mine = library_ctx()
    _, _, asset = composition._music(mine, "seed")
    assert asset is not None
    _finish_composition(mine, asset)
    other = stage_context("composition", config=theme_config(theme="Another theme"))
    # Another theme's history is not this one's: same seed, same track as with no history.
    assert composition._music(other, "seed")[2] == asset


@pytest.mark.slow
def test_a_real_voice_over_the_ducked_bed_reaches_minus_14_lufs(tmp_path: Path) -> None:
    from vidgen.media.piper_tts import PiperTTS

    script = "Meet the lamp that follows your day. Cool light for deep work. Warm light at night."
    voice = PiperTTS().synthesize(script, tmp_path / "voice.wav", voice="en-us", rate=165)
    track = music.choose_track("product-demo", "upbeat", "test")
    assert track is not None
    total = voice.duration + 1.5
    spec = CompositionSpec(
        clips=[voice.path], scene_durations=[total], output=tmp_path / "unused.mp4", width=360,
        height=640, voiceover=voice.path, music=track.path, music_volume=music.DEFAULT_VOLUME,
        speech=[(w.start, w.end) for w in voice.words],
    )  # fmt: skip
    out = tmp_path / "mix.wav"
    ffmpeg.run(build_audio_command(spec, out), what="soundtrack")
    report = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-hide_banner", "-i", str(out), "-af", "ebur128", "-f",
         "null", "-"], capture_output=True, text=True, timeout=60,
    ).stderr  # fmt: skip
    lufs = float(report.rsplit("Integrated loudness:", 1)[1].split("I:", 1)[1].split("LUFS")[0])
    assert -15.0 <= lufs <= -13.0
