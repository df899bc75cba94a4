"""The production plan: what a video says and shows, scene by scene.

A ``Planner`` turns a theme config and a trend report into a ``ProductionPlan``. The default
``LocalPlanner`` is offline and deterministic (same job id + config + report, same plan), so an
unattended factory never depends on a paid API; ``LLMPlanner`` asks a language model for the same
JSON shape and repairs what is safely repairable (scene durations) before validating it.

Two invariants every plan keeps, whoever wrote it:

- scene durations add up to the video duration (the composition cuts clips to them), and
- the voiceover fits: at the configured words per minute, with ~15% slack for pauses, each scene's
  narration can be spoken within the scene.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from vidgen.config import ThemeConfig
from vidgen.errors import FatalStageError, StageError

if TYPE_CHECKING:
    from vidgen.providers.llm import LLM

MIN_SCENES = 3
MAX_SCENES = 6
MAX_HASHTAGS = 10
MAX_ON_SCREEN_CHARS = 60
# Spoken words per second is rate/60; keep 15% of the time for pauses between sentences.
SPEECH_FILL = 0.85
# Below this a scene flashes by too fast to read its on-screen text.
SECONDS_PER_SCENE_TARGET = 2.5
# Durations must add up; floats only to within rounding.
DURATION_TOLERANCE = 1e-6

_HASHTAG = re.compile(r"^#\w+$")
_NON_TAG_CHARS = re.compile(r"[^\w]+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
_STOPWORDS = frozenset(
    re.findall(
        r"\w+",
        "a an and are as at be but by for from has have in into is it its of on or so than "
        "that the their this to was were will with you your yours our we us can one every "
        "while any all more just get got here there what when why how who which",
    )
)


class Scene(BaseModel):
    index: int = Field(ge=0)
    duration_seconds: float = Field(gt=0)
    on_screen_text: str = Field(min_length=1, max_length=MAX_ON_SCREEN_CHARS)
    narration: str = Field(min_length=1)
    keywords: list[str] = Field(default_factory=list, max_length=12)


class ProductionPlan(BaseModel):
    title: str = Field(min_length=1, max_length=150)
    description: str
    hashtags: list[str] = Field(max_length=MAX_HASHTAGS)
    style: str = Field(min_length=1)
    duration_seconds: float = Field(gt=0, description="the video duration the scenes add up to")
    scenes: list[Scene] = Field(min_length=MIN_SCENES, max_length=MAX_SCENES)
    voiceover_script: str = Field(min_length=1)

    @field_validator("hashtags")
    @classmethod
    def _hashtags_clean(cls, tags: list[str]) -> list[str]:
        seen: set[str] = set()
        for tag in tags:
            if not _HASHTAG.match(tag):
                raise ValueError(f"hashtag {tag!r} must be '#' followed by letters, digits or _")
            if tag.lower() in seen:
                raise ValueError(f"hashtag {tag!r} is listed twice")
            seen.add(tag.lower())
        return tags

    @model_validator(mode="after")
    def _scenes_fill_duration(self) -> ProductionPlan:
        for position, scene in enumerate(self.scenes):
            if scene.index != position:
                raise ValueError(f"scene at position {position} has index {scene.index}")
        total = math.fsum(scene.duration_seconds for scene in self.scenes)
        if abs(total - self.duration_seconds) > DURATION_TOLERANCE:
            raise ValueError(
                f"scene durations add up to {total:g} s, "
                f"not the video's {self.duration_seconds:g} s"
            )
        return self


class PlanResult(BaseModel):
    plan: ProductionPlan
    provider: str
    model: str | None
    prompts: dict[str, str]
    cost: float = 0.0


class Planner(Protocol):
    """Writes the production plan for one job.

    Contract:
    - ``plan(config, report, job_id)`` returns a ``PlanResult`` whose plan has 3-6 scenes with
      durations summing to ``config.config.video_duration_seconds`` and ``style`` set.
    - ``report`` is the ``trend_analysis`` stage's outputs (``pattern``, ``top_hashtags``,
      ``dominant_style``, ``typical_duration_seconds``, ``top_videos``...); missing keys are
      tolerated, so a plan can be made from a sparse report.
    - ``prompts`` records what was asked (for the generation log); ``cost`` is in US dollars.
    - Raises ``StageError`` when another attempt may succeed (bad model output, network) and
      ``FatalStageError`` when no retry can (missing credentials).
    """

    name: str

    def plan(self, config: ThemeConfig, report: Mapping[str, Any], job_id: int) -> PlanResult: ...


# --------------------------------------------------------------------------------------------
# Helpers shared by both planners


def words_per_second(rate_wpm: int) -> float:
    return rate_wpm / 60.0 * SPEECH_FILL


def word_budget(duration_seconds: float, rate_wpm: int) -> int:
    """How many words fit in ``duration_seconds`` at ``rate_wpm`` with room for pauses."""
    return max(1, math.floor(duration_seconds * words_per_second(rate_wpm)))


def count_words(text: str) -> int:
    return len(text.split())


def fit_words(text: str, budget: int) -> str:
    """``text`` cut to at most ``budget`` words, ending on a whole word and a full stop."""
    words = text.split()
    if len(words) <= budget:
        return text.strip()
    kept = words[: max(1, budget)]
    # A cut that ends on "and"/"the" sounds broken when spoken; drop such dangling words.
    while len(kept) > 1 and kept[-1].strip(",;:-").lower() in _STOPWORDS:
        kept.pop()
    return " ".join(kept).rstrip(",;:-—").rstrip(".!?") + "."


def hashtag(text: str) -> str | None:
    """``"Product Demo"`` -> ``"#productdemo"``; None if nothing taggable is left."""
    body = _NON_TAG_CHARS.sub("", text.strip().lstrip("#")).lower()
    return f"#{body}" if body else None


def normalize_hashtags(tags: Iterable[str], limit: int = MAX_HASHTAGS) -> list[str]:
    """'#'-prefixed, cleaned, deduplicated case-insensitively (first wins), at most ``limit``."""
    out: list[str] = []
    seen: set[str] = set()
    for raw in tags:
        if not isinstance(raw, str):
            continue
        tag = hashtag(raw)
        if tag is None or tag in seen or len(tag) > 60:
            continue
        seen.add(tag)
        out.append(tag)
        if len(out) == limit:
            break
    return out


def split_durations(total: float, weights: Sequence[float]) -> list[float]:
    """Split ``total`` seconds in proportion to ``weights``; the parts add up to ``total``.

    Parts are whole milliseconds (largest-remainder rounding), except the last, which takes
    whatever is left so the float sum matches ``total`` itself.
    """
    if not weights or any(w <= 0 or not math.isfinite(w) for w in weights):
        raise ValueError("weights must be positive numbers")
    total_ms = round(total * 1000)
    scale = total_ms / math.fsum(weights)
    raw = [w * scale for w in weights]
    parts = [math.floor(x) for x in raw]
    short = total_ms - sum(parts)
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)[:short]:
        parts[i] += 1
    seconds = [p / 1000 for p in parts[:-1]]
    # Rounded so the JSON shows 3.256, not 3.2560000000000002; the error stays far below tolerance.
    seconds.append(round(total - math.fsum(seconds), 7))
    if seconds[-1] <= 0:
        raise ValueError(f"cannot split {total:g} s into {len(weights)} scenes")
    return seconds


def allot_seconds(total: float, needs: Sequence[float]) -> list[float]:
    """Scene lengths for speech needing ``needs`` seconds each, adding up to ``total``.

    Every scene gets at least half the average length, so its on-screen text stays up long enough
    to read. If everything fits, the spare time is shared in proportion to need; if not, the time
    above the floor goes to the scenes in proportion to how much more than the floor they need
    (and their narration is then cut to fit).
    """
    floor = total / len(needs) * 0.5
    wanted = [max(need, floor) for need in needs]
    if math.fsum(wanted) <= total:
        spare = total - math.fsum(wanted)
        need_sum = math.fsum(needs)
        if need_sum <= 0:
            return [total / len(needs)] * len(needs)
        return [w + spare * need / need_sum for w, need in zip(wanted, needs, strict=True)]
    excess = [w - floor for w in wanted]
    room = total - floor * len(needs)
    excess_sum = math.fsum(excess)
    return [floor + room * e / excess_sum for e in excess]


def _keywords(*texts: str, extra: Iterable[str] = (), limit: int = 6) -> list[str]:
    out: list[str] = []
    for word in [*extra, *(w.lower() for t in texts for w in _WORD.findall(t))]:
        word = word.strip("'-").lower()
        if len(word) > 2 and word not in _STOPWORDS and word not in out:
            out.append(word)
        if len(out) == limit:
            break
    return out


def _short_text(text: str, limit: int = MAX_ON_SCREEN_CHARS) -> str:
    """A caption for the screen: the first clause, cut on a word boundary."""
    text = " ".join(text.split()).rstrip(".!")
    # A clause ends at punctuation followed by a space: "10:30" and "C:\\x" are not clauses.
    first = re.split(r"[,;:](?=\s)| - | — ", text, maxsplit=1)[0].strip()
    if len(first) >= 12:
        text = first
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:-")
    return (cut or text[: limit - 1]) + "…"


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?")) else text + "."


def _lower_first(text: str) -> str:
    """Lower-case an ordinary capitalised first word so it reads after a connector."""
    first, _, rest = text.partition(" ")
    if len(first) > 1 and first[0].isupper() and first[1:].islower():
        first = first.lower()
    return f"{first} {rest}".strip()


def _report_hashtags(report: Mapping[str, Any]) -> list[str]:
    tags = report.get("top_hashtags") or []
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


PLATFORM_TAGS: dict[str, str] = {
    "tiktok": "#fyp",
    "youtube_shorts": "#shorts",
    "instagram_reels": "#reels",
}


# --------------------------------------------------------------------------------------------
# The offline planner

_HOOKS: dict[str, tuple[str, ...]] = {
    "product-demo": (
        "Stop scrolling. This is the {title}.",
        "You need to see what the {title} can do.",
        "Here is the {title}, in {seconds} seconds.",
    ),
    "tutorial": (
        "Here is how to get the most out of the {title}.",
        "Quick guide: the {title}, step by step.",
    ),
    "listicle": (
        "{count} reasons people love the {title}.",
        "{count} things you did not know about the {title}.",
    ),
    "cinematic": (
        "Meet the {title}.",
        "Some things are worth a closer look. The {title}.",
    ),
    "talking-head": (
        "Let me tell you about the {title}.",
        "Honest take: the {title}.",
    ),
}
_QUESTION_HOOKS = (
    "Ever wished for something like the {title}?",
    "What if your day ran smoother with the {title}?",
)
_CONNECTORS = ("First,", "Plus,", "And", "On top of that,", "Best of all,")
_STEP_CONNECTORS = ("Step one:", "Step two:", "Step three:", "Step four:", "Then,")
_FILLERS = (
    "Designed to make every day a little easier",
    "Simple to set up and easy to love",
    "Made for people who want more from less",
    "Built to last, priced to share",
)
_CTAS: dict[str, tuple[tuple[str, str], ...]] = {
    # (on-screen text, narration)
    "tiktok": (
        ("Follow for more", "Follow for more {theme} ideas."),
        ("Link in bio", "Grab yours from the link in bio."),
    ),
    "youtube_shorts": (
        ("Subscribe for more", "Subscribe for more {theme} ideas."),
        ("Link in description", "Find it through the link in the description."),
    ),
    "instagram_reels": (
        ("Save this for later", "Save this for later and follow for more."),
        ("Link in bio", "Grab yours from the link in bio."),
    ),
}


def _seed(config: ThemeConfig, report: Mapping[str, Any], job_id: int) -> str:
    digest = hashlib.sha256()
    digest.update(config.model_dump_json().encode())
    digest.update(json.dumps(report, sort_keys=True, default=str).encode())
    return f"{job_id}:{digest.hexdigest()}"


def default_scene_count(config: ThemeConfig, talking_points: int) -> int:
    """Hook + one scene per talking point + call to action, capped so scenes stay readable."""
    settings = config.config
    if settings.scenes is not None:
        return settings.scenes
    by_duration = math.floor(settings.video_duration_seconds / SECONDS_PER_SCENE_TARGET)
    cap = max(MIN_SCENES, min(MAX_SCENES, by_duration))
    return max(MIN_SCENES, min(cap, talking_points + 2))


class LocalPlanner:
    """Template planner: no network, no cost, the same plan for the same job id and inputs.

    The job id picks which content reference the video is about (rotating through them across
    jobs) and seeds the template choices, so successive videos differ while a retried job
    reproduces its plan exactly.
    """

    name = "local"

    def plan(self, config: ThemeConfig, report: Mapping[str, Any], job_id: int) -> PlanResult:
        settings = config.config
        rng = random.Random(_seed(config, report, job_id))
        refs = config.content_references
        ref = refs[(job_id - 1) % len(refs)]
        title = ref.title
        duration = settings.video_duration_seconds
        rate = settings.voice.rate

        points = list(ref.talking_points)
        n_scenes = default_scene_count(config, len(points))
        n_middle = n_scenes - 2
        fillers = [s for s in re.split(r"(?<=[.!?])\s+", ref.description) if s.strip()]
        fillers += [f.format(title=title) for f in _FILLERS]
        while len(points) < n_middle:
            points.append(fillers[(len(points) - len(ref.talking_points)) % len(fillers)])
        points = points[:n_middle]

        pattern = str(report.get("pattern") or "")
        dominant = str(report.get("dominant_style") or "")
        hooks: tuple[str, ...]
        if "?" in pattern or "question" in pattern.lower():
            hook_family, hooks = "question", _QUESTION_HOOKS
        elif "listicle" in (settings.style, dominant) or re.search(
            r"\b(top|list)\b", pattern.lower()
        ):
            hook_family, hooks = "listicle", _HOOKS["listicle"]
        else:
            hook_family, hooks = settings.style, _HOOKS[settings.style]
        hook = rng.choice(hooks).format(title=title, count=len(points), seconds=round(duration))
        connectors = _STEP_CONNECTORS if settings.style == "tutorial" else _CONNECTORS
        cta_screen, cta_voice = rng.choice(_CTAS[settings.target_platform])
        cta_voice = cta_voice.format(theme=settings.theme.lower())

        trending = _report_hashtags(report)
        visual_hint = [settings.style.replace("-", " "), *(t.lstrip("#") for t in trending[:1])]
        # Each scene: on-screen text, narrations from preferred to shortest, visual keywords.
        drafts: list[tuple[str, list[str], list[str]]] = [
            (
                _short_text(hook),
                [hook, f"Meet the {title}.", f"{title}."],
                _keywords(title, extra=visual_hint),
            )
        ]
        for i, point in enumerate(points):
            sentence = _sentence(point)
            voice = f"{connectors[min(i, len(connectors) - 1)]} {_lower_first(sentence)}"
            drafts.append((_short_text(point), [voice, sentence], _keywords(point, title)))
        drafts.append(
            (
                cta_screen,
                [cta_voice, "Follow for more."],
                _keywords(title, extra=["call to action"]),
            )
        )

        wps = words_per_second(rate)
        needs = [count_words(voices[0]) / wps for _, voices, _ in drafts]
        durations = split_durations(duration, allot_seconds(duration, needs))
        scenes: list[Scene] = []
        for i, ((screen, voices, keywords), seconds) in enumerate(
            zip(drafts, durations, strict=True)
        ):
            budget = word_budget(seconds, rate)
            fitting = [v for v in voices if count_words(v) <= budget]
            narration = fitting[0] if fitting else fit_words(voices[-1], budget)
            scenes.append(
                Scene(
                    index=i,
                    duration_seconds=seconds,
                    on_screen_text=screen,
                    narration=narration,
                    keywords=keywords,
                )
            )

        tags = normalize_hashtags(
            [settings.theme, title, *trending, PLATFORM_TAGS[settings.target_platform]]
        )
        description = " ".join(part for part in (ref.description.strip(), " ".join(tags)) if part)
        room = 100 - len(title) - 2
        headline = f"{title}: {_short_text(points[0], room)}" if points and room >= 20 else title
        plan = ProductionPlan(
            title=headline,
            description=description,
            hashtags=tags,
            style=settings.style,
            duration_seconds=duration,
            scenes=scenes,
            voiceover_script=" ".join(scene.narration for scene in scenes),
        )
        prompts = {
            "template": "local-v1",
            "hook_family": hook_family,
            "hook": hook,
            "reference": title,
            "trend_pattern": pattern,
        }
        return PlanResult(plan=plan, provider="local", model=None, prompts=prompts, cost=0.0)


def shorten_for_speech(plan: ProductionPlan, ratio: float) -> ProductionPlan:
    """The same plan with every scene's narration cut to ``ratio`` of its words (0 < ratio < 1).

    Used when the synthesized voice turned out slower than the configured rate.
    """
    scenes = [
        scene.model_copy(
            update={
                "narration": fit_words(
                    scene.narration, max(1, math.floor(count_words(scene.narration) * ratio))
                )
            }
        )
        for scene in plan.scenes
    ]
    script = " ".join(scene.narration for scene in scenes)
    return plan.model_copy(update={"scenes": scenes, "voiceover_script": script})


# --------------------------------------------------------------------------------------------
# The language-model planner

SYSTEM_PROMPT = """\
You plan short vertical social videos. Reply with ONE JSON object and nothing else:
{
  "title": string (max 100 characters),
  "description": string (1-3 sentences for the post caption),
  "hashtags": [string] (at most 10, each starting with '#', no spaces),
  "style": string (the requested style),
  "scenes": [ (between 3 and 6 scenes; the first is a hook, the last a call to action)
    {
      "duration_seconds": number,
      "on_screen_text": string (max 60 characters, shown large on screen),
      "narration": string (what the voiceover says during this scene),
      "keywords": [string] (2-5 concrete visual search words)
    }
  ],
  "voiceover_script": string (all narrations joined, in order)
}
Rules: scene durations add up exactly to the requested total. Each scene's narration must be
speakable within its duration at the given words-per-minute rate: at most duration x rate / 60 x
0.85 words. Be concrete; use only facts from the content references."""


def build_user_prompt(config: ThemeConfig, report: Mapping[str, Any], job_id: int) -> str:
    settings = config.config
    refs = config.content_references
    ref = refs[(job_id - 1) % len(refs)]
    top_videos = report.get("top_videos") or []
    titles = [
        str(v.get("title"))
        for v in (top_videos if isinstance(top_videos, list) else [])
        if isinstance(v, Mapping) and v.get("title")
    ][:5]
    brief = {
        "theme": settings.theme,
        "platform": settings.target_platform,
        "total_duration_seconds": settings.video_duration_seconds,
        "scene_count": settings.scenes or "3-6, your choice",
        "style": settings.style,
        "tone": settings.tone,
        "language": settings.language,
        "voice_rate_words_per_minute": settings.voice.rate,
        "max_total_words": word_budget(settings.video_duration_seconds, settings.voice.rate),
        "product_or_topic": ref.model_dump(mode="json"),
        "trend_report": {
            "pattern": report.get("pattern"),
            "top_hashtags": _report_hashtags(report)[:10],
            "dominant_style": report.get("dominant_style"),
            "typical_duration_seconds": report.get("typical_duration_seconds"),
            "top_video_titles": titles,
        },
    }
    return (
        "Plan one video from this brief. Use a few of the trending hashtags if they fit.\n"
        + json.dumps(brief, indent=2, ensure_ascii=False)
    )


def _format_validation_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(part) for part in err["loc"]) or "plan"
    return f"{loc}: {str(err['msg']).removeprefix('Value error, ')}"


def repair_plan_data(data: Mapping[str, Any], config: ThemeConfig) -> dict[str, Any]:
    """Fix what a model commonly gets slightly wrong; leave real mistakes for validation.

    Repaired: scene durations (rescaled to add up to the video duration), scene indexes,
    hashtag formatting, a missing style or voiceover script. Anything else is left as is.
    """
    settings = config.config
    fixed: dict[str, Any] = dict(data)
    fixed["duration_seconds"] = settings.video_duration_seconds
    fixed.setdefault("style", settings.style)
    if isinstance(fixed.get("hashtags"), list):
        fixed["hashtags"] = normalize_hashtags(fixed["hashtags"])
    scenes = fixed.get("scenes")
    if not isinstance(scenes, list) or not all(isinstance(s, Mapping) for s in scenes):
        return fixed
    scenes = [dict(scene, index=i) for i, scene in enumerate(scenes)]
    raw = [scene.get("duration_seconds") for scene in scenes]
    if MIN_SCENES <= len(scenes) <= MAX_SCENES and all(
        isinstance(d, int | float) and not isinstance(d, bool) and d > 0 and math.isfinite(d)
        for d in raw
    ):
        durations = split_durations(settings.video_duration_seconds, [float(d) for d in raw])
        for scene, seconds in zip(scenes, durations, strict=True):
            scene["duration_seconds"] = seconds
    fixed["scenes"] = scenes
    if not fixed.get("voiceover_script"):
        fixed["voiceover_script"] = " ".join(str(s.get("narration", "")) for s in scenes).strip()
    return fixed


class LLMPlanner:
    """Asks a language model (any ``vidgen.providers.llm.LLM``) for the plan as JSON."""

    def __init__(self, llm: LLM) -> None:
        self.llm = llm
        self.name = llm.provider

    def estimate_cost(self, config: ThemeConfig, report: Mapping[str, Any], job_id: int) -> float:
        from vidgen.providers.llm import estimate_cost

        return estimate_cost(self.llm, SYSTEM_PROMPT, build_user_prompt(config, report, job_id))

    def plan(self, config: ThemeConfig, report: Mapping[str, Any], job_id: int) -> PlanResult:
        user = build_user_prompt(config, report, job_id)
        response = self.llm.complete_json(SYSTEM_PROMPT, user)
        if not isinstance(response.data, Mapping):
            raise StageError(
                f"the {self.llm.provider} planner did not return a JSON object; "
                "another attempt may succeed, or set providers.planner: local"
            )
        try:
            plan = ProductionPlan.model_validate(repair_plan_data(response.data, config))
        except ValidationError as exc:
            raise StageError(
                f"the {self.llm.provider} planner returned an unusable plan "
                f"({_format_validation_error(exc)}); another attempt may succeed, "
                "or set providers.planner: local"
            ) from None
        return PlanResult(
            plan=plan,
            provider=response.provider,
            model=response.model,
            prompts={"system": SYSTEM_PROMPT, "user": user},
            cost=response.cost,
        )


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
    return LLMPlanner(get_llm(name, config.config.llm_model))
