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
import itertools
import json
import math
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from vidgen.analysis import topic_keywords, topic_phrases
from vidgen.config import ContentReference, ThemeConfig
from vidgen.errors import FatalStageError, StageError

if TYPE_CHECKING:
    from vidgen.providers.llm import LLM

MIN_SCENES = 3
MAX_SCENES = 6
MAX_HASHTAGS = 10
MAX_ON_SCREEN_CHARS = 60
# Spoken words per second is rate/60. Both offline voices speak about voice.rate words per
# minute with their pauses included (Piper: 47 words in 17 s at 165), so only a little slack is
# kept; a voice that still runs over is shortened once and spoken again.
SPEECH_FILL = 0.92
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
        "a an and are as at be but by for from has have in into is it its of on or so than my "
        "that the their this to was were will with you your yours our we us can one every "
        "while any all more just get got here there what when why how who which",
    )
)


# What a scene is for; the composition picks its layout by it (``vidgen.media.scenes``).
#   hook        the opening: the subject big, a short headline
#   feature     one fact about the subject: its picture, the caption carries the words
#   list_item   one item of a list: its number big (``number``), its picture
#   step        one step of a how-to: its number big (``number``), its picture
#   fact        a number or figure: the figure big (``headline``)
#   comparison  two things side by side (``subjects`` holds both)
#   cta         the call to action, last
SceneKind = Literal["hook", "feature", "list_item", "step", "fact", "comparison", "cta"]
SCENE_KINDS: tuple[str, ...] = get_args(SceneKind)
MAX_HEADLINE_CHARS = 40


class Scene(BaseModel):
    index: int = Field(ge=0)
    duration_seconds: float = Field(gt=0)
    on_screen_text: str = Field(min_length=1, max_length=MAX_ON_SCREEN_CHARS)
    narration: str = Field(min_length=1)
    keywords: list[str] = Field(default_factory=list, max_length=12)
    # Plans recorded before these fields existed load with the defaults.
    kind: SceneKind = "feature"
    # Big text that adds what the voice does not say at that moment (a number, a product name,
    # a list heading); never the sentence being spoken. None: only the caption is shown.
    headline: str | None = Field(default=None, max_length=MAX_HEADLINE_CHARS)
    number: int | None = Field(default=None, ge=1)  # list_item / step
    # The concrete things the scene talks about, most important first ("kettle", "backpack"):
    # what its pictures show.
    subjects: list[str] = Field(default_factory=list, max_length=3)


class ProductionPlan(BaseModel):
    title: str = Field(min_length=1, max_length=150)
    description: str
    hashtags: list[str] = Field(max_length=MAX_HASHTAGS)
    style: str = Field(min_length=1)
    duration_seconds: float = Field(gt=0, description="the video duration the scenes add up to")
    scenes: list[Scene] = Field(min_length=MIN_SCENES, max_length=MAX_SCENES)
    voiceover_script: str = Field(min_length=1)
    # What the whole video is about, by name ("PocketBrew Travel Kettle") and in plain words a
    # picture can be found for ("kettle", "tea"): the fallback picture of every scene.
    subject: str | None = None
    subject_terms: list[str] = Field(default_factory=list, max_length=8)

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
    # The epsilon keeps 7.0 words from flooring to 6 through float rounding.
    return max(1, math.floor(duration_seconds * words_per_second(rate_wpm) + 1e-6))


def count_words(text: str) -> int:
    """Words as they are *spoken*: a number is said as several ("241" is "two hundred forty
    one", "1.4" is "one point four"), which a count of written words would miss."""
    total = 0
    for token in text.split():
        digits = re.sub(r"\D", "", token)
        if len(digits) <= 1 or (len(digits) == 2 and digits.endswith("0")):
            total += 1
        elif "." in token.strip(".") or len(digits) == 2:
            total += 3 if "." in token.strip(".") else 2
        else:
            total += 4
    return total


def fit_words(text: str, budget: int) -> str:
    """``text`` cut to at most ``budget`` spoken words (``count_words``), ending on a whole
    word and a full stop."""
    words = text.split()
    if count_words(text) <= budget:
        return text.strip()
    kept: list[str] = []
    for word in words:
        if kept and count_words(" ".join([*kept, word])) > budget:
            break
        kept.append(word)
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


def timed_scenes(
    drafts: list[tuple[str, list[str], list[str]]], duration: float, rate: int
) -> list[Scene]:
    """Scenes from (on-screen text, narration choices longest first, keywords) drafts: the
    video's time is shared by how long each first choice takes to say, then each scene speaks
    the longest choice that fits its share (the last one cut to fit if none does)."""
    wps = words_per_second(rate)
    needs = [count_words(voices[0]) / wps for _, voices, _ in drafts]
    durations = split_durations(duration, allot_seconds(duration, needs))
    scenes: list[Scene] = []
    for i, ((screen, voices, keywords), seconds) in enumerate(zip(drafts, durations, strict=True)):
        budget = word_budget(seconds, rate)
        fitting = [v for v in voices if count_words(v) <= budget]
        narration = fitting[0] if fitting else fit_words(voices[-1], budget)
        kind: SceneKind = "hook" if i == 0 else "cta" if i == len(drafts) - 1 else "feature"
        scenes.append(
            Scene(
                index=i,
                duration_seconds=seconds,
                on_screen_text=screen,
                narration=narration,
                keywords=keywords,
                kind=kind,
                subjects=keywords[:2],
            )
        )
    return scenes


# --------------------------------------------------------------------------------------------
# What the video is about


@dataclass(frozen=True)
class Subject:
    """What one video is about: a content reference, or the theme itself (``reference`` None).

    ``topic`` is the trend report's entry for it (``hashtags`` and ``trends`` related to it, see
    ``vidgen.analysis.topic_trends``); empty when the report has none.
    """

    title: str
    reference: ContentReference | None
    topic: Mapping[str, Any]
    theme: str
    theme_matched: bool  # the theme chose this reference (or the video is about the theme)

    @property
    def hashtags(self) -> list[str]:
        tags = self.topic.get("hashtags") or []
        return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []

    @property
    def trends(self) -> list[Mapping[str, Any]]:
        trends = self.topic.get("trends") or []
        if not isinstance(trends, list):
            return []
        return [t for t in trends if isinstance(t, Mapping) and str(t.get("title") or "").strip()]


def reference_matches(reference: ContentReference, theme: str) -> bool:
    """Whether a theme names what a reference is about (its title, description or tags)."""
    wanted = set(topic_phrases([theme], with_words=True))
    have = set(topic_keywords(reference.title, reference.description, *reference.tags))
    have |= set(topic_phrases(reference.tags, with_words=False))
    return bool(wanted & have)


def _topic(report: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    topics = report.get("topics")
    if isinstance(topics, list):
        for topic in topics:
            if (
                isinstance(topic, Mapping)
                and str(topic.get("topic", "")).casefold() == name.casefold()
            ):
                return topic
    return {}


def choose_subject(config: ThemeConfig, report: Mapping[str, Any], job_id: int) -> Subject:
    """The theme decides what the video is about.

    References whose title, description or tags match the theme are the candidates (the job id
    rotates through them). With none matching, a theme given with ``--theme`` makes the video
    about the theme itself, from the trends collected for it; the file's own theme (no
    ``--theme``) keeps every reference a candidate, since the file lists them for its theme.
    """
    theme = config.config.theme
    refs = config.content_references
    matching = [ref for ref in refs if reference_matches(ref, theme)]
    if matching:
        ref = matching[(job_id - 1) % len(matching)]
        return Subject(ref.title, ref, _topic(report, ref.title), theme, True)
    if not config.theme_is_explicit:
        ref = refs[(job_id - 1) % len(refs)]
        return Subject(ref.title, ref, _topic(report, ref.title), theme, False)
    return Subject(theme, None, _topic(report, theme), theme, True)


def spoken_count(number: int) -> str:
    """Views as a narrator says them: 241424 -> "241 thousand", 6699 -> "6.7 thousand",
    1356100 -> "1.4 million"."""
    if number >= 1_000_000:
        value = f"{number / 1_000_000:.1f}".removesuffix(".0")
        return f"{value} million"
    if number >= 10_000:
        return f"{round(number / 1000)} thousand"
    if number >= 1000:
        # "6.7 thousand", not "six thousand six hundred ninety nine": short to say and to read.
        return f"{number / 1000:.1f}".removesuffix(".0") + " thousand"
    return str(number)


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
        "Here is the {title}, in under {seconds} seconds.",
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


# Planning estimates: a hook and a call to action take about this many words together, and each
# talking point gains a connector ("On top of that,").
_ROUGH_HOOK_AND_CTA_WORDS = 17
_ROUGH_CONNECTOR_WORDS = 2


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
        subject = choose_subject(config, report, job_id)
        if subject.reference is None:
            return self._theme_plan(config, report, subject, rng)
        ref = subject.reference
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
        # Fit the script to the target: while the video has time to say more, say what the
        # description says too (a short script would make a short video, never a silent one).
        described: set[str] = set()
        if settings.scenes is None:
            cap = max(MIN_SCENES, min(MAX_SCENES, math.floor(duration / SECONDS_PER_SCENE_TARGET)))
            extras = [f for f in fillers[: len(fillers) - len(_FILLERS)] if f not in points]
            room = word_budget(duration, rate) - _ROUGH_HOOK_AND_CTA_WORDS
            while extras and len(points) + 2 < cap:
                said = sum(count_words(p) + _ROUGH_CONNECTOR_WORDS for p in [*points, extras[0]])
                if said > room:
                    break
                described.add(extras[0])
                points.append(extras.pop(0))
            n_middle = len(points)

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

        # Hashtags of the trends about this very product, never the report's global top list.
        trending = subject.hashtags
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
            if point in described:  # a sentence of its own: "A folding silicone kettle ..."
                voice = sentence
            drafts.append((_short_text(point), [voice, sentence], _keywords(point, title)))
        drafts.append(
            (
                cta_screen,
                [cta_voice, "Follow for more."],
                _keywords(title, extra=["call to action"]),
            )
        )

        scenes = timed_scenes(drafts, duration, rate)

        tags = normalize_hashtags(
            [
                *([settings.theme] if subject.theme_matched else []),
                title,
                *trending,
                PLATFORM_TAGS[settings.target_platform],
            ]
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
            subject=title,
            subject_terms=_keywords(title, *ref.tags, limit=8),
        )
        prompts = {
            "template": "local-v1",
            "hook_family": hook_family,
            "hook": hook,
            "reference": title,
            "subject": "reference",
            "theme": settings.theme,
            "theme_matched": str(subject.theme_matched).lower(),
            "topic_hashtags": " ".join(f"#{t}" for t in trending),
            "trend_pattern": pattern,
        }
        return PlanResult(plan=plan, provider="local", model=None, prompts=prompts, cost=0.0)

    def _theme_plan(
        self,
        config: ThemeConfig,
        report: Mapping[str, Any],
        subject: Subject,
        rng: random.Random,
    ) -> PlanResult:
        """A video about the theme itself: the trending videos about it, with their numbers."""
        settings = config.config
        theme = subject.theme
        duration = settings.video_duration_seconds
        rate = settings.voice.rate
        n_scenes = settings.scenes or max(
            MIN_SCENES,
            min(
                MAX_SCENES, math.floor(duration / SECONDS_PER_SCENE_TARGET), len(subject.trends) + 2
            ),
        )
        ideas = subject.trends[: n_scenes - 2]
        drafts: list[tuple[str, list[str], list[str]]] = []
        # As many ideas as the video has time to say, with their numbers of views if they fit.
        # Two ideas with their numbers say more than three without.
        budget = word_budget(duration, rate)
        counted = ideas
        while len(counted) > 1 and _words_for(counted, theme) > budget:
            counted = counted[:-1]
        with_views = len(counted) >= min(2, len(ideas)) and _words_for(counted, theme) <= budget
        if with_views:
            ideas = counted
        while len(ideas) > 1 and _words_for(ideas, theme, views=False) > budget:
            ideas = ideas[:-1]
        if ideas:
            count = len(ideas)
            hook, headline = _theme_hook(count, theme)
            drafts.append((_short_text(hook), [hook, f"{theme}, trending now."], _keywords(theme)))
            for i, idea in enumerate(ideas):
                name, voices = _idea_lines(i, idea)
                voices = voices if with_views else voices[-1:]
                drafts.append((_short_text(f"#{i + 1} {name}"), voices, _keywords(name, theme)))
        else:
            # Nothing collected about the theme: say so plainly and give the viewer a reason.
            hook = f"Nobody is talking about {theme} yet."
            headline = f"{theme}: be the first"
            drafts.append((_short_text(hook), [hook, f"{theme}."], _keywords(theme)))
            points = [
                f"No trending video is about {theme.lower()} this week",
                "That means the first good one gets all the attention",
                "Keep it short, show it in the first second, and post it today",
            ]
            for point in points[: n_scenes - 2]:
                drafts.append((_short_text(point), [_sentence(point)], _keywords(point, theme)))
        cta_screen, cta_voice = rng.choice(_CTAS[settings.target_platform])
        if "{theme}" not in cta_voice:
            cta_screen, cta_voice = _CTAS[settings.target_platform][0]
        drafts.append(
            (
                cta_screen,
                [cta_voice.format(theme=theme.lower()), "Follow for more."],
                _keywords(theme, extra=["call to action"]),
            )
        )
        scenes = timed_scenes(drafts, duration, rate)
        trending = subject.hashtags
        tags = normalize_hashtags([theme, *trending, PLATFORM_TAGS[settings.target_platform]])
        titles = "; ".join(" ".join(str(i["title"]).split()) for i in ideas)
        summary = f"This week's trending {theme} videos: {titles}." if titles else headline + "."
        plan = ProductionPlan(
            title=headline[:100],
            description=" ".join([summary, " ".join(tags)]),
            hashtags=tags,
            style=settings.style,
            duration_seconds=duration,
            scenes=scenes,
            voiceover_script=" ".join(scene.narration for scene in scenes),
            subject=theme,
            subject_terms=_keywords(theme, limit=8),
        )
        prompts = {
            "template": "local-v1",
            "hook_family": "theme-trends",
            "hook": hook,
            "reference": "",
            "subject": "theme",
            "theme": theme,
            "theme_matched": "true",
            "topic_hashtags": " ".join(f"#{t}" for t in trending),
            "trend_pattern": str(report.get("pattern") or ""),
        }
        return PlanResult(plan=plan, provider="local", model=None, prompts=prompts, cost=0.0)


_ORDINALS = ("First", "Second", "Third", "Fourth", "Fifth")


def _theme_hook(count: int, theme: str) -> tuple[str, str]:
    noun = "idea" if count == 1 else "ideas"
    headline = f"{count} {theme} {noun} trending this week"
    return headline + ".", headline


def _idea_lines(i: int, idea: Mapping[str, Any]) -> tuple[str, list[str]]:
    """The idea's name and its narrations, preferred first ("First: <title>, 2 million views.")."""
    name = " ".join(str(idea["title"]).split()).rstrip(".!?:;,")
    views = idea.get("views")
    ordinal = _ORDINALS[min(i, len(_ORDINALS) - 1)]
    short = f"{ordinal}: {name}."
    if isinstance(views, int | float) and not isinstance(views, bool) and views > 0:
        return name, [f"{ordinal}: {name}, {spoken_count(int(views))} views.", short]
    return name, [short]


def _words_for(ideas: Sequence[Mapping[str, Any]], theme: str, views: bool = True) -> int:
    hook, _ = _theme_hook(len(ideas), theme)
    lines = [_idea_lines(i, idea)[1][0 if views else -1] for i, idea in enumerate(ideas)]
    return count_words(hook) + sum(count_words(line) for line in lines) + 6  # + the call to action


# The video runs on this long after the last word: a breath, never a silent tail.
SPEECH_TAIL = 0.7
# A scene's picture and text arrive this long before its first word is heard.
SCENE_LEAD = 0.25
# No scene shorter than this, whatever the timings say: a flash is not a scene.
MIN_SCENE_SECONDS = 0.5


def with_joined_script(plan: ProductionPlan) -> ProductionPlan:
    """The plan whose voiceover is exactly its scenes' narrations in order.

    Scene *i* is on screen while its narration is heard, so the script cannot say anything the
    scenes do not (an LLM may write a script of its own; the narrations win).
    """
    joined = " ".join(" ".join(scene.narration.split()) for scene in plan.scenes)
    if plan.voiceover_script == joined:
        return plan
    return plan.model_copy(update={"voiceover_script": joined})


def retime_to_speech(
    plan: ProductionPlan, words: Sequence[Mapping[str, Any]], *, max_duration: float
) -> ProductionPlan:
    """Scene durations from when each scene's narration is actually heard.

    ``words`` are the voice's word timings (slices of ``plan.voiceover_script``, which must be
    the joined narrations, see ``with_joined_script``). Scene *i* starts ``SCENE_LEAD`` before
    its first word (never before the previous scene's last word) and the video ends
    ``SPEECH_TAIL`` after the last word, at most ``max_duration``: the video is as long as
    what is said, so nothing runs ahead of the picture and no silent tail is left.
    """
    from vidgen.media.captions import locate_words

    script = plan.voiceover_script
    located = locate_words(script, words)
    if not located:
        return plan
    ranges: list[tuple[int, int]] = []
    cursor = 0
    for scene in plan.scenes:
        text = " ".join(scene.narration.split())
        at = script.find(text, cursor)
        if at < 0:
            return plan  # not the joined narrations: keep the planned durations
        ranges.append((at, at + len(text)))
        cursor = at + len(text)
    spans: list[tuple[float, float] | None] = []
    for first, last in ranges:
        inside = [(a, b) for (p, q, a, b) in located if p < last and q > first]
        spans.append((inside[0][0], inside[-1][1]) if inside else None)
    known = [span for span in spans if span is not None]
    speech_end = known[-1][1]
    total = round(min(max_duration, speech_end + SPEECH_TAIL), 3)
    boundaries = [0.0]
    previous_end = 0.0
    for i in range(1, len(spans)):
        before, span = spans[i - 1], spans[i]
        if before is not None:
            previous_end = before[1]
        if span is None:
            start = previous_end + MIN_SCENE_SECONDS
        else:
            start = max(previous_end, span[0] - SCENE_LEAD)
        start = max(start, boundaries[-1] + MIN_SCENE_SECONDS)
        boundaries.append(round(start, 3))
    # Keep room for the scenes that follow, even if timings were odd.
    for i in range(len(boundaries) - 1, 0, -1):
        room = total - MIN_SCENE_SECONDS * (len(boundaries) - i)
        boundaries[i] = round(min(boundaries[i], room), 3)
    if any(b <= a for a, b in itertools.pairwise([*boundaries, total])):
        return plan
    durations = [round(b - a, 3) for a, b in itertools.pairwise(boundaries)]
    durations.append(round(total - math.fsum(durations), 7))
    scenes = [
        scene.model_copy(update={"duration_seconds": seconds})
        for scene, seconds in zip(plan.scenes, durations, strict=True)
    ]
    return ProductionPlan.model_validate(
        {**plan.model_dump(), "scenes": [s.model_dump() for s in scenes], "duration_seconds": total}
    )


def shorten_for_speech(plan: ProductionPlan, ratio: float) -> ProductionPlan:
    """The same plan with its narration cut to about ``ratio`` of its words (0 < ratio < 1).

    Used when the synthesized voice turned out slower than the configured rate. Words come off
    the longest narrations first, so a short hook or call to action ("Follow for more.") stays
    whole instead of every line losing its end.
    """
    budgets = [count_words(scene.narration) for scene in plan.scenes]
    target = max(len(budgets), math.floor(sum(budgets) * ratio))
    while sum(budgets) > target:
        longest = max(range(len(budgets)), key=lambda i: (budgets[i], -i))
        if budgets[longest] <= 1:
            break
        budgets[longest] -= 1
    scenes = [
        scene.model_copy(update={"narration": fit_words(scene.narration, budget)})
        for scene, budget in zip(plan.scenes, budgets, strict=True)
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
0.92 words. Be concrete; use only facts from the content references."""


def build_user_prompt(config: ThemeConfig, report: Mapping[str, Any], job_id: int) -> str:
    """The brief for a language model: the same subject, theme and related trends the local
    planner works from (``choose_subject``), never the report's global hashtag list."""
    settings = config.config
    subject = choose_subject(config, report, job_id)
    related = [{"title": str(t.get("title")), "views": t.get("views")} for t in subject.trends[:5]]
    if subject.reference is not None:
        about: dict[str, Any] = subject.reference.model_dump(mode="json")
    else:
        about = {
            "title": subject.theme,
            "description": f"A video about {subject.theme} itself, built from the trending "
            "videos about it listed in trend_report.related_trends (quote their numbers).",
            "talking_points": [t["title"] for t in related],
        }
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
        "opening_line_must_name": subject.title,
        "product_or_topic": about,
        "trend_report": {
            # The pattern's hashtags are the global top list: about other videos, so left out.
            "pattern": re.sub(r",?\s*(?:#\w+\s*)+rising$", "", str(report.get("pattern") or "")),
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
