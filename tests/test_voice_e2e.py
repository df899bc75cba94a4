"""What is said and heard in a real video: the theme, the voice, the captions, the timing.

A real job at the preview profile, then checks a viewer would make: an independent offline
speech recogniser (pocketsphinx, not the voice engine) understands the final MP4's audio; the
``.srt`` beside the video quotes the script word for word; the scenes change with the spoken
sentences; speech starts at once and fills the video (ffmpeg's silencedetect).
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import CliResult
from vidgen.media.captions import MAX_CUE_WORDS, parse_srt
from vidgen.media.ffmpeg import ffmpeg_exe, probe

Cli = Callable[..., CliResult]

# Word error rate of pocketsphinx's default English model against the script. Measured on the
# default 20 s job (the FocusFlow script, 47 words): Piper 0.26 on its WAV and 0.30-0.37 on the
# final AAC track; espeak-ng 0.86 on the same script. The bound sits between them with margin
# on both sides, so a regression to a robotic or garbled voice fails.
MAX_WER = 0.55
# After the last word: the video may run on for a breath, never a silent tail.
MAX_SILENT_TAIL = 1.5
FIRST_WORDS_BY = 1.0


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def word_error_rate(reference: str, hypothesis: str) -> float:
    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i in range(1, len(ref) + 1):
        diagonal, row[0] = row[0], i
        for j in range(1, len(hyp) + 1):
            above = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, diagonal + (ref[i - 1] != hyp[j - 1]))
            diagonal = above
    return row[len(hyp)] / max(1, len(ref))


def pcm16k(media: Path) -> bytes:
    """The audio track as 16 kHz mono 16-bit PCM, extracted by the bundled ffmpeg."""
    return subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(media),
         "-ac", "1", "-ar", "16000", "-f", "s16le", "-"],
        capture_output=True, check=True, timeout=120,
    ).stdout  # fmt: skip


def transcribe(media: Path) -> str:
    from pocketsphinx import Decoder

    decoder = Decoder(samprate=16000)
    decoder.start_utt()
    decoder.process_raw(pcm16k(media), full_utt=True)
    decoder.end_utt()
    hypothesis = decoder.hyp()
    return hypothesis.hypstr if hypothesis is not None else ""


def silences(media: Path, noise_db: int = -40, minimum: float = 0.3) -> list[tuple[float, float]]:
    """(start, end) of every silence ffmpeg's silencedetect finds in the audio."""
    proc = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-hide_banner", "-i", str(media), "-vn",
         "-af", f"silencedetect=n={noise_db}dB:d={minimum}", "-f", "null", "-"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    starts = [float(m) for m in re.findall(r"silence_start: ([\d.]+)", proc.stderr)]
    ends = [float(m) for m in re.findall(r"silence_end: ([\d.]+)", proc.stderr)]
    duration = probe(media).duration
    return [(s, ends[i] if i < len(ends) else duration) for i, s in enumerate(starts)]


def sentence_of_each_token(script: str) -> list[int]:
    numbers, current = [], 0
    for token in script.split():
        numbers.append(current)
        if re.search(r"[.!?\u2026][\"')\]\u201d\u2019]*$", token):
            current += 1
    return numbers


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One default job (no --theme) at the preview profile, through the real CLI; shared by
    the checks below (a job takes ~30 s on 2 cores)."""
    import os

    from conftest import _reset_queues
    from vidgen.cli.main import run
    from vidgen.store import reset_stores

    root = tmp_path_factory.mktemp("voice")
    home, cwd = root / "home", root / "cwd"
    cwd.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("VIDGEN_"):
                patch.delenv(name)
        patch.setenv("VIDGEN_HOME", str(home))
        patch.setenv("VIDGEN_PROFILE", "preview")
        patch.chdir(cwd)  # no ./sample-data.yml: the shipped default config
        reset_stores()
        _reset_queues()
        try:
            assert run(["generate", "--wait"]) == 0
            [video] = sorted((home / "output" / "review").glob("*.mp4"))
            log = json.loads(video.with_suffix(".json").read_text())
            yield {"video": video, "log": log, "plan": log["plan"]}
        finally:
            reset_stores()
            _reset_queues()


pytestmark = pytest.mark.slow


def test_the_video_has_the_config_theme_and_the_natural_voice(made: dict[str, Any]) -> None:
    assert made["log"]["theme"] == "Product Demo"  # the config's theme, not "default"
    assert made["log"]["providers"]["tts"] == "piper"


def test_an_independent_recogniser_understands_the_voice(
    made: dict[str, Any], tmp_path: Path
) -> None:
    script = made["plan"]["voiceover_script"]
    heard = transcribe(made["video"])
    wer = word_error_rate(script, heard)
    assert wer <= MAX_WER, f"WER {wer:.2f}: heard {heard!r} for {script!r}"
    # The bound means something: espeak-ng's robotic voice, same script, fails it.
    from vidgen.media.tts import EspeakTTS

    robotic = EspeakTTS().synthesize(script, tmp_path / "espeak.wav", voice="en-us", rate=165)
    assert word_error_rate(script, transcribe(robotic.path)) > MAX_WER


def test_the_srt_beside_the_video_quotes_the_script(made: dict[str, Any]) -> None:
    srt = made["video"].with_suffix(".srt")
    assert srt.is_file(), "every reviewed video has its .srt under the same base name"
    cues = parse_srt(srt.read_text(encoding="utf-8"))
    script = made["plan"]["voiceover_script"]
    tokens = " ".join(text for _, _, text in cues).split()
    assert tokens == script.split()  # word for word, "FocusFlow" and punctuation included
    sentence = sentence_of_each_token(script)
    at = 0
    for start, end, text in cues:
        n = len(text.split())
        assert 1 <= n <= MAX_CUE_WORDS, text
        assert len(set(sentence[at : at + n])) == 1, f"cue {text!r} spans two sentences"
        assert end > start
        at += n
    assert all(a[1] <= b[0] + 1e-3 for a, b in itertools.pairwise(cues))


def test_scenes_change_with_the_spoken_sentences(made: dict[str, Any]) -> None:
    plan = made["plan"]
    cues = parse_srt(made["video"].with_suffix(".srt").read_text(encoding="utf-8"))
    assert probe(made["video"]).duration == pytest.approx(plan["duration_seconds"], abs=0.1)
    start, at = 0.0, 0
    cue_tokens = [(s, len(t.split())) for s, _, t in cues]
    for scene in plan["scenes"]:
        end = start + scene["duration_seconds"]
        n = len(scene["narration"].split())
        mine, count = [], 0
        while count < n:
            cue_start, size = cue_tokens[at]
            mine.append(cue_start)
            count += size
            at += 1
        assert count == n, "a cue crosses from one scene's narration into the next"
        # The scene is on screen when its first words are heard, and its words end inside it.
        assert start - 1e-3 <= mine[0] <= start + 0.6, (scene["index"], start, mine[0])
        assert all(start - 1e-3 <= t < end for t in mine), (scene["index"], start, end, mine)
        start = end


def test_speech_starts_at_once_and_fills_the_video(made: dict[str, Any]) -> None:
    video = made["video"]
    duration = probe(video).duration
    quiet = silences(video)
    leading = next((end for start, end in quiet if start <= 0.05), 0.0)
    assert leading <= FIRST_WORDS_BY, f"the first words start at {leading:.2f} s"
    tail = next((duration - start for start, end in quiet if end >= duration - 0.05), 0.0)
    assert tail <= MAX_SILENT_TAIL, (
        f"{tail:.2f} s of silence at the end of a {duration:.1f} s video"
    )
    # No long silence anywhere in the middle either (sentence pauses are well under a second).
    assert all(end - start < 1.2 for start, end in quiet), quiet
