"""Production plans: durations add up, speech fits, local plans repeat, LLM plans get repaired."""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx
from pydantic import ValidationError

from vidgen.config import ThemeConfig
from vidgen.errors import FatalStageError, StageError
from vidgen.planning import (
    SYSTEM_PROMPT,
    LLMPlanner,
    LocalPlanner,
    ProductionPlan,
    count_words,
    fit_words,
    get_planner,
    normalize_hashtags,
    shorten_for_speech,
    split_durations,
    word_budget,
)
from vidgen.providers.llm import LLMResponse, OpenAIChat

REPORT: dict[str, Any] = {
    "report_id": 1,
    "report_path": "trend_analysis/attempt-1/report.json",
    "trend_count": 40,
    # The global top list is about other videos: it must never reach a plan.
    "top_hashtags": ["pets", "catsoftiktok", "fyp"],
    "dominant_style": "product-demo",
    "typical_duration_seconds": 21.0,
    "top_videos": [{"title": "POV: your dog hears the treat bag", "views": 120000}],
    "pattern": "product-demo, ~21 s, #pets #catsoftiktok rising",
    "topics": [
        {
            "topic": "FocusFlow Desk Lamp",
            "keywords": ["focusflow", "desk", "lamp", "desksetup"],
            "hashtags": ["desksetup", "productivity", "WFH"],
            "trends": [{"title": "My desk setup tour", "views": 120000}],
        },
        {
            "topic": "Morning Routine",
            "keywords": ["morningroutine", "morning", "routine"],
            "hashtags": ["morningroutine", "skincareroutine", "grwm"],
            "trends": [
                {"title": "5 step skincare routine for glass skin", "views": 241424},
                {"title": "Morning run through Lisbon at sunrise, cinematic", "views": 1356100},
                {"title": "Top 10 products that changed my morning", "views": 28219},
            ],
        },
    ],
}


def make_config(
    theme_config: Callable[..., ThemeConfig], points: int | None = None, **overrides: Any
) -> ThemeConfig:
    config = theme_config(**overrides)
    if points is None:
        return config
    ref = config.content_references[0].model_copy(
        update={"talking_points": [f"Talking point number {i + 1} is great" for i in range(points)]}
    )
    return config.model_copy(update={"content_references": [ref]})


def assert_plan_sound(plan: ProductionPlan, config: ThemeConfig) -> None:
    settings = config.config
    total = settings.video_duration_seconds
    assert 3 <= len(plan.scenes) <= 6
    assert abs(math.fsum(s.duration_seconds for s in plan.scenes) - total) <= 1e-6
    assert all(s.duration_seconds > 0 for s in plan.scenes)
    assert [s.index for s in plan.scenes] == list(range(len(plan.scenes)))
    rate = settings.voice.rate
    for scene in plan.scenes:
        assert count_words(scene.narration) <= word_budget(scene.duration_seconds, rate)
        assert 1 <= len(scene.on_screen_text) <= 60
        assert scene.keywords
    # Each scene says at least one word, even a scene too short for one at a very slow rate.
    assert count_words(plan.voiceover_script) <= max(word_budget(total, rate), len(plan.scenes))
    assert plan.voiceover_script == " ".join(s.narration for s in plan.scenes)
    assert 1 <= len(plan.hashtags) <= 10
    assert all(re.fullmatch(r"#\w+", tag) for tag in plan.hashtags)
    assert len({t.lower() for t in plan.hashtags}) == len(plan.hashtags)
    assert plan.style == settings.style
    assert plan.duration_seconds == total


# ------------------------------------------------------------------------------------------
# Durations and word budgets


def test_split_durations_adds_up_for_many_inputs() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        total = round(rng.uniform(6, 180), rng.choice([0, 1, 2, 3, 5]))
        weights = [rng.uniform(0.1, 10) for _ in range(rng.randint(3, 6))]
        parts = split_durations(total, weights)
        assert len(parts) == len(weights)
        assert abs(math.fsum(parts) - total) <= 1e-6
        assert all(p > 0 for p in parts)


def test_split_durations_is_proportional() -> None:
    assert split_durations(20, [1, 1, 2]) == [5.0, 5.0, 10.0]


def test_split_durations_rejects_bad_weights() -> None:
    with pytest.raises(ValueError, match="positive"):
        split_durations(10, [1, 0, 1])


def test_fit_words() -> None:
    assert fit_words("Short line.", 5) == "Short line."
    assert fit_words("one two three four and five", 5) == "one two three four."
    assert fit_words("Hello, world, again", 2) == "Hello, world."
    assert count_words(fit_words("a b c d e f g", 1)) == 1


def test_word_budget() -> None:
    assert word_budget(20, 165) == math.floor(20 * 165 / 60 * 0.92)
    assert word_budget(0.1, 80) == 1


@pytest.mark.parametrize("duration", [6, 7.5, 10, 13.37, 20, 30, 45.25, 60, 90, 179.9, 180])
@pytest.mark.parametrize("scenes", [None, 3, 4, 5, 6])
@pytest.mark.parametrize("rate", [80, 165, 400])
def test_local_plans_add_up_and_fit_speech(
    theme_config: Callable[..., ThemeConfig], duration: float, scenes: int | None, rate: int
) -> None:
    config = theme_config(
        video_duration_seconds=duration, scenes=scenes, voice={"name": "en-us", "rate": rate}
    )
    for job_id in (1, 2):
        plan = LocalPlanner().plan(config, REPORT, job_id).plan
        assert_plan_sound(plan, config)
        if scenes is not None:
            assert len(plan.scenes) == scenes


# One scene per talking point, and the description's sentence too while there is time for it.
@pytest.mark.parametrize(("points", "expected"), [(0, 3), (1, 4), (2, 5), (3, 6), (4, 6), (9, 6)])
def test_one_scene_per_talking_point_capped(
    theme_config: Callable[..., ThemeConfig], points: int, expected: int
) -> None:
    config = make_config(theme_config, points=points, video_duration_seconds=30)
    plan = LocalPlanner().plan(config, REPORT, 1).plan
    assert len(plan.scenes) == expected
    assert_plan_sound(plan, config)
    if points:
        assert plan.scenes[1].on_screen_text == "Talking point number 1 is great"


def test_short_videos_get_fewer_scenes(theme_config: Callable[..., ThemeConfig]) -> None:
    config = make_config(theme_config, points=4, video_duration_seconds=8)
    assert len(LocalPlanner().plan(config, REPORT, 1).plan.scenes) == 3


def test_local_plan_structure(theme_config: Callable[..., ThemeConfig]) -> None:
    config = theme_config()
    result = LocalPlanner().plan(config, REPORT, 1)
    plan = result.plan
    assert result.provider == "local" and result.model is None and result.cost == 0.0
    assert result.prompts["trend_pattern"] == REPORT["pattern"]
    assert "FocusFlow Desk Lamp" in plan.title
    assert "FocusFlow Desk Lamp" in plan.scenes[0].narration  # the hook names the product
    points = config.content_references[0].talking_points
    middle = plan.scenes[1:-1]
    assert len(middle) == len(points)
    for scene, point in zip(middle, points, strict=True):
        assert point.split()[-1] in scene.narration
    assert plan.scenes[-1].on_screen_text in {"Follow for more", "Link in bio"}
    assert "#desksetup" in plan.description


def test_long_talking_points_are_trimmed_to_fit(theme_config: Callable[..., ThemeConfig]) -> None:
    config = theme_config(video_duration_seconds=6, voice={"name": "en-us", "rate": 80})
    long_point = " ".join(["remarkably"] * 60)
    ref = config.content_references[0].model_copy(update={"talking_points": [long_point]})
    config = config.model_copy(update={"content_references": [ref]})
    plan = LocalPlanner().plan(config, REPORT, 1).plan
    assert_plan_sound(plan, config)
    assert plan.scenes[1].on_screen_text.endswith("…")


def test_local_planner_is_deterministic_per_job(theme_config: Callable[..., ThemeConfig]) -> None:
    config = theme_config()
    first = LocalPlanner().plan(config, REPORT, 1)
    assert LocalPlanner().plan(config, REPORT, 1) == first
    reloaded = theme_config()  # same YAML loaded again from another file
    assert LocalPlanner().plan(reloaded, REPORT, 1).plan == first.plan
    # Job ids rotate through the content references.
    second = LocalPlanner().plan(config, REPORT, 2).plan
    assert "PocketBrew" in second.title
    assert LocalPlanner().plan(config, REPORT, 3).plan.title == first.plan.title


def test_hashtags_are_on_topic_deduped_capped(theme_config: Callable[..., ThemeConfig]) -> None:
    plan = LocalPlanner().plan(theme_config(), REPORT, 1).plan
    # The product's own trend hashtags, never the global top list (#pets on a desk lamp).
    assert plan.hashtags == ["#focusflowdesklamp", "#desksetup", "#productivity", "#wfh", "#fyp"]
    assert not {"#pets", "#catsoftiktok"} & set(plan.hashtags)
    many = [f"#Tag{i}" for i in range(20)]
    topics = [{**REPORT["topics"][0], "hashtags": many}]
    plan = LocalPlanner().plan(theme_config(), {**REPORT, "topics": topics}, 1).plan
    assert plan.hashtags[:2] == ["#focusflowdesklamp", "#tag0"] and len(plan.hashtags) == 10
    # A theme that picked the product leads the tags.
    plan = LocalPlanner().plan(theme_config(theme="Desk setup"), REPORT, 1).plan
    assert plan.hashtags[:2] == ["#desksetup", "#focusflowdesklamp"]


def test_hashtags_follow_the_platform(theme_config: Callable[..., ThemeConfig]) -> None:
    plan = LocalPlanner().plan(theme_config(target_platform="youtube_shorts"), {}, 1).plan
    assert "#shorts" in plan.hashtags


def test_empty_report_still_plans(theme_config: Callable[..., ThemeConfig]) -> None:
    config = theme_config()
    assert_plan_sound(LocalPlanner().plan(config, {}, 5).plan, config)


def test_normalize_hashtags() -> None:
    tags = ["Product Demo", "#productdemo", "#", "  #Fyp ", "#fyp", "tech-tok", 3]
    assert normalize_hashtags(tags) == ["#productdemo", "#fyp", "#techtok"]  # type: ignore[arg-type]
    assert len(normalize_hashtags([f"t{i}" for i in range(30)])) == 10


def test_shorten_for_speech(theme_config: Callable[..., ThemeConfig]) -> None:
    plan = LocalPlanner().plan(theme_config(), REPORT, 1).plan
    shorter = shorten_for_speech(plan, 0.5)
    assert count_words(shorter.voiceover_script) < count_words(plan.voiceover_script)
    assert shorter.voiceover_script == " ".join(s.narration for s in shorter.scenes)
    assert [s.duration_seconds for s in shorter.scenes] == [s.duration_seconds for s in plan.scenes]


# ------------------------------------------------------------------------------------------
# The model's own validation


def _plan_dict(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "T",
        "description": "D",
        "hashtags": ["#a", "#b"],
        "style": "cinematic",
        "duration_seconds": 9.0,
        "scenes": [
            {"index": i, "duration_seconds": 3.0, "on_screen_text": "x", "narration": "Hi."}
            for i in range(3)
        ],
        "voiceover_script": "Hi. Hi. Hi.",
    }
    data.update(overrides)
    return data


def test_plan_model_accepts_a_sound_plan() -> None:
    ProductionPlan.model_validate(_plan_dict())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"duration_seconds": 10.0}, "add up to 9 s, not the video's 10 s"),
        ({"hashtags": ["nohash"]}, "must be '#' followed by"),
        ({"hashtags": ["#a", "#A"]}, "listed twice"),
        ({"hashtags": [f"#t{i}" for i in range(11)]}, "at most 10"),
        ({"scenes": _plan_dict()["scenes"][:2], "duration_seconds": 6.0}, "at least 3"),
        (
            {"scenes": [dict(s, index=5) for s in _plan_dict()["scenes"]]},
            "position 0 has index 5",
        ),
        (
            {"scenes": [dict(s, on_screen_text="x" * 61) for s in _plan_dict()["scenes"]]},
            "at most 60",
        ),
    ],
)
def test_plan_model_rejects(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        ProductionPlan.model_validate(_plan_dict(**overrides))


# ------------------------------------------------------------------------------------------
# The LLM planner


class FakeLLM:
    """A test double keeping the ``vidgen.providers.llm.LLM`` contract, replying with fixed data."""

    provider = "openai"
    model = "gpt-4o-mini"

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.calls: list[tuple[str, str]] = []

    def complete_json(self, system: str, user: str) -> LLMResponse:
        self.calls.append((system, user))
        return LLMResponse(
            data=self.data,
            text=json.dumps(self.data),
            model=self.model,
            provider=self.provider,
            cost=0.0012,
            prompt_tokens=800,
            completion_tokens=400,
        )


def llm_plan(durations: list[Any], **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "FocusFlow: light that follows your day",
        "description": "Meet the lamp that adapts to you.",
        "hashtags": ["#DeskSetup", "productivity", "#desksetup", "#FocusFlow"],
        "style": "product-demo",
        "scenes": [
            {
                "duration_seconds": d,
                "on_screen_text": f"Scene {i}",
                "narration": f"Narration for scene {i}.",
                "keywords": ["desk", "lamp"],
            }
            for i, d in enumerate(durations)
        ],
        "voiceover_script": "Narration.",
    }
    data.update(overrides)
    return data


def test_llm_planner_valid_plan(theme_config: Callable[..., ThemeConfig]) -> None:
    config = theme_config()
    llm = FakeLLM(llm_plan([4, 6, 6, 4]))
    result = LLMPlanner(llm).plan(config, REPORT, 1)
    assert result.provider == "openai" and result.model == "gpt-4o-mini"
    assert result.cost == 0.0012
    assert result.prompts == {"system": SYSTEM_PROMPT, "user": llm.calls[0][1]}
    assert [s.duration_seconds for s in result.plan.scenes] == [4, 6, 6, 4]
    assert result.plan.hashtags == ["#desksetup", "#productivity", "#focusflow"]
    assert result.plan.duration_seconds == 20
    # The prompt carries the brief: product, trend pattern, duration and word budget.
    brief = json.loads(llm.calls[0][1].split("\n", 1)[1])
    assert brief["product_or_topic"]["title"] == "FocusFlow Desk Lamp"
    assert brief["trend_report"]["pattern"] == "product-demo, ~21 s"
    assert brief["trend_report"]["related_trends"] == [
        {"title": "My desk setup tour", "views": 120000}
    ]
    assert brief["trend_report"]["topic_hashtags"] == ["desksetup", "productivity", "WFH"]
    assert "pets" not in llm.calls[0][1]  # never the global top list
    assert brief["total_duration_seconds"] == 20
    assert brief["max_total_words"] == word_budget(20, 165)


def test_llm_planner_repairs_durations(theme_config: Callable[..., ThemeConfig]) -> None:
    config = theme_config(video_duration_seconds=20)
    result = LLMPlanner(FakeLLM(llm_plan([3, 3, 3, 1]))).plan(config, REPORT, 1)
    durations = [s.duration_seconds for s in result.plan.scenes]
    assert abs(math.fsum(durations) - 20) <= 1e-6
    assert durations == pytest.approx([6, 6, 6, 2])


def test_llm_planner_fills_missing_script_and_style(
    theme_config: Callable[..., ThemeConfig],
) -> None:
    data = llm_plan([5, 5, 5, 5])
    del data["voiceover_script"], data["style"]
    plan = LLMPlanner(FakeLLM(data)).plan(theme_config(), REPORT, 1).plan
    assert plan.style == "product-demo"
    assert plan.voiceover_script.startswith("Narration for scene 0.")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"answer": "I cannot help"}, "title: Field required"),
        (llm_plan([10, 10]), "scenes: List should have at least 3"),
        (llm_plan([5, 5, 5, 5], title=""), "title"),
        (llm_plan([5, "five", 5, 5]), "scenes.1.duration_seconds"),
        (llm_plan([5, -5, 5, 5]), "scenes.1.duration_seconds"),
        (
            llm_plan([5, 5, 5, 5], scenes=[{"duration_seconds": 5, "narration": "x"}] * 4),
            "on_screen_text",
        ),
        (llm_plan([5, 5, 5, 5], scenes="three scenes"), "scenes"),
    ],
)
def test_llm_planner_garbage_is_a_stage_error(
    theme_config: Callable[..., ThemeConfig], data: dict[str, Any], message: str
) -> None:
    with pytest.raises(StageError, match="openai planner returned an unusable plan") as info:
        LLMPlanner(FakeLLM(data)).plan(theme_config(), REPORT, 1)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_get_planner(theme_config: Callable[..., ThemeConfig], monkeypatch: Any) -> None:
    assert isinstance(get_planner(theme_config()), LocalPlanner)
    monkeypatch.delenv("VIDGEN_OPENAI_API_KEY", raising=False)
    with pytest.raises(FatalStageError, match="VIDGEN_OPENAI_API_KEY"):
        get_planner(theme_config(providers={"planner": "openai"}))
    monkeypatch.setenv("VIDGEN_OPENAI_API_KEY", "sk-test")
    planner = get_planner(theme_config(providers={"planner": "openai"}, llm_model="gpt-4.1-mini"))
    assert isinstance(planner, LLMPlanner)
    assert planner.llm.model == "gpt-4.1-mini"


# A chat completion as the OpenAI API returns it (shape recorded from api.openai.com).
RECORDED_COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
    "object": "chat.completion",
    "created": 1741570283,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": json.dumps(llm_plan([2.5, 6.5, 6.5, 4.5])),
                "refusal": None,
                "annotations": [],
            },
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 912,
        "completion_tokens": 310,
        "total_tokens": 1222,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    },
    "service_tier": "default",
    "system_fingerprint": "fp_06737a9306",
}


@respx.mock(assert_all_called=True)
def test_llm_planner_through_openai_chat(
    respx_mock: respx.MockRouter, theme_config: Callable[..., ThemeConfig]
) -> None:
    route = respx_mock.post("https://api.openai.com/v1/chat/completions").mock(
        return_value=httpx.Response(200, json=RECORDED_COMPLETION)
    )
    llm = OpenAIChat("gpt-4o-mini", api_key="sk-test", base_url="https://api.openai.com/v1")
    result = LLMPlanner(llm).plan(theme_config(), REPORT, 1)
    sent = json.loads(route.calls.last.request.content)
    assert sent["messages"][0] == {"role": "system", "content": SYSTEM_PROMPT}
    assert sent["response_format"] == {"type": "json_object"}
    assert route.calls.last.request.headers["Authorization"] == "Bearer sk-test"
    assert result.provider == "openai"
    assert result.cost == pytest.approx((912 * 0.15 + 310 * 0.60) / 1e6)
    assert [s.duration_seconds for s in result.plan.scenes] == [2.5, 6.5, 6.5, 4.5]
    assert result.plan.title == "FocusFlow: light that follows your day"


# ------------------------------------------------------------------------------------------
# The theme decides what the video is about


def with_theme(config: ThemeConfig, theme: str) -> ThemeConfig:
    """What the runner does with ``--theme``: override the file's theme for this job."""
    block = config.config.model_copy(update={"theme": theme})
    return config.model_copy(update={"config": block})


def test_a_theme_picks_the_references_it_matches(theme_config: Callable[..., ThemeConfig]) -> None:
    config = with_theme(theme_config(), "Travel")  # PocketBrew *Travel* Kettle, tags: travel
    for job_id in (1, 2, 3):
        plan = LocalPlanner().plan(config, REPORT, job_id).plan
        assert "PocketBrew Travel Kettle" in plan.scenes[0].narration
        assert "FocusFlow" not in plan.voiceover_script
    config = with_theme(theme_config(), "desk setup")  # matches FocusFlow's tags only
    assert "FocusFlow" in LocalPlanner().plan(config, REPORT, 2).plan.scenes[0].narration


def test_a_theme_nothing_matches_is_the_subject_itself(
    theme_config: Callable[..., ThemeConfig],
) -> None:
    config = with_theme(theme_config(video_duration_seconds=30), "Morning Routine")
    result = LocalPlanner().plan(config, REPORT, 1)
    plan = result.plan
    assert_plan_sound(plan, config)
    assert plan.scenes[0].narration == "3 Morning Routine ideas trending this week."
    assert plan.title == "3 Morning Routine ideas trending this week"
    script = plan.voiceover_script
    # Built from the trends about the theme, with their numbers.
    assert "First: 5 step skincare routine for glass skin, 241 thousand views." in script
    assert "Second: Morning run through Lisbon at sunrise, cinematic, 1.4 million views." in script
    assert "FocusFlow" not in script and "PocketBrew" not in script
    assert plan.hashtags[:3] == ["#morningroutine", "#skincareroutine", "#grwm"]
    assert not {"#pets", "#catsoftiktok", "#focusflowdesklamp"} & set(plan.hashtags)
    assert result.prompts["subject"] == "theme"
    assert plan.scenes[-1].narration == "Follow for more morning routine ideas."
    # A shorter video: two ideas with their numbers, else the ideas without; whole sentences.
    for seconds, expected in ((20, "2 Morning"), (15, "3 Morning")):
        short = with_theme(theme_config(video_duration_seconds=seconds), "Morning Routine")
        plan = LocalPlanner().plan(short, REPORT, 1).plan
        assert_plan_sound(plan, short)
        assert plan.scenes[0].narration.startswith(expected)
        assert ("241 thousand views." in plan.voiceover_script) == (seconds == 20)
        assert "First: 5 step skincare routine for glass skin" in plan.voiceover_script


def test_two_themes_give_different_scripts(theme_config: Callable[..., ThemeConfig]) -> None:
    config = theme_config()
    scripts = [
        LocalPlanner().plan(with_theme(config, theme), REPORT, 1).plan.voiceover_script
        for theme in ("Morning Routine", "Travel")
    ]
    words = [set(re.findall(r"[a-z']+", s.lower())) for s in scripts]
    overlap = len(words[0] & words[1]) / len(words[0] | words[1])
    assert overlap < 0.3, (overlap, scripts)


def test_a_theme_with_no_trends_still_makes_a_video_about_it(
    theme_config: Callable[..., ThemeConfig],
) -> None:
    config = with_theme(theme_config(), "Quantum Knitting")
    plan = LocalPlanner().plan(config, REPORT, 1).plan
    assert_plan_sound(plan, config)
    assert "Quantum Knitting" in plan.scenes[0].narration
    assert plan.hashtags[0] == "#quantumknitting" and "#pets" not in plan.hashtags


def test_the_file_theme_keeps_every_reference(theme_config: Callable[..., ThemeConfig]) -> None:
    # "Product Demo" names no reference, but it is the file's own theme: its references stand.
    config = theme_config()
    assert not config.theme_is_explicit
    assert "FocusFlow" in LocalPlanner().plan(config, REPORT, 1).plan.title
    assert "PocketBrew" in LocalPlanner().plan(config, REPORT, 2).plan.title
    assert with_theme(config, "Morning Routine").theme_is_explicit


def test_llm_brief_for_a_theme_is_the_theme(theme_config: Callable[..., ThemeConfig]) -> None:
    from vidgen.planning import build_user_prompt

    config = with_theme(theme_config(), "Morning Routine")
    brief = json.loads(build_user_prompt(config, REPORT, 1).split("\n", 1)[1])
    assert brief["product_or_topic"]["title"] == "Morning Routine"
    assert brief["opening_line_must_name"] == "Morning Routine"
    assert [t["views"] for t in brief["trend_report"]["related_trends"]] == [
        241424, 1356100, 28219,
    ]  # fmt: skip
    assert brief["trend_report"]["topic_hashtags"][0] == "morningroutine"


# ------------------------------------------------------------------------------------------
# Scenes timed to the voice


def spoken(script: str, start: float = 0.05, pace: float = 0.3) -> list[dict[str, Any]]:
    """Word timings as an engine reports them: slices of the script, a pause after sentences."""
    words, t = [], start
    for match in re.finditer(r"\S+", script):
        words.append({"text": match.group().strip(".,!?"), "start": t, "end": t + pace - 0.05})
        t += pace + (0.4 if match.group().endswith((".", "!", "?")) else 0.0)
    return words


def test_scenes_follow_the_spoken_sentences(theme_config: Callable[..., ThemeConfig]) -> None:
    from vidgen.planning import SPEECH_TAIL, retime_to_speech, with_joined_script

    plan = with_joined_script(LocalPlanner().plan(theme_config(), REPORT, 1).plan)
    words = spoken(plan.voiceover_script)
    timed = retime_to_speech(plan, words, max_duration=20)
    assert timed.duration_seconds == pytest.approx(words[-1]["end"] + SPEECH_TAIL, abs=1e-3)
    assert math.fsum(s.duration_seconds for s in timed.scenes) == pytest.approx(
        timed.duration_seconds, abs=1e-6
    )
    # Every word of scene i is heard while scene i is on screen.
    start, at = 0.0, 0
    for scene in timed.scenes:
        end = start + scene.duration_seconds
        n = len(scene.narration.split())
        for word in words[at : at + n]:
            assert start <= word["start"] and word["end"] <= end + 1e-6, (scene.index, word)
        at += n
        start = end
    assert [s.narration for s in timed.scenes] == [s.narration for s in plan.scenes]
    # A voice that fills the video exactly keeps the planned length as the limit.
    slow = spoken(plan.voiceover_script, pace=0.4)
    assert retime_to_speech(plan, slow, max_duration=20).duration_seconds <= 20


def test_the_script_is_the_scenes_narrations(theme_config: Callable[..., ThemeConfig]) -> None:
    from vidgen.planning import with_joined_script

    plan = LocalPlanner().plan(theme_config(), REPORT, 1).plan
    odd = plan.model_copy(update={"voiceover_script": "Something else entirely."})
    assert with_joined_script(odd).voiceover_script == " ".join(s.narration for s in plan.scenes)
