"""What a video says: the subject a theme picks, scripts a person would write (every shape),
hashtags about the video, LLM planners held to the same rules, and no two videos alike."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
import yaml
from fastapi.testclient import TestClient

from conftest import SAMPLE_CONFIG, CliResult
from httpkit import recorded
from vidgen.analysis import build_report, is_about
from vidgen.api.app import create_app
from vidgen.config import ContentReference, ThemeConfig, load_config
from vidgen.errors import FatalStageError
from vidgen.planning import (
    MAX_HEADLINE_CHARS,
    SHAPES,
    LLMPlanner,
    LocalPlanner,
    PlanResult,
    ProductionPlan,
    build_user_prompt,
    choose_subject,
    count_words,
    fact_clause,
    figure_of,
    plan_problems,
    reference_matches,
    reference_score,
    same_fact,
    trend_tip,
    want_question,
    word_budget,
    written_figures,
)
from vidgen.providers.llm import AnthropicMessages, OpenAIChat
from vidgen.providers.trends import SampleTrendSource
from vidgen.stages import content_generation
from vidgen.stages.base import StageContext
from vidgen.stages.trend_analysis import report_topics
from vidgen.store import Store
from vidgen.store import trends as trend_rows
from vidgen.store.models import utcnow

# -- helpers ---------------------------------------------------------------------------------


def themed(
    theme_config: Callable[..., ThemeConfig], theme: str | None = None, **over: Any
) -> ThemeConfig:
    """The shipped config, with ``--theme`` as the runner applies it."""
    config = theme_config(**over)
    if theme is None:
        return config
    block = config.config.model_copy(update={"theme": theme})
    return config.model_copy(update={"config": block})


def report_for(config: ThemeConfig, *, described: bool = True) -> dict[str, Any]:
    """The trend report the analysis stage writes from the shipped trends for this config;
    ``described=False``: as from a source whose videos carry no description."""
    items = SampleTrendSource().fetch(200)
    if not described:
        items = [item.model_copy(update={"description": ""}) for item in items]
    report = build_report(
        items, utcnow(), topics=report_topics(config), strict=[config.config.theme]
    )
    return report.model_dump(mode="json")


def plan_of(config: ThemeConfig, job_id: int = 1, variant: int = 0) -> ProductionPlan:
    return LocalPlanner().plan(config, report_for(config), job_id, variant).plan


def sentences(plan: ProductionPlan) -> list[str]:
    return [s for scene in plan.scenes for s in re.split(r"(?<=[.!?])\s+", scene.narration) if s]


def assert_reads_well(plan: ProductionPlan, config: ThemeConfig, names: list[str]) -> None:
    """The rules every local script keeps, whatever its shape."""
    said = sentences(plan)
    facts = [s for scene in plan.scenes[:-1] for s in re.split(r"(?<=[.!?])\s+", scene.narration)]
    # One fact per sentence, never the same fact twice (the call to action states none).
    for first, second in itertools.combinations(facts, 2):
        assert not same_fact(first, second), (first, second)
    for sentence in said:
        # Whole sentences and whole numbers: nothing ends on a bare number or a dangling word.
        assert sentence.endswith((".", "?", "!")), sentence
        assert not re.search(r"\d[.,]?\s*[.?!]$", sentence) or "views" in sentence, sentence
        assert not re.search(r"\b(and|the|a|of|to|with|for)[.?!]$", sentence), sentence
    # The material's names come through whole, exactly as written.
    for name in names:
        for said_name in re.findall(re.escape(name.split()[0]) + r"[\w ]*", plan.voiceover_script):
            assert said_name.split()[0] == name.split()[0]
    # The hook names the subject in its first sentence; after the config's own opening line
    # (a payoff first: "Your commute is about to get a lot quieter.") or the problem asked of
    # the viewer ("Want your legs to stay fresh for the last mile?"), the next one does.
    opening = said[0].lower()
    own = {h.lower().rstrip(".") for r in config.content_references for h in r.hooks}
    if opening.rstrip(".") in own or opening.endswith("?"):
        opening = said[1].lower()
    assert any(term in opening for term in [*(n.lower() for n in names), *plan.subject_terms])
    # Every scene carries what the layouts read.
    for scene in plan.scenes:
        assert scene.kind in ("hook", "feature", "list_item", "step", "fact", "comparison", "cta")
        assert 1 <= len(scene.subjects) <= 3
        assert scene.on_screen_text
        if scene.headline is not None:
            assert len(scene.headline) <= MAX_HEADLINE_CHARS
            assert "…" not in scene.headline
            assert scene.headline.rstrip(".").lower() != scene.narration.rstrip(".").lower()
            if scene.kind in ("feature", "fact", "list_item", "step"):
                # A headline adds a figure or a heading the voice does not say ("Copenhagen on
                # a budget"), never a lone noun the voice is saying ("Wall").
                heading = len(scene.headline.split()) >= 2 and (
                    scene.headline.lower() not in scene.narration.lower()
                )
                assert re.search(r"\d", scene.headline) or heading, (
                    scene.headline,
                    scene.narration,
                )
        if scene.kind in ("list_item", "step"):
            assert scene.number is not None
    assert plan.scenes[0].kind == "hook" and plan.scenes[-1].kind == "cta"
    # A title states a claim, never a broken "Name: are lightweight shoes".
    assert not re.search(r": (are|is) ", plan.title), plan.title
    assert plan.subject and plan.subject_terms
    # No link the config does not give.
    if not config.config.link:
        assert "link" not in plan.voiceover_script.lower()
    assert plan.hashtags[-1] in ("#fyp", "#shorts", "#reels")
    assert plan.voiceover_script == " ".join(s.narration for s in plan.scenes)


# -- the theme picks the right subject ---------------------------------------------------------


LAMP = ContentReference(
    title="FocusFlow Desk Lamp",
    description="A smart desk lamp.",
    talking_points=["Warm light in the evening"],
    tags=["desk setup", "lamp", "work from home"],
)


def test_one_shared_common_word_never_matches_a_theme() -> None:
    assert not reference_matches(LAMP, "Home Workout")  # "home" of "work from home" only
    assert not reference_matches(LAMP, "Workout")
    assert not reference_matches(LAMP, "Smart Home Gadgets")
    assert reference_score(LAMP, "Work from home") == 4  # a tag that IS the theme
    assert reference_score(LAMP, "Desk Lamp") == 3  # a phrase of the title
    assert reference_score(LAMP, "lamps") == 2  # every word (stemmed) in title or tags


def test_a_trend_is_about_a_theme_only_with_all_its_words() -> None:
    items = {t.title: t for t in SampleTrendSource().fetch(200)}
    run = next(t for t in items.values() if "homeworkout" in t.hashtags)
    assert is_about(run, "Home Workout")  # #homeworkout is the whole theme
    lamp = next(t for t in items.values() if t.title == "How to build a lamp for under $100")
    assert not is_about(lamp, "Home Workout") and not is_about(lamp, "Home Decor Workout")
    assert not any(is_about(t, "Sourdough baking") for t in items.values())


def test_the_best_match_wins_and_equals_rotate_across_jobs(
    theme_config: Callable[..., ThemeConfig],
) -> None:
    config = themed(theme_config, "Running")
    assert {choose_subject(config, {}, job).title for job in (1, 2, 3)} == {
        "StrideLite Running Shoes"
    }
    # Two references with the same tag share the theme, job by job.
    extra = config.content_references[1].model_copy(update={"title": "GlideRun Trail Shoes"})
    both = config.model_copy(update={"content_references": [*config.content_references, extra]})
    titles = [choose_subject(both, {}, job).title for job in (1, 2, 3, 4)]
    assert titles == ["StrideLite Running Shoes", "GlideRun Trail Shoes"] * 2
    # A theme that names nothing: the video is about the theme itself.
    assert choose_subject(themed(theme_config, "Travel"), {}, 1).reference is None


def test_a_theme_nothing_covers_is_refused_at_generate_on_the_cli(
    cli: Callable[..., CliResult], home: Path
) -> None:
    result = cli("generate", "--theme", "Sourdough baking")
    assert result.code == 1
    assert result.err.count("\n") == 1
    assert "nothing can make a video about 'Sourdough baking'" in result.err
    assert "add a content reference tagged 'sourdough baking'" in result.err
    listed = cli("jobs", "--json").json()
    assert listed["count"] == 0  # nothing queued
    # Themes something covers are queued: a reference (Running), shipped trends (Travel).
    assert cli("generate", "--theme", "Running").code == 0
    assert cli("generate", "--theme", "Travel").code == 0


@pytest.fixture
def client(home: Path) -> Iterator[TestClient]:
    with TestClient(create_app(), raise_server_exceptions=False) as test_client:
        yield test_client


def test_a_theme_nothing_covers_is_refused_over_http(client: TestClient) -> None:
    response = client.post("/api/generate", json={"theme": "Sourdough baking"})
    assert response.status_code == 400
    assert "add a content reference tagged 'sourdough baking'" in response.json()["detail"]
    assert client.get("/api/jobs").json()["count"] == 0


def test_an_llm_planner_or_network_trends_can_cover_any_theme(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    raw = yaml.safe_load(SAMPLE_CONFIG.read_text())
    raw["config"]["providers"]["planner"] = "openai"
    path = tmp_path / "llm.yml"
    path.write_text(yaml.safe_dump(raw))
    assert cli("generate", "--theme", "Sourdough baking", "--config", str(path)).code == 0


def test_off_theme_trends_at_run_time_fail_the_job_without_retries(
    theme_config: Callable[..., ThemeConfig],
) -> None:
    config = themed(theme_config, "Sourdough baking")
    with pytest.raises(FatalStageError, match="add a content reference tagged 'sourdough baking'"):
        LocalPlanner().plan(config, report_for(config), 1)


# -- scripts a person would write ---------------------------------------------------------------


@pytest.mark.parametrize("style", sorted(SHAPES))
@pytest.mark.parametrize("job_id", [1, 2, 3, 4, 5, 6])
def test_every_reference_shape_reads_well(
    theme_config: Callable[..., ThemeConfig], style: str, job_id: int
) -> None:
    config = themed(theme_config, style=style)
    result = LocalPlanner().plan(config, report_for(config), job_id)
    plan = result.plan
    assert result.prompts["shape"] in SHAPES[style]
    ref = next(r for r in config.content_references if r.title == plan.subject)
    assert_reads_well(plan, config, [ref.title])
    assert count_words(plan.voiceover_script) <= word_budget(
        config.config.video_duration_seconds, 165
    )
    # Facts come from the material: each middle sentence shares words with a talking point or
    # the description.
    material = " ".join([ref.description, *ref.talking_points]).lower()
    for scene in plan.scenes[1:-1]:
        words = set(re.findall(r"[a-z]{4,}", scene.narration.lower()))
        assert words & set(re.findall(r"[a-z]{4,}", material)), scene.narration


@pytest.mark.parametrize("theme", ["Home Workout", "Travel"])
@pytest.mark.parametrize("job_id", [1, 2])
def test_every_trend_shape_reads_well(
    theme_config: Callable[..., ThemeConfig], theme: str, job_id: int
) -> None:
    config = themed(theme_config, theme)
    result = LocalPlanner().plan(config, report_for(config, described=False), job_id)
    plan = result.plan
    assert result.prompts["shape"] in ("roundup", "countdown")
    assert_reads_well(plan, config, [])
    script = plan.voiceover_script
    # Trend titles as ideas: no style tags read out, numbers said whole.
    assert not re.search(r"cinematic|\(part|POV:|storytime:|honest review", script, re.I)
    # The views are on screen ("322K views"), never said at the same time.
    viewed = [scene for scene in plan.scenes if scene.headline and "views" in scene.headline]
    assert viewed and not re.search(r"\bviews\b", script)
    assert all(re.fullmatch(r"[\d.]+[KM]? views", s.headline or "") for s in viewed)
    assert theme.lower() in script  # natural case mid-sentence ("home workout", "travel")
    assert theme not in script.replace(theme.lower(), "") or theme.islower()


@pytest.mark.parametrize("theme", ["Home Workout", "Travel", "Cooking"])
@pytest.mark.parametrize("variant", [0, 1])
def test_a_theme_video_passes_on_the_trends_own_tips(
    theme_config: Callable[..., ThemeConfig], theme: str, variant: int
) -> None:
    """Trends whose creators wrote what works make a video of their tips, each said whole and
    credited: not a list of other people's titles."""
    config = themed(theme_config, theme)
    report = report_for(config)
    result = LocalPlanner().plan(config, report, 1, variant)
    plan = result.plan
    assert result.prompts["shape"] == "tips"
    assert_reads_well(plan, config, [])
    topic = next(t for t in report["topics"] if t["topic"] == theme)
    by_id = {t["external_id"]: t for t in topic["trends"]}
    sources = result.prompts["sources"].split()
    middle = plan.scenes[1:-1]
    assert len(middle) == len(sources) >= 3  # three tips fit in the sample's 30 s
    assert count_words(plan.voiceover_script) <= word_budget(
        config.config.video_duration_seconds, 165
    )
    for scene, source in zip(middle, sources, strict=True):
        trend = by_id[source]
        said = scene.narration.rstrip(".")
        # The creator's own words, whole or their first clause, never their hashtags or pleas;
        # a creator's claim before a colon may open the video ("Ten minutes at home is a real
        # workout."), its tip first, saying what to do.
        said_at = trend["description"].lower().find(said.lower())
        assert said_at >= 0, (said, trend["description"])
        if said_at > 0:
            claim = trend["description"][:said_at].rstrip(": ")
            assert plan.scenes[0].narration == f"{claim}.", plan.scenes[0]
            assert scene is middle[0]
        assert not re.search(r"#|save this|follow|\bI\b|\bmy\b", scene.narration, re.I)
        assert scene.kind == "list_item" and scene.number == middle.index(scene) + 1
        # The heading says what the tip is about, never the sentence being spoken: most of
        # its words are not being said ("Fix your squat form" over "fix your squat: ..." is not).
        # A figure the tip says ("30 sec") is no heading: it lands on its word - when it is
        # the tip's only number (held over "10 dead bugs and 15 glute bridges" it was wrong).
        if scene.headline is not None and scene.headline == figure_of(scene.narration):
            numbers = re.findall(r"\d+|\b(?:one|two|three|four|five|ten|half)\b", said, re.I)
            assert len(numbers) == 1, scene
        elif scene.headline is not None:
            assert scene.headline.lower() not in scene.narration.lower()
            heading = set(re.findall(r"[a-z]{4,}", scene.headline.lower()))
            spoken = set(re.findall(r"[a-z]{4,}", scene.narration.lower()))
            assert len(heading & spoken) < 0.6 * max(1, len(heading)), scene
            assert "views" not in scene.headline  # a bare reach figure explained nothing
        if theme == "Home Workout":
            # On the theme by what is said, not by a tag: no standing desk, no gym.
            assert re.search(r"home|workout", f"{trend['title']} {said}", re.I), said
            assert not re.search(r"desk|gym", said, re.I)
    hook = plan.scenes[0]
    count = ("Three", "Four", "Two")[len(middle) - 3]
    # It says how many tips follow: first ("Three home workout tips you can use today."), or
    # after the places the viewer may be headed to, one tip each ("Headed to Copenhagen,
    # Istanbul or Bali? One travel tip for each."); or it is a creator's claim ("Ten minutes
    # at home is a real workout.") and its tip follows at once.
    claimed = plan.scenes[1].narration[:1].isupper() and any(
        plan.scenes[0].narration.rstrip(".") in t["description"] for t in by_id.values()
    )
    assert (
        hook.narration.startswith(f"{count} ")
        or (
            re.fullmatch(
                rf"Headed to (?:[A-Z]\w+, )+[A-Z]\w+ or [A-Z]\w+\? "
                rf"One {theme.lower()} tip for each\.",
                hook.narration,
            )
            and hook.narration.count(",") + 2 == len(middle)
            # one tip each, as promised: no "..., and picnic by the canals ..." as a second
            and not any(", and " in scene.narration for scene in middle)
        )
        or claimed
    ), hook.narration
    # The title (and the cover) is the promise, not the opening read out.
    assert "Here's how" not in plan.title and "Headed to" not in plan.title, plan.title
    assert not plan.title.endswith("."), plan.title
    assert len(plan.title) <= 60, plan.title
    # The voice says the hook; no title card repeats it, and no count of tips stands over a
    # creator's claim ("3 HOME WORKOUT TIPS" over "Ten minutes ..." was two numbers at once).
    assert all(w in hook.narration.lower() for w in theme.lower().split()), hook.narration
    assert hook.headline is None
    if theme == "Travel":
        # Every tip names its place and the hook asks about them ("Headed to Copenhagen, Kyoto
        # or Istanbul?"): three different places, and no phrase said twice.
        for scene in middle:
            place = re.search(r"\b(Copenhagen|Kyoto|Istanbul|Lisbon|Bali|Seoul)\b", scene.narration)
            assert place and place.group(1) in hook.narration, (scene.narration, hook.narration)
        said = [re.findall(r"[a-z]+", s.narration.lower()) for s in middle]
        grams = [{tuple(w[i : i + 4]) for i in range(len(w) - 3)} for w in said]
        assert not any(a & b for a, b in itertools.combinations(grams, 2)), said
    # The creators are credited where the viewer can find them.
    for source in sources:
        assert f"@{by_id[source]['creator']}" in plan.description


def test_tips_come_from_what_creators_wrote() -> None:
    assert (
        trend_tip(
            "In Seoul, one T-money card covers the subway and buses. Save this! #seoul #travel"
        )
        == "In Seoul, one T-money card covers the subway and buses."
    )
    # Someone's story, a plea, a question or a bare tag line is not a tip to pass on.
    assert trend_tip("I missed my flight and cried at the gate for an hour. #storytime") is None
    assert trend_tip("Follow for part 2 of my trip to Bali, coming next week!") is None
    assert trend_tip("Would you ever travel alone to a city you do not know?") is None
    assert trend_tip("#travel #fyp") is None
    assert trend_tip("") is None
    assert trend_tip("Wow. 🌅 For golden hour, find a rooftop cafe an hour before sunset 🙌") == (
        "For golden hour, find a rooftop cafe an hour before sunset."
    )


def test_no_sentence_is_cut_to_fit_a_short_video(theme_config: Callable[..., ThemeConfig]) -> None:
    for seconds, rate in ((8, 165), (6, 120), (12, 100), (45, 165)):
        config = themed(
            theme_config, video_duration_seconds=seconds, voice={"name": "en-us", "rate": rate}
        )
        for job_id in (1, 2, 3):
            plan = plan_of(config, job_id)
            ref = next(r for r in config.content_references if r.title == plan.subject)
            whole = [*ref.talking_points, ref.description]
            for scene in plan.scenes[1:-1]:
                # Each middle sentence is a talking point said whole (as "It ..." or a list item).
                core = re.sub(
                    r"^(First|Second|Third|Fourth|Fifth|Step \w+:|It|They|The \w+),?\s*",
                    "",
                    scene.narration,
                )
                core = re.sub(r"^(it|they|the \w+)\s+", "", core).rstrip(".").lower()
                assert any(core.split()[-1] in point.lower() for point in whole), scene.narration
                assert not re.search(r"\b(and|the)\.$|,\.$", scene.narration)


NEUTRAL_QUESTIONS = {
    f"{q}" for it in ("it", "them") for q in (f"Would you try {it}? Tell me in the comments.",)
}


def _without_own_lines(config: ThemeConfig) -> ThemeConfig:
    refs = [r.model_copy(update={"hook": None, "cta": None}) for r in config.content_references]
    return config.model_copy(update={"content_references": refs})


def test_the_call_to_action_is_the_configs(theme_config: Callable[..., ThemeConfig]) -> None:
    # The sample's references have their own closing questions: those come first.
    sample = plan_of(themed(theme_config, cta="Tap follow")).scenes[-1]
    assert sample.narration == "Train, plane or open office: where would you wear them?"

    def bare(**over: Any) -> ThemeConfig:
        return _without_own_lines(theme_config(**over))

    neutral = plan_of(themed(bare, cta=None)).scenes[-1]
    assert neutral.narration in NEUTRAL_QUESTIONS and "link" not in neutral.narration.lower()
    own = plan_of(themed(bare, cta="Tap follow for a new gadget every week")).scenes[-1]
    assert own.narration == "Tap follow for a new gadget every week."
    linked = plan_of(themed(bare, link="https://example.com/shop", cta=None)).scenes[-1]
    assert linked.narration == "The link is in my bio." and linked.headline == "Link in bio"
    youtube = themed(bare, link="https://example.com", target_platform="youtube_shorts", cta=None)
    assert plan_of(youtube).scenes[-1].headline == "Link in description"
    # A product video asks about the product whatever theme chose it: "follow for more running
    # ideas" promised what a shoe ad never gave.
    matched = plan_of(themed(bare, "Running", cta=None)).scenes[-1]
    assert matched.narration in NEUTRAL_QUESTIONS and "running ideas" not in matched.narration


def test_the_kettle_never_boils_twice(theme_config: Callable[..., ThemeConfig]) -> None:
    assert same_fact("boils half a litre in three minutes", "boils water in three minutes")
    assert not same_fact("Folds flat to fit any backpack", "Boils half a litre in three minutes")
    for job_id in (1, 2, 3):  # the kettle in each shape
        plan = plan_of(themed(theme_config, "Tea"), job_id)
        assert plan.subject == "PocketBrew Folding Kettle"
        assert len(re.findall(r"three minutes", plan.voiceover_script)) <= 1, plan.voiceover_script


# -- hashtags about the video --------------------------------------------------------------------


def test_hashtags_are_about_the_video(theme_config: Callable[..., ThemeConfig]) -> None:
    config = themed(theme_config)
    report = report_for(config)
    report["top_hashtags"] = ["pets", "upcycling"]
    for topic in report["topics"]:  # a popular tag trending beside the subject
        topic["hashtags"] = [*topic["hashtags"], "upcycling", "roadtrip", "grwm"]
    for job_id in (1, 2, 3):
        plan = LocalPlanner().plan(config, report, job_id).plan
        assert not {"#upcycling", "#roadtrip", "#grwm", "#pets"} & set(plan.hashtags)
        assert plan.hashtags[-1] == "#fyp"
        ref = next(r for r in config.content_references if r.title == plan.subject)
        assert plan.hashtags[0] == "#" + ref.title.split()[0].lower()
        own = {"#" + re.sub(r"\W", "", tag.lower()) for tag in ref.tags}
        assert own <= set(plan.hashtags)
    running = LocalPlanner().plan(themed(theme_config, "Running"), report, 1).plan
    assert running.hashtags[0] == "#running"
    travel = plan_of(themed(theme_config, "Travel"))
    assert travel.hashtags[0] == "#travel"
    assert all("travel" in tag for tag in travel.hashtags[:-1])


# -- LLM planners, local ones too -----------------------------------------------------------------

COMPLETIONS = "https://api.openai.com/v1/chat/completions"
OLLAMA = "http://localhost:11434/v1"


def kettle_config(theme_config: Callable[..., ThemeConfig]) -> ThemeConfig:
    return themed(theme_config, "Tea")


@respx.mock(assert_all_called=True)
def test_openai_planner_fills_the_structured_plan(
    respx_mock: respx.MockRouter, theme_config: Callable[..., ThemeConfig]
) -> None:
    route = respx_mock.post(COMPLETIONS).mock(
        return_value=httpx.Response(200, json=recorded("openai_plan_completion.json"))
    )
    config = themed(theme_config, "Tea", cta=None)  # no call to action of its own
    llm = OpenAIChat("gpt-4o-mini", api_key="sk-test", base_url="https://api.openai.com/v1")
    result = LLMPlanner(llm).plan(config, report_for(config), 1)
    assert route.call_count == 1 and result.notes == []
    sent = json.loads(route.calls.last.request.content)
    brief = json.loads(sent["messages"][1]["content"].split("\n", 1)[1])
    assert brief["opening_line_must_name"] == "PocketBrew Folding Kettle"
    assert brief["product_or_topic"]["talking_points"][0].startswith("Folds flat")
    # The reference's own lines go to the model too: its closing question, its opening line.
    assert (
        brief["call_to_action"] == ("Camping trip, hotel room or office: where would you take it?")
        and brief["link"] is None
    )
    assert brief["say_first_then_name_the_subject"] == (
        "Your next cup of tea doesn't need a kitchen."
    )
    assert (
        "headline" in sent["messages"][0]["content"]
        and "subjects" in sent["messages"][0]["content"]
    )
    plan = result.plan
    assert [s.kind for s in plan.scenes] == ["hook", "fact", "fact", "cta"]
    assert plan.scenes[1].headline == "2 cm flat" and plan.subject_terms == ["kettle", "tea"]
    assert plan.voiceover_script.startswith("Meet the PocketBrew Folding Kettle.")
    assert result.cost > 0


@respx.mock(assert_all_called=True)
def test_a_broken_reply_is_asked_again_then_the_local_planner_takes_over(
    respx_mock: respx.MockRouter, theme_config: Callable[..., ThemeConfig]
) -> None:
    broken = recorded("openai_plan_completion_broken.json")
    route = respx_mock.post(COMPLETIONS).mock(
        side_effect=[httpx.Response(200, json=broken), httpx.Response(200, json=broken)]
    )
    config = kettle_config(theme_config)
    llm = OpenAIChat("gpt-4o-mini", api_key="sk-test", base_url="https://api.openai.com/v1")
    result = LLMPlanner(llm).plan(config, report_for(config), 1)
    assert route.call_count == 2
    retry = json.loads(route.calls[1].request.content)["messages"][1]["content"]
    assert "Your previous reply broke these rules" in retry
    assert "'Pocketbrew'" in retry and "repeats" in retry
    assert result.provider == "local"  # the local planner wrote it
    assert any("local planner wrote the plan" in note for note in result.notes)
    assert result.cost > 0  # the two replies were paid for
    assert_reads_well(result.plan, config, ["PocketBrew Folding Kettle"])


@respx.mock(assert_all_called=True)
def test_a_broken_reply_then_a_good_one_is_used(
    respx_mock: respx.MockRouter, theme_config: Callable[..., ThemeConfig]
) -> None:
    respx_mock.post(COMPLETIONS).mock(
        side_effect=[
            httpx.Response(200, json=recorded("openai_plan_completion_broken.json")),
            httpx.Response(200, json=recorded("openai_plan_completion.json")),
        ]
    )
    config = kettle_config(theme_config)
    llm = OpenAIChat("gpt-4o-mini", api_key="sk-test", base_url="https://api.openai.com/v1")
    result = LLMPlanner(llm).plan(config, report_for(config), 1)
    assert result.provider == "openai" and len(result.notes) == 1


def test_broken_plans_are_named_by_the_rules(theme_config: Callable[..., ThemeConfig]) -> None:
    config = kettle_config(theme_config)
    content = recorded("openai_plan_completion_broken.json")["choices"][0]["message"]["content"]
    from vidgen.planning import repair_plan_data

    plan = ProductionPlan.model_validate(repair_plan_data(json.loads(content), config))
    problems = plan_problems(plan, config, choose_subject(config, {}, 1))
    assert any("repeats" in p for p in problems)
    assert any("'Pocketbrew'" in p for p in problems)
    assert any("link" in p for p in problems)


@respx.mock(assert_all_called=True)
def test_a_local_openai_compatible_server_needs_no_key(
    respx_mock: respx.MockRouter,
    theme_config: Callable[..., ThemeConfig],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from vidgen.planning import get_planner

    monkeypatch.delenv("VIDGEN_OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("VIDGEN_OPENAI_BASE_URL", raising=False)
    route = respx_mock.post(f"{OLLAMA}/chat/completions").mock(
        return_value=httpx.Response(200, json=recorded("ollama_plan_completion.json"))
    )
    config = themed(
        theme_config,
        "Tea",
        providers={"planner": "openai"},
        llm_model="llama3.2:3b",
        llm_base_url=OLLAMA,
    )
    planner = get_planner(config)
    assert isinstance(planner, LLMPlanner)
    result = planner.plan(config, report_for(config), 1)
    assert "authorization" not in route.calls.last.request.headers
    assert json.loads(route.calls.last.request.content)["model"] == "llama3.2:3b"
    assert result.provider == "openai" and result.model == "llama3.2:3b"
    assert result.cost == 0.0  # a model of your own is free
    assert result.plan.subject == "PocketBrew Folding Kettle"


@respx.mock(assert_all_called=True)
def test_anthropic_planner_fills_the_same_plan(
    respx_mock: respx.MockRouter, theme_config: Callable[..., ThemeConfig]
) -> None:
    respx_mock.post("https://api.anthropic.com/v1/messages").mock(
        return_value=httpx.Response(200, json=recorded("anthropic_plan_message.json"))
    )
    config = kettle_config(theme_config)
    llm = AnthropicMessages("claude-haiku-4-5", api_key="sk-ant-test")
    result = LLMPlanner(llm).plan(config, report_for(config), 1)
    assert result.provider == "anthropic" and result.notes == []
    assert [s.kind for s in result.plan.scenes] == ["hook", "fact", "fact", "cta"]


# -- no two videos alike ---------------------------------------------------------------------------


def _first_video(ctx: StageContext, store: Store) -> PlanResult:
    """Plan a job as content generation does and record its plan, as if its video was made."""
    report = report_for(ctx.config)
    planned = content_generation._original_plan(ctx, LocalPlanner(), report)
    trend_rows.save_plan(
        store,
        ctx.job_id,
        title=planned.plan.title,
        plan=planned.plan.model_dump(mode="json"),
        voiceover_script=planned.plan.voiceover_script,
    )
    return planned


def test_the_same_config_twice_gives_two_different_videos(
    stage_context: Callable[..., StageContext],
    theme_config: Callable[..., ThemeConfig],
    store: Store,
) -> None:
    config = theme_config(theme="Tea")  # one reference: only the shape can change
    logs: list[str] = []
    first = _first_video(stage_context("content_generation", config=config), store)
    ctx = stage_context("content_generation", config=config)
    ctx.log = logs.append
    second = _first_video(ctx, store)
    assert first.plan.subject == second.plan.subject == "PocketBrew Folding Kettle"
    assert first.plan.voiceover_script != second.plan.voiceover_script
    assert first.prompts["shape"] != second.prompts["shape"]
    from vidgen.planning import plan_similarity

    similarity = plan_similarity(second.plan, first.plan.model_dump(mode="json"))
    assert similarity < config.config.originality.threshold
    # The generation log names the nearest earlier video and how alike it is.
    assert second.prompts["nearest_video"] == f"job {ctx.job_id - 1}"
    assert float(second.prompts["similarity"]) == similarity
    assert any(line.startswith("nearest earlier video: job") for line in logs)


def test_the_next_video_of_a_product_says_what_the_last_one_left_out(
    stage_context: Callable[..., StageContext],
    theme_config: Callable[..., ThemeConfig],
    store: Store,
) -> None:
    """Two kettle videos watched back to back shared two of their three facts word for word.
    The next video of a product says the talking points the last one did not; only the key
    selling point (the first) comes round again, as a brand's line does."""
    config = theme_config(theme="Tea")
    (ref,) = [r for r in config.content_references if r.title == "PocketBrew Folding Kettle"]
    key, *others = ref.talking_points
    assert len(others) >= 4  # room for two videos of two other facts each

    def points(plan: ProductionPlan) -> list[str]:
        return [p for p in others if any(same_fact(p, s.narration) for s in plan.scenes)]

    first = _first_video(stage_context("content_generation", config=config), store).plan
    second = _first_video(stage_context("content_generation", config=config), store).plan
    assert same_fact(key, second.scenes[1].narration) or same_fact(key, second.scenes[0].narration)
    assert points(first) and points(second), (first.voiceover_script, second.voiceover_script)
    assert not set(points(first)) & set(points(second)), (points(first), points(second))
    # With no earlier video to go by, the second would have repeated the first's facts.
    alone = LocalPlanner().plan(config, report_for(config), 2).plan
    assert set(points(alone)) & set(points(first)), points(alone)


@pytest.mark.parametrize("style", sorted(SHAPES))
def test_a_product_video_makes_three_claims_at_most(
    theme_config: Callable[..., ThemeConfig], style: str
) -> None:
    """With a fourth fact a 31 s kettle video "tried to say too much", each a still scene."""
    config = themed(theme_config, style=style)
    for job_id in range(1, 7):
        plan = plan_of(config, job_id)
        ref = next(r for r in config.content_references if r.title == plan.subject)
        assert len(ref.talking_points) >= 5  # more than one video's worth
        claims = [
            p for p in ref.talking_points
            if any(same_fact(p, scene.narration) for scene in plan.scenes)
        ]  # fmt: skip
        assert 1 <= len(claims) <= 3, (style, job_id, claims)


def test_a_language_model_is_told_what_recent_videos_said(
    theme_config: Callable[..., ThemeConfig],
) -> None:
    config = themed(theme_config, "Tea")
    earlier = "Hotel room tea. It boils half a liter in three minutes from any wall socket."
    brief = build_user_prompt(config, report_for(config), 1, said=[earlier])
    data = json.loads(brief[brief.index("{") :])
    assert data["talking_points_said_in_recent_videos_say_others_first"] == [
        "Boils half a liter in three minutes from any wall socket"
    ]
    plain = build_user_prompt(config, report_for(config), 1)
    fresh = json.loads(plain[plain.index("{") :])
    assert "talking_points_said_in_recent_videos_say_others_first" not in fresh


def test_a_step_is_something_the_viewer_does_with_the_product() -> None:
    """ "Cuts background noise" is the product's doing: as a step it read "Step one: cut it
    background noise"; a verb with the product as its object takes "them" for a pair."""
    from vidgen.planning._words import _imperative

    assert _imperative("Cuts background noise by 30 decibels") is None
    assert _imperative("Weighs 210 grams") is None
    assert _imperative("Folds flat to two centimeters") == "Fold it flat to two centimeters"
    assert (
        _imperative("Connects to your laptop and your phone at once", plural=True)
        == "Connect them to your laptop and your phone at once"
    )
    assert _imperative("Boils half a liter in three minutes") == (
        "Boil half a liter in three minutes"
    )


@pytest.mark.parametrize("on_duplicate", ["fail", "warn"])
def test_a_forced_duplicate_fails_or_warns_as_configured(
    stage_context: Callable[..., StageContext],
    theme_config: Callable[..., ThemeConfig],
    store: Store,
    on_duplicate: str,
) -> None:
    # So strict a threshold that every angle counts as a copy of the first video.
    config = theme_config(
        theme="Tea", originality={"days": 14, "threshold": 0.01, "on_duplicate": on_duplicate}
    )
    first = stage_context("content_generation", config=config)
    _first_video(first, store)
    ctx = stage_context("content_generation", config=config)
    logs: list[str] = []
    ctx.log = logs.append
    if on_duplicate == "fail":
        with pytest.raises(FatalStageError, match=rf"^duplicate of job {first.job_id}: "):
            content_generation._original_plan(ctx, LocalPlanner(), report_for(config))
    else:
        planned = content_generation._original_plan(ctx, LocalPlanner(), report_for(config))
        assert planned.prompts["nearest_video"] == f"job {first.job_id}"
        assert any(line.startswith(f"warning: duplicate of job {first.job_id}") for line in logs)


def test_another_theme_on_the_same_subject_counts_as_the_same_video(
    stage_context: Callable[..., StageContext],
    theme_config: Callable[..., ThemeConfig],
    store: Store,
) -> None:
    """ "--theme Tea" after the file's own theme made a kettle video is still about the kettle:
    it must not come out the same (a blind viewer found such a pair word for word alike); a
    video of another theme about another subject does not count."""
    config = theme_config()  # the file's own theme: job ids rotate through the references
    path = config.source
    kettle = None
    for _ in range(3):
        made = _first_video(stage_context("content_generation", config=config), store)
        if made.plan.subject == "PocketBrew Folding Kettle":
            kettle = made
    assert kettle is not None
    tea = load_config(path) if path is not None else config
    tea = themed(lambda **_: tea, "Tea")
    ctx = stage_context("content_generation", config=tea)
    assert ctx.config.source == path  # the same config file
    second = _first_video(ctx, store)
    assert second.plan.subject == kettle.plan.subject
    assert second.prompts["nearest_video"].startswith("job ")
    from vidgen.planning import plan_similarity

    similarity = plan_similarity(second.plan, kettle.plan.model_dump(mode="json"))
    assert similarity < tea.config.originality.threshold
    assert second.prompts["shape"] != kettle.prompts["shape"] or (
        second.plan.voiceover_script != kettle.plan.voiceover_script
    )


def test_other_configs_and_old_videos_do_not_count(
    stage_context: Callable[..., StageContext],
    theme_config: Callable[..., ThemeConfig],
    store: Store,
) -> None:
    strict = {"days": 14, "threshold": 0.01, "on_duplicate": "fail"}
    _first_video(stage_context("content_generation", config=theme_config(theme="Tea")), store)
    # Another config file (theme_config writes a new one each call): nothing to compare with.
    ctx = stage_context("content_generation", config=theme_config(theme="Tea", originality=strict))
    planned = content_generation._original_plan(ctx, LocalPlanner(), report_for(ctx.config))
    assert "nearest_video" not in planned.prompts


def test_the_shipped_sample_is_packaged_unchanged() -> None:
    packaged = Path(__file__).parents[1] / "src" / "vidgen" / "data" / "sample-data.yml"
    assert packaged.read_text() == SAMPLE_CONFIG.read_text()
    config = load_config(SAMPLE_CONFIG)
    for ref in config.content_references:
        assert len(ref.talking_points) >= 4
        assert sum(bool(re.search(r"\d|two|three|half", p)) for p in ref.talking_points) >= 3
        assert any(word in " ".join(ref.tags) for word in ref.title.lower().split())


@pytest.mark.parametrize("job_id", range(1, 7))
def test_every_video_leads_with_the_key_selling_point(
    theme_config: Callable[..., ThemeConfig], job_id: int
) -> None:
    """The first talking point is the one the product is bought for: every shape says it in
    the hook or first after it, however the other facts rotate from job to job."""
    config = themed(theme_config)
    plan = plan_of(config, job_id)
    ref = next(r for r in config.content_references if r.title == plan.subject)
    # The claim itself; a question hook has no room for what it means to the viewer.
    key = fact_clause(ref.talking_points[0])
    opening = " ".join(scene.narration for scene in plan.scenes[:2])
    assert any(same_fact(key, s) for s in re.split(r"(?<=[.?!])\s+", opening)), (key, opening)


def test_a_question_asks_the_problem_and_the_product_answers_it(
    theme_config: Callable[..., ThemeConfig],
) -> None:
    """The question shape asks what a talking point means to the viewer, then names the
    product with its claim: "Looking for running shoes that ...? Meet the StrideLite Running
    Shoes." read as a title and a name, with no reason to stay between them."""
    assert (
        want_question(
            "Returns 85 percent of your energy with every stride, so your legs stay fresh for "
            "the last mile"
        )
        == "Want your legs to stay fresh for the last mile?"
    )
    assert (
        want_question("Cuts background noise by 30 decibels, so a busy train sounds like a library")
        == "Want a busy train to sound like a library?"
    )
    # "so it never stays home" names nothing to ask about.
    assert want_question("Weighs less than a full bottle of water, so it never stays home") is None
    assert want_question("Dries in two hours after a run in the rain") is None
    config = themed(theme_config)
    questions = [
        r for r in (LocalPlanner().plan(config, report_for(config), j) for j in range(1, 13))
        if r.prompts["shape"] == "problem"
    ]  # fmt: skip
    assert questions
    asked = set()
    for result in questions:
        plan = result.plan
        ref = next(r for r in config.content_references if r.title == plan.subject)
        hook, answer = plan.scenes[0], plan.scenes[1]
        assert hook.narration.startswith(("Want ", "What if ")), hook.narration
        assert hook.narration.endswith("?") and "Meet the" not in plan.voiceover_script
        # The answer names the product; the claim is said once, in the question or the answer.
        assert answer.narration.startswith(f"The {ref.title} "), answer.narration
        if hook.narration.startswith("Want "):
            point = next(p for p in ref.talking_points if want_question(p) == hook.narration)
            assert same_fact(fact_clause(point), answer.narration)
        else:
            # "What if a kettle could fold flat to two centimeters? The PocketBrew Folding
            # Kettle does: thin enough for the laptop pocket of your backpack."
            assert any(same_fact(fact_clause(p), hook.narration) for p in ref.talking_points)
            assert not same_fact(hook.narration, answer.narration)
        asked.add(hook.narration.split()[0])
        # The screen names the product while the voice asks; the promise is the title's and
        # the cover's (on the opening's card it stood against the question, three viewers).
        assert hook.headline == ref.title
    assert asked == {"Want", "What"}


def test_a_tour_opens_on_the_name_and_its_claim(theme_config: Callable[..., ThemeConfig]) -> None:
    claim = (
        "The HushBuds Wireless Headphones cut background noise by 30 decibels, so a busy train "
        "sounds like a library."
    )
    for config, first in ((themed(theme_config), 1), (_without_own_lines(themed(theme_config)), 0)):
        tours = [
            p for p in (plan_of(config, j) for j in range(1, 10)) if not p.title.startswith("Four")
        ]
        # With the sample's own opening line, the claim comes right after it.
        opened = [p.scenes[first].narration for p in tours]
        assert claim in opened
        hooks = [p.scenes[0].narration for p in tours]
        assert not any(h.startswith(("Meet the", "Say hello")) for h in hooks)
    hooked = next(p for p in (plan_of(themed(theme_config), j) for j in range(1, 10))
                  if p.scenes[1].narration == claim)  # fmt: skip
    assert hooked.scenes[0].narration == "Your commute is about to get a lot quieter."
    # The screen names the product under the spoken hook; the promise is the cover's (on the
    # opening's card it stood against the voice saying something else, three viewers).
    assert hooked.scenes[0].headline == "HushBuds Wireless Headphones"
    assert hooked.title == "HushBuds Wireless Headphones: cut background noise by 30 decibels"


def test_a_figure_on_screen_is_a_stat_not_the_spoken_words(
    theme_config: Callable[..., ThemeConfig],
) -> None:
    """ "30 dB" over a caption saying "by 30 decibels": the number as a spec sheet writes it,
    so the screen never carries the spoken phrase twice."""
    assert figure_of("Cuts background noise by 30 decibels") == "30 dB"
    assert figure_of("Returns 85 percent of your energy") == "85%"
    assert figure_of("Keeps its cushioning for 800 kilometers") == "800 km"
    assert figure_of("Boils half a liter in three minutes") == "3 min"
    assert figure_of("Makes two cups of tea per boil") == "2 cups"
    config = themed(theme_config)
    for job_id in range(1, 7):
        for scene in plan_of(config, job_id).scenes:
            if scene.headline and re.match(r"\d", scene.headline):
                said = rf"\b{re.escape(scene.headline.lower())}\b"
                assert not re.search(said, scene.narration.lower()), scene


def test_an_llm_gets_the_trends_tips_for_a_theme_video(
    theme_config: Callable[..., ThemeConfig],
) -> None:
    """The same material as the local planner: the creators' own tips, credited by handle."""
    config = themed(theme_config, "Home Workout")
    brief = build_user_prompt(config, report_for(config), 1)
    data = json.loads(brief[brief.index("{") :])
    related = data["trend_report"]["related_trends"]
    tips = [r["tip"] for r in related if "tip" in r]
    assert len(tips) >= 3 and all(r["creator"].startswith("@") for r in related)
    assert data["script_shape"] == "tips"
    local = LocalPlanner().plan(config, report_for(config), 1).plan
    assert all(
        any(scene.narration.lower().rstrip(".") in tip.lower() for tip in tips)
        for scene in local.scenes[1:-1]
    )


@pytest.mark.parametrize("job_id", range(1, 10))
def test_a_has_point_is_said_with_have_after_they(
    theme_config: Callable[..., ThemeConfig], job_id: int
) -> None:
    """ "Has a reflective heel ..." about running shoes is "They have a reflective heel ...",
    never "Third, has a reflective heel" (a sentence with no subject)."""
    config = themed(theme_config)
    for ref in config.content_references:
        ref.talking_points.append("Has a spare part in the box")
    script = plan_of(config, job_id).voiceover_script
    assert not re.search(r"(?:^|[.,] )has\b", script, re.IGNORECASE), script
    assert "They has" not in script and "they has" not in script


def test_a_plan_may_open_on_the_references_own_line(
    theme_config: Callable[..., ThemeConfig],
) -> None:
    """The configured hook first, the name in the next sentence: no rule broken; the same
    plan without the hook would open on a sentence that names nothing."""
    config = kettle_config(theme_config)
    subject = choose_subject(config, {}, 1)
    assert subject.reference is not None and subject.reference.hooks
    plan = plan_of(config, 1)
    scenes = [s.model_copy() for s in plan.scenes]
    scenes[0].narration = f"{subject.reference.hooks[-1]} {scenes[0].narration}"
    opened = plan.model_copy(
        update={"scenes": scenes, "voiceover_script": " ".join(s.narration for s in scenes)}
    )
    assert not any("does not name" in p for p in plan_problems(opened, config, subject))
    scenes[0].narration = "Imagine this. " + plan.scenes[0].narration
    teased = plan.model_copy(
        update={"scenes": scenes, "voiceover_script": " ".join(s.narration for s in scenes)}
    )
    assert any("does not name" in p for p in plan_problems(teased, config, subject))


def test_own_opening_lines_take_turns_and_open_lists_too(
    theme_config: Callable[..., ThemeConfig],
) -> None:
    """A reference's `hook:` list opens its videos in turn: a tour says one, a list says one
    before "Three things ...", and the title stays the list's own line."""
    config = themed(theme_config)
    plans = [plan_of(config, j) for j in range(1, 13)]
    kettle_hooks = {
        h for r in config.content_references if r.title.startswith("PocketBrew") for h in r.hooks
    }
    all_hooks = {h for r in config.content_references for h in r.hooks}
    said = [p.scenes[0].narration for p in plans]
    assert len({h for h in all_hooks if any(s.startswith(h) for s in said)}) >= 3
    lists = [p for p in plans if re.search(r"^(Three|Four) (things|reasons)", p.title)]
    opened = [p for p in lists if any(p.scenes[0].narration.startswith(h) for h in all_hooks)]
    assert opened, [p.scenes[0].narration for p in lists]
    for plan in opened:
        assert not any(h in plan.title for h in all_hooks)
        assert len([s for s in plan.scenes if s.kind == "list_item"]) >= 3
        # The line names neither the product nor the count: the screen names the product,
        # and the first item says it.
        assert plan.scenes[0].headline == plan.subject
        assert plan.subject in plan.scenes[1].narration
    assert kettle_hooks


def test_own_closing_lines_take_turns(theme_config: Callable[..., ThemeConfig]) -> None:
    """A reference's `cta:` list closes its videos in turn: two videos of one product ended on
    the same question, word for word, and a viewer of both called the second a copy."""
    config = themed(theme_config)
    plans = [plan_of(config, j) for j in range(1, 9)]
    for ref in config.content_references:
        assert len(ref.ctas) >= 2
        ends = [p.scenes[-1].narration for p in plans if p.subject == ref.title]
        assert len(ends) >= 2 and set(ends) <= set(ref.ctas), ends
        assert len(set(ends)) == len(ref.ctas), ends  # each said, none kept for good
    # One line is a list of one; each is 1-150 characters, as for `hook:`.
    assert ContentReference(title="A", cta="Would you?").ctas == ["Would you?"]
    for bad in ([], ["x" * 151], [" "]):
        with pytest.raises(ValueError, match="closing line"):
            ContentReference(title="A", cta=bad)


def test_a_list_never_says_first_twice_in_a_row(
    theme_config: Callable[..., ThemeConfig],
) -> None:
    """ "Your last mile should feel like your first. First, ..." was heard as a stumble."""
    running = themed(theme_config, "Running")
    plans = [plan_of(c, j) for c in (themed(theme_config), running) for j in range(1, 9)]
    clashes = [p for p in plans if re.search(r"\bfirst\b", p.scenes[0].narration, re.I)]
    assert any(s.kind == "list_item" for p in clashes for s in p.scenes), "no case covered"
    for plan in plans:
        said = " ".join(s.narration for s in plan.scenes[:2]).lower()
        assert not re.search(r"\bfirst\W+first\b", said), said
    for plan in clashes:
        # Nor does it count aloud ("To start, ... Next, ... And finally," was "3 s of filler"
        # to three viewers; the "1 / 3" chips count on screen): each item starts on its
        # claim, the last with "And".
        items = [s.narration for s in plan.scenes if s.kind == "list_item"]
        if items:
            counting = r"^(?:To start|Next|And finally|First|Second|Third|Fourth),"
            assert not any(re.match(counting, item) for item in items), items
            assert items[-1].startswith("And ") and items[0][0].isupper(), items


def test_a_list_drops_the_opening_line_before_it_drops_to_two_items(
    theme_config: Callable[..., ThemeConfig],
) -> None:
    short = themed(theme_config, video_duration_seconds=24)
    for job_id in range(1, 13):
        plan = plan_of(short, job_id)
        items = [s for s in plan.scenes if s.kind == "list_item"]
        if items:
            assert len(items) >= 3 or not any(
                plan.scenes[0].narration.startswith(h)
                for r in short.content_references
                for h in r.hooks
            ), plan.voiceover_script


def test_originality_does_not_count_the_call_to_action(
    theme_config: Callable[..., ThemeConfig],
) -> None:
    from vidgen.planning import plan_similarity

    plan = plan_of(themed(theme_config))
    scenes = [s.model_copy() for s in plan.scenes]
    other = plan.model_copy(update={"scenes": scenes})
    for k, scene in enumerate(scenes[:-1]):
        scene.narration = f"Completely different words about another thing, number {k}."
        scene.subjects, scene.headline = [f"thing{k}"], None
    alike = plan_similarity(other, plan.model_dump(mode="json"))
    assert alike < 0.5
    scenes[-1].narration = "A brand new closing question nobody asked before?"
    assert plan_similarity(other, plan.model_dump(mode="json")) == alike


@pytest.mark.parametrize("theme", ["Travel", "Home Workout"])
@pytest.mark.parametrize("job_id", [1, 2, 3])
def test_tips_end_on_a_question_about_them_with_no_label(
    theme_config: Callable[..., ThemeConfig], theme: str, job_id: int
) -> None:
    plan = plan_of(themed(theme_config, theme, cta=None), job_id)
    ending = {
        "Travel": "Which one is next on your list?",
        "Home Workout": "Which one will you try first?",
    }
    assert plan.scenes[-1].narration == ending[theme] and plan.scenes[-1].headline is None
    assert len([s for s in plan.scenes if s.kind == "list_item"]) == 3
    # No stock plea ("Save this for later." read as one), and no ask twice.
    assert not re.search(r"\bsav|follow", plan.voiceover_script, re.IGNORECASE)


def test_a_cover_writes_its_figures_as_a_spec_sheet_does() -> None:
    """A cover is read at a glance: "2 cm" and "85%", not "two centimeters" and "85 percent";
    a count that is not a measure stays as said."""
    assert written_figures("Folds flat to two centimeters") == "Folds flat to 2 cm"
    assert written_figures("Return 85 percent of your energy") == "Return 85% of your energy"
    assert written_figures("Cut background noise by 30 decibels") == "Cut background noise by 30 dB"
    assert (
        written_figures("Three reasons to love the HushBuds")
        == "Three reasons to love the HushBuds"
    )
    assert written_figures("Boils half a liter in three minutes") == "Boils half a liter in 3 min"
