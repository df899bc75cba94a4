"""The language-model planner and the planner registry."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from vidgen.analysis import topic_keywords
from vidgen.config import ThemeConfig
from vidgen.errors import FatalStageError, StageError

if TYPE_CHECKING:
    from vidgen.providers.llm import LLM
from vidgen.planning._facts import said_lately
from vidgen.planning._local import LocalPlanner
from vidgen.planning._plan import (
    MAX_HEADLINE_CHARS,
    MAX_ON_SCREEN_CHARS,
    MAX_SCENES,
    MIN_SCENES,
    SCENE_KINDS,
    Planner,
    PlanResult,
    ProductionPlan,
    Report,
    Scripts,
)
from vidgen.planning._script import SHAPES
from vidgen.planning._subject import PLATFORM_TAGS, Subject, _phrase, choose_subject
from vidgen.planning._trends import trend_idea, trend_tip
from vidgen.planning._words import (
    _SENTENCE_END,
    Product,
    _is_brand,
    count_words,
    natural_case,
    normalize_hashtags,
    same_fact,
    split_durations,
    word_budget,
)

# --------------------------------------------------------------------------------------------
# The language-model planner

SYSTEM_PROMPT = """\
You write short vertical social videos that a viewer keeps watching. Reply with ONE JSON object
and nothing else:
{
  "title": string (max 100 characters),
  "description": string (1-3 sentences for the post caption),
  "hashtags": [string] (at most 10, each '#' + letters/digits, about THIS video's subject only,
                        the platform tag last),
  "style": string (the requested style),
  "subject": string (the product or topic, its exact name),
  "subject_terms": [string] (1-8 plain, picturable words for it, e.g. "kettle", "tea"),
  "scenes": [ (between 3 and 6 scenes; the first is the hook, the last the call to action)
    {
      "duration_seconds": number,
      "kind": "hook" | "feature" | "list_item" | "step" | "fact" | "comparison" | "cta",
      "narration": string (what the voice says: one or two natural sentences, ONE fact),
      "headline": string or null (max 40 characters, big on-screen text that ADDS to the
                  narration: a number or figure, the product name, a list heading; never the
                  sentence being spoken),
      "number": integer or null (the item's number, for list_item and step),
      "subjects": [string] (1-3 concrete picturable nouns the narration names),
      "on_screen_text": string (max 60 characters: the headline or a short label),
      "keywords": [string] (2-5 concrete visual search words)
    }
  ],
  "voiceover_script": string (all narrations joined, in order)
}
Rules: the first sentence names the subject. One fact per sentence, never the same fact twice.
Names exactly as given. Numbers written whole ("6.7 thousand views"), never cut. Summarise other
videos as ideas, never read their titles or style tags out. Scene durations add up exactly to the
requested total, and the whole script stays within max_total_words. The call to action uses the
brief's call_to_action exactly; mention a link only if the brief gives one. Be concrete; use only
facts from the brief."""


def build_user_prompt(
    config: ThemeConfig, report: Report, job_id: int, variant: int = 0, said: Scripts = ()
) -> str:
    """The brief for a language model: the same subject, theme and related trends the local
    planner works from (``choose_subject``), never the report's global hashtag list; the
    talking points recent videos said (``said``) are named, to be said last if at all."""
    settings = config.config
    subject = choose_subject(config, report, job_id, variant)
    # The tip each creator wrote, where they wrote one: the same material the local planner
    # retells (``trend_tip``), credited by handle.
    related = [
        {
            "idea": trend_idea(str(t.get("title"))),
            "views": t.get("views"),
            **({"tip": tip} if (tip := trend_tip(str(t.get("description") or ""))) else {}),
            **({"creator": f"@{t['creator']}"} if t.get("creator") else {}),
        }
        for t in subject.trends[:5]
    ]
    lately: list[str] = []
    if subject.reference is not None:
        about: dict[str, Any] = subject.reference.model_dump(mode="json")
        shapes = SHAPES[settings.style]
        lately = [p for p in subject.reference.talking_points[1:] if said_lately(p, said)]
    else:
        about = {
            "title": natural_case(subject.theme),
            "description": f"A video about {natural_case(subject.theme)} itself, built from the "
            "trending videos about it listed in trend_report.related_trends: pass on their "
            "creators' tips (one a scene, credited in the description), or their ideas.",
        }
        shapes = (
            ("tips", "trend roundup")
            if any("tip" in r for r in related)
            else ("trend roundup", "countdown")
        )
    brief = {
        "theme": settings.theme,
        "platform": settings.target_platform,
        "total_duration_seconds": settings.video_duration_seconds,
        "scene_count": settings.scenes or "3-6, your choice",
        "style": settings.style,
        "script_shape": shapes[variant % len(shapes)],
        "tone": settings.tone,
        "language": settings.language,
        "voice_rate_words_per_minute": settings.voice.rate,
        "max_total_words": word_budget(settings.video_duration_seconds, settings.voice.rate),
        "opening_line_must_name": subject.title,
        **(
            {"say_first_then_name_the_subject": ref.hooks[(job_id - 1) % len(ref.hooks)]}
            if (ref := subject.reference) is not None and ref.hooks
            else {}
        ),
        "call_to_action": (
            ref.ctas[(job_id - 1) % len(ref.ctas)]
            if (ref := subject.reference) is not None and ref.ctas
            else None
        )
        or settings.cta
        or "a neutral 'follow for more'",
        **({"talking_points_said_in_recent_videos_say_others_first": lately} if lately else {}),
        "link": settings.link,
        "platform_hashtag": PLATFORM_TAGS[settings.target_platform],
        "product_or_topic": about,
        "trend_report": {
            "topic_hashtags": subject.hashtags[:10],
            "related_trends": related,
            "dominant_style": report.get("dominant_style"),
            "typical_duration_seconds": report.get("typical_duration_seconds"),
        },
    }
    return (
        "Plan one video from this brief. The first sentence names the product or topic. Use "
        "only hashtags about this topic (topic_hashtags or your own), never unrelated ones.\n"
        + json.dumps(brief, indent=2, ensure_ascii=False)
    )


def _format_validation_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(part) for part in err["loc"]) or "plan"
    return f"{loc}: {str(err['msg']).removeprefix('Value error, ')}"


def repair_plan_data(data: Mapping[str, Any], config: ThemeConfig) -> dict[str, Any]:
    """Fix what a model commonly gets slightly wrong; leave real mistakes for validation.

    Repaired: scene durations (rescaled to add up to the video duration), scene indexes and
    kinds, hashtag formatting, a headline that is too long or repeats the narration (dropped,
    never cut), too many subjects, a missing style or voiceover script.
    """
    settings = config.config
    fixed: dict[str, Any] = dict(data)
    fixed["duration_seconds"] = settings.video_duration_seconds
    fixed.setdefault("style", settings.style)
    if isinstance(fixed.get("hashtags"), list):
        fixed["hashtags"] = normalize_hashtags(fixed["hashtags"])
    if isinstance(fixed.get("subject_terms"), list):
        fixed["subject_terms"] = [str(t) for t in fixed["subject_terms"]][:8]
    scenes = fixed.get("scenes")
    if not isinstance(scenes, list) or not all(isinstance(s, Mapping) for s in scenes):
        return fixed
    scenes = [dict(scene, index=i) for i, scene in enumerate(scenes)]
    for i, scene in enumerate(scenes):
        if scene.get("kind") not in SCENE_KINDS:
            scene["kind"] = "hook" if i == 0 else "cta" if i == len(scenes) - 1 else "feature"
        headline = scene.get("headline")
        narration = str(scene.get("narration") or "")
        if (
            not isinstance(headline, str)
            or not headline.strip()
            or (
                len(headline) > MAX_HEADLINE_CHARS
                or headline.strip().rstrip(".!?").lower() == narration.strip().rstrip(".!?").lower()
            )
        ):
            scene["headline"] = None
        if isinstance(scene.get("subjects"), list):
            scene["subjects"] = [str(s) for s in scene["subjects"]][:3]
        screen = scene.get("on_screen_text")
        if not isinstance(screen, str) or not screen.strip() or len(screen) > MAX_ON_SCREEN_CHARS:
            label = scene["headline"] or (scene.get("subjects") or [None])[0]
            if label:
                scene["on_screen_text"] = str(label)
    raw = [scene.get("duration_seconds") for scene in scenes]
    if MIN_SCENES <= len(scenes) <= MAX_SCENES and all(
        isinstance(d, int | float) and not isinstance(d, bool) and d > 0 and math.isfinite(d)
        for d in raw
    ):
        durations = split_durations(settings.video_duration_seconds, [float(d) for d in raw])
        for scene, seconds in zip(scenes, durations, strict=True):
            scene["duration_seconds"] = seconds
    fixed["scenes"] = scenes
    fixed["voiceover_script"] = " ".join(str(s.get("narration", "")) for s in scenes).strip()
    return fixed


def plan_problems(plan: ProductionPlan, config: ThemeConfig, subject: Subject) -> list[str]:
    """What breaks the rules every plan keeps, whoever wrote it (empty: none): the length, one
    fact said once, the subject named first and its name spelt exactly, no link the config
    does not give."""
    settings = config.config
    problems: list[str] = []
    budget = word_budget(settings.video_duration_seconds, settings.voice.rate)
    words = count_words(plan.voiceover_script)
    if words > budget:
        problems.append(f"the script has {words} spoken words; at most {budget} fit")
    # The call to action states no fact: it may echo the topic's words.
    sentences = [
        s for scene in plan.scenes[:-1] for s in _SENTENCE_END.split(scene.narration.strip()) if s
    ]
    for i, first in enumerate(sentences):
        for second in sentences[i + 1 :]:
            if same_fact(first, second):
                problems.append(f"{second!r} repeats {first!r}")
    said = [s for scene in plan.scenes for s in _SENTENCE_END.split(scene.narration.strip()) if s]
    opening = said[0].lower() if said else ""
    own = {h.lower().rstrip(".!?") for h in subject.reference.hooks} if subject.reference else set()
    k = 0
    while k + 1 < len(said) and said[k].lower().rstrip(".!?") in own:
        k += 1  # the config's own opening lines, then the name
    opening = said[k].lower() if said else ""
    names = [subject.title.lower(), *(_phrase(subject.title).split()[-1:])]
    if subject.reference is not None:
        product = Product.of(subject.title)
        names += [product.short.removeprefix("the ").lower(), product.noun]
    else:
        names += topic_keywords(subject.theme)
    if not any(name and name in opening for name in names):
        problems.append(f"the first sentence does not name {subject.title!r}")
    if subject.reference is not None:
        for word in subject.title.split():
            if len(word) > 3 and _is_brand(word):
                for said in re.findall(rf"\b{re.escape(word)}\b", plan.voiceover_script, re.I):
                    if said != word:
                        problems.append(f"the name {word!r} is written {said!r}")
    if not settings.link and re.search(
        r"\blink in (?:the )?(?:bio|description)\b", plan.voiceover_script, re.I
    ):
        problems.append("it mentions a link, but the config gives none")
    return problems


class LLMPlanner:
    """Asks a language model (any ``vidgen.providers.llm.LLM``) for the plan as JSON.

    A reply is repaired where that is safe (``repair_plan_data``) and checked against the same
    rules as the local planner's scripts (``plan_problems``). A reply that breaks them is asked
    for once more, with what was wrong; if that one breaks them too, the local planner writes
    the plan and ``PlanResult.notes`` says why (the generation log shows it).
    """

    def __init__(self, llm: LLM, fallback: Planner | None = None) -> None:
        self.llm = llm
        self.name = llm.provider
        self.fallback = fallback or LocalPlanner()

    def estimate_cost(self, config: ThemeConfig, report: Mapping[str, Any], job_id: int) -> float:
        from vidgen.providers.llm import estimate_cost

        one = estimate_cost(self.llm, SYSTEM_PROMPT, build_user_prompt(config, report, job_id))
        return one * 2  # a broken reply is asked for once more

    def _attempt(
        self, config: ThemeConfig, user: str, subject: Subject
    ) -> tuple[ProductionPlan | None, str, float, str | None]:
        """(plan or None, what was wrong, cost, model)."""
        try:
            response = self.llm.complete_json(SYSTEM_PROMPT, user)
        except FatalStageError:
            raise
        except StageError as exc:
            return None, str(exc), 0.0, None
        if not isinstance(response.data, Mapping):
            return None, "the reply is not a JSON object", response.cost, response.model
        try:
            plan = ProductionPlan.model_validate(repair_plan_data(response.data, config))
        except ValidationError as exc:
            return None, _format_validation_error(exc), response.cost, response.model
        problems = plan_problems(plan, config, subject)
        if problems:
            return None, "; ".join(problems[:3]), response.cost, response.model
        return plan, "", response.cost, response.model

    def plan(
        self, config: ThemeConfig, report: Report, job_id: int, variant: int = 0, said: Scripts = ()
    ) -> PlanResult:
        subject = choose_subject(config, report, job_id, variant)
        user = build_user_prompt(config, report, job_id, variant, said)
        cost = 0.0
        notes: list[str] = []
        ask = user
        for attempt in (1, 2):
            plan, wrong, spent, model = self._attempt(config, ask, subject)
            cost += spent
            if plan is not None:
                return PlanResult(
                    plan=plan,
                    provider=self.llm.provider,
                    model=model or self.llm.model,
                    prompts={"system": SYSTEM_PROMPT, "user": ask},
                    cost=cost,
                    notes=notes,
                )
            notes.append(f"the {self.llm.provider} planner's reply {attempt} was unusable: {wrong}")
            ask = (
                f"{user}\n\nYour previous reply broke these rules: {wrong}. "
                "Reply again with the whole JSON object, following every rule."
            )
        notes.append(
            f"the {self.llm.provider} planner failed twice; the local planner wrote the plan"
        )
        local = self.fallback.plan(config, report, job_id, variant, said)
        return local.model_copy(update={"cost": cost + local.cost, "notes": notes})


def get_planner(config: ThemeConfig) -> Planner:
    """The planner named by ``config.providers.planner``."""
    name = config.config.providers.planner
    if name == "local":
        return LocalPlanner()
    try:
        from vidgen.providers.llm import get_llm
    except ImportError as exc:  # only if the install is broken
        raise FatalStageError(
            f"planner {name!r} is unavailable ({exc}); reinstall vidgen"
        ) from None
    return LLMPlanner(get_llm(name, config.config.llm_model, base_url=config.config.llm_base_url))
