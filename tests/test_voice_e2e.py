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

# Word error rate of pocketsphinx's default English model against the words the voice says
# (the script respelled by vidgen.media.pronounce: "focus flow" for "FocusFlow", numbers as
# words). Measured on the default 20 s job: Piper 0.19-0.33 on its WAV, the final mix within
# 0.02-0.04 of it; espeak-ng 0.86 on the same script. MAX_WER still fails a robotic voice;
# the final mix must reach MIX_WER and lose at most MUSIC_COST to the music.
MAX_WER = 0.55
MIX_WER = 0.35
MUSIC_COST = 0.03
# After the last word: the video may run on for a breath, never a silent tail.
MAX_SILENT_TAIL = 1.5
FIRST_WORDS_BY = 1.0


_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_words(n: int) -> str:
    """An integer below a million as a speaker says it ("forty nine", "two thousand twenty")."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = "" if n % 100 == 0 else " " + number_words(n % 100)
        return f"{_ONES[n // 100]} hundred{rest}"
    if 1100 <= n < 2100 and not 2000 <= n < 2010 and n % 100:  # years: "twenty twenty six"
        return f"{number_words(n // 100)} {number_words(n % 100)}"
    rest = "" if n % 1000 == 0 else " " + number_words(n % 1000)
    return f"{number_words(n // 1000)} thousand{rest}"


def words(text: str) -> list[str]:
    """Lower-case words, digits spelled out as a recogniser writes them ("6.7" -> six point
    seven)."""
    out: list[str] = []
    for token in re.findall(r"[a-z']+|\d+(?:\.\d+)?", text.lower()):
        if token[0].isdigit():
            whole, _, decimals = token.partition(".")
            out += number_words(int(whole)).split() if int(whole) < 10**6 else [whole]
            if decimals:
                out += ["point", *(_ONES[int(d)] for d in decimals)]
        else:
            out.append(token)
    return out


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
            [voice] = sorted(home.glob("jobs/*/content_generation/attempt-*/voiceover.wav"))
            yield {"video": video, "log": log, "plan": log["plan"], "voice": voice}
        finally:
            reset_stores()
            _reset_queues()


pytestmark = pytest.mark.slow


def test_the_video_has_the_config_theme_and_the_natural_voice(made: dict[str, Any]) -> None:
    assert made["log"]["theme"] == "Product Demo"  # the config's theme, not "default"
    assert made["log"]["providers"]["tts"] == "piper"


def spoken_script(script: str) -> str:
    """What the voice says for the script: the shipped config has no pronunciations table,
    so the built-in rules only (the default job's names in their spoken words)."""
    from vidgen.media.pronounce import respell

    return respell(script).text


def test_an_independent_recogniser_understands_the_voice(
    made: dict[str, Any], tmp_path: Path
) -> None:
    said = spoken_script(made["plan"]["voiceover_script"])
    dry = word_error_rate(said, transcribe(made["voice"]))
    heard = transcribe(made["video"])
    wer = word_error_rate(said, heard)
    assert wer <= MIX_WER, f"WER {wer:.2f} (dry voice {dry:.2f}): heard {heard!r} for {said!r}"
    # The music under the voice costs a viewer (and the recogniser) next to nothing.
    assert wer <= dry + MUSIC_COST, f"the mix's WER {wer:.2f}, the dry voice's {dry:.2f}: {heard!r}"
    # The bound means something: espeak-ng's robotic voice, same words, fails it.
    from vidgen.media.tts import EspeakTTS

    robotic = EspeakTTS().synthesize(said, tmp_path / "espeak.wav", voice="en-us", rate=165)
    assert word_error_rate(said, transcribe(robotic.path)) > MAX_WER


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
