"""content_generation: a real plan, procedural clips and an espeak voiceover, at preview size."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from vidgen.config import ThemeConfig
from vidgen.errors import FatalStageError, StageError
from vidgen.media import ffmpeg
from vidgen.media.tts import Voiceover, WordTiming
from vidgen.planning import get_planner
from vidgen.stages import content_generation
from vidgen.stages.base import StageContext
from vidgen.store import Store
from vidgen.store.models import ContentPlan

REPORT: dict[str, Any] = {
    "report_id": 1,
    "report_path": "trend_analysis/attempt-1/report.json",
    "trend_count": 12,
    "top_hashtags": ["tech", "gadgets"],
    "dominant_style": "product-demo",
    "typical_duration_seconds": 20.0,
    "top_videos": [],
    "pattern": "product-demo, ~20 s, #tech #gadgets rising",
    "topics": [
        {
            "topic": "HushBuds Wireless Headphones",
            "keywords": ["hushbuds", "headphones"],
            "hashtags": ["headphonesreview", "upcycling"],
            "trends": [],
        }
    ],
}
OUTPUT_KEYS = {
    "plan_id", "plan_path", "plan", "clips", "voiceover", "providers", "prompts",
    "width", "height", "fps",
}  # fmt: skip


def assert_scenes_follow_voice(plan: dict[str, Any], words: list[dict[str, Any]]) -> None:
    """Every word of scene i's narration is heard while scene i is on screen."""
    from vidgen.media.captions import locate_words

    script = plan["voiceover_script"]
    located = locate_words(script, words)
    start, cursor = 0.0, 0
    assert located[0][2] < 1.0  # the first words start within the first second
    for scene in plan["scenes"]:
        end = start + scene["duration_seconds"]
        at = script.index(scene["narration"], cursor)
        cursor = at + len(scene["narration"])
        inside = [w for w in located if at <= w[0] < cursor]
        assert inside, scene["narration"]
        for _, _, word_start, word_end in inside:
            assert start - 1e-6 <= word_start and word_end <= end + 1e-6, (scene, word_start)
        start = end


def _plan_rows(store: Store) -> list[ContentPlan]:
    with store.read() as session:
        return list(session.exec(select(ContentPlan)).all())


def test_generates_plan_clips_and_voiceover(
    stage_context: Callable[..., StageContext],
    theme_config: Callable[..., ThemeConfig],
    store: Store,
) -> None:
    config = theme_config(video_duration_seconds=8)  # preview profile: 360x640
    ctx = stage_context("content_generation", {"trend_analysis": REPORT}, config=config)
    result = content_generation.run(ctx)
    out = result.outputs
    assert set(out) == OUTPUT_KEYS
    assert (out["width"], out["height"], out["fps"]) == (360, 640, 30)
    json.dumps(out)  # recorded in a JSON checkpoint column

    plan = out["plan"]
    voice = out["voiceover"]
    # The video is as long as the narration (plus a breath), never longer than asked.
    speech_end = voice["words"][-1]["end"]
    assert speech_end < plan["duration_seconds"] <= 8
    assert plan["duration_seconds"] - speech_end <= 1.0
    total = plan["duration_seconds"]
    assert sum(s["duration_seconds"] for s in plan["scenes"]) == pytest.approx(total, abs=1e-6)
    assert_scenes_follow_voice(plan, voice["words"])
    assert "#headphonesreview" in plan["hashtags"] and "#tech" not in plan["hashtags"]  # on topic
    assert "#upcycling" not in plan["hashtags"]  # beside the subject's trends, not about it
    saved = json.loads(ctx.path(out["plan_path"]).read_text())
    assert saved["plan"] == plan
    assert saved["provider"] == "local"
    [row] = _plan_rows(store)
    assert row.id == out["plan_id"]
    assert row.job_id == ctx.job_id
    assert row.plan == plan
    assert row.voiceover_script == plan["voiceover_script"]

    assert len(out["clips"]) == len(plan["scenes"])
    for clip, scene in zip(out["clips"], plan["scenes"], strict=True):
        info = ffmpeg.probe(ctx.path(clip["path"]))
        # procedural backdrops render at a quarter of the output size; composition scales once
        assert (info.width, info.height, info.video_codec) == (90, 160, "h264")
        assert clip["duration"] == pytest.approx(scene["duration_seconds"], abs=1 / 30 + 1e-6)

    assert 0 < voice["duration"] <= 8
    assert ffmpeg.probe(ctx.path(voice["path"])).audio_codec is not None
    assert voice["words"] and set(voice["words"][0]) == {"text", "start", "end"}
    assert voice["sentences"][0]["text"].endswith(".")

    assert out["providers"]["planner"] == "local"
    assert out["providers"]["visuals"] == "procedural"
    assert out["providers"]["tts"] == "piper"  # the natural voice is the default
    assert out["prompts"]["trend_pattern"] == REPORT["pattern"]
    assert result.cost == 0.0
    assert set(result.files) == {
        ctx.path(out["plan_path"]),
        ctx.path(voice["path"]),
        *(ctx.path(c["path"]) for c in out["clips"]),
    }
    assert all(path.is_file() for path in result.files)

    # A re-run (a retried attempt) updates the job's plan row instead of adding one.
    again = content_generation.run(ctx).outputs
    assert again["plan_id"] == out["plan_id"]

    # The words are deterministic per job; the timings are the voice's (Piper samples its
    # phoneme durations, so they vary by a few milliseconds between runs).
    def words_of(p: dict[str, Any]) -> Any:
        return p["title"], p["voiceover_script"], [s["narration"] for s in p["scenes"]]

    assert words_of(again["plan"]) == words_of(plan)
    assert len(_plan_rows(store)) == 1


class ScriptedTTS:
    """A TTS test double speaking at a fixed pace, writing a real (silent) WAV via ffmpeg."""

    name = "espeak"

    def __init__(self, seconds_per_word: float) -> None:
        self.seconds_per_word = seconds_per_word
        self.texts: list[str] = []

    def synthesize(
        self, text: str, out_path: Path, *, voice: str, rate: int, ctx: Any = None
    ) -> Voiceover:
        self.texts.append(text)
        words = text.split()
        duration = len(words) * self.seconds_per_word
        ffmpeg.run(
            ["-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono", "-t", f"{duration:.3f}",
             "-c:a", "pcm_s16le", str(out_path)]
        )  # fmt: skip
        timings = [
            WordTiming(text=w, start=i * self.seconds_per_word, end=(i + 1) * self.seconds_per_word)
            for i, w in enumerate(words)
        ]
        return Voiceover(
            path=out_path,
            duration=duration,
            words=timings,
            sentences=[WordTiming(text=text, start=0.0, end=duration)],
            provider="scripted",
            model=None,
            cost=0.001,
        )


def test_slow_voice_gets_a_shorter_script(
    stage_context: Callable[..., StageContext],
    theme_config: Callable[..., ThemeConfig],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = theme_config(video_duration_seconds=8)
    ctx = stage_context("content_generation", {"trend_analysis": REPORT}, config=config)
    planned = get_planner(config).plan(config, REPORT, ctx.job_id).plan
    words = len(planned.voiceover_script.split())
    tts = ScriptedTTS(seconds_per_word=8 / words * 1.3)  # 30% too slow for the script
    monkeypatch.setattr(content_generation, "get_tts", lambda name: tts)
    out = content_generation.run(ctx)
    assert len(tts.texts) == 2
    assert len(tts.texts[1].split()) < len(tts.texts[0].split())
    assert out.outputs["voiceover"]["duration"] <= 8
    from vidgen.media.pronounce import respell

    # The voice is given the script as it is said ("HushBuds" as "Hush Buds").
    assert respell(out.outputs["plan"]["voiceover_script"]).text == tts.texts[1]
    assert json.loads(ctx.path(out.outputs["plan_path"]).read_text())["voiceover_shortened"]
    assert out.cost == pytest.approx(0.002)


def test_voice_that_never_fits_is_a_stage_error(
    stage_context: Callable[..., StageContext],
    theme_config: Callable[..., ThemeConfig],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(content_generation, "get_tts", lambda name: ScriptedTTS(30.0))
    ctx = stage_context(
        "content_generation",
        {"trend_analysis": REPORT},
        config=theme_config(video_duration_seconds=8),
    )
    with pytest.raises(StageError, match=r"the voiceover runs .* but the video is 8 s") as info:
        content_generation.run(ctx)
    assert "raise voice.rate" in str(info.value)
    assert not list(ctx.work_dir.glob("clip-*.mp4"))  # nothing rendered for a plan that failed


def test_needs_trend_analysis_outputs(stage_context: Callable[..., StageContext]) -> None:
    with pytest.raises(FatalStageError, match="needs the trend_analysis outputs"):
        content_generation.run(stage_context("content_generation"))


def test_clip_seed_is_stable_and_distinct() -> None:
    assert content_generation.clip_seed(7, 0) == content_generation.clip_seed(7, 0)
    assert len({content_generation.clip_seed(7, i) for i in range(6)}) == 6


def test_the_users_images_get_ken_burns_by_default(
    stage_context: Callable[..., StageContext],
    theme_config: Callable[..., ThemeConfig],
    tmp_path: Path,
) -> None:
    """`images:` in the config, nothing else changed (providers.visuals stays procedural): every
    scene's backdrop is a slow move over one of those pictures, cycling through them."""
    from PIL import Image

    pictures = []
    for i, colour in enumerate(((200, 40, 40), (40, 160, 60))):
        path = tmp_path / f"photo-{i}.jpg"
        Image.new("RGB", (640, 480), colour).save(path)
        pictures.append(path)
    config = theme_config(video_duration_seconds=8, images=[str(p) for p in pictures])
    assert config.config.providers.visuals == "procedural"
    ctx = stage_context("content_generation", {"trend_analysis": REPORT}, config=config)
    out = content_generation.run(ctx).outputs
    providers = out["providers"]
    assert providers["visuals"] == "images"
    scenes = len(out["plan"]["scenes"])
    assert providers["clip_sources"] == [str(pictures[i % 2]) for i in range(scenes)]
    for clip in out["clips"]:
        # Ken Burns renders at the output size (the pictures are the subject, not a backdrop).
        info = ffmpeg.probe(ctx.path(clip["path"]))
        assert (info.width, info.height) == (360, 640)
