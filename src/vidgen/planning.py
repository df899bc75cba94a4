"""The production plan: what a video says and shows, scene by scene.

A ``Planner`` turns a theme config and a trend report into a ``ProductionPlan``. The theme picks
the subject (``choose_subject``: references by phrase and weight, else the theme itself from
the trends really about it). The default ``LocalPlanner`` is offline and deterministic (same job
id + config + report + variant, same plan): it writes whole sentences from the material in one
of several shapes (``SHAPES``), one fact each, and fills every scene's kind, headline, number
and subjects for the layouts. ``LLMPlanner`` asks a language model for the same plan, repairs
what is safely repairable, checks it against the same rules (``plan_problems``), asks once more
and otherwise hands over to the local planner.

Two invariants every plan keeps, whoever wrote it:

- scene durations add up to the video duration (the composition cuts clips to them), and
- the script is whole sentences that fit the video: ``video_duration_seconds`` is an upper
  bound, met by dropping whole sentences, never by cutting one (only a video too short for one
  sentence per scene is cut, as a last resort, by ``shorten_for_speech``).
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

from vidgen.analysis import is_about, topic_keywords, topic_phrases, topic_stem
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
    # What the generation log should say about how the plan came about (a fallback, a retry).
    notes: list[str] = Field(default_factory=list)


class Planner(Protocol):
    """Writes the production plan for one job.

    Contract:
    - ``plan(config, report, job_id)`` returns a ``PlanResult`` whose plan has 3-6 scenes with
      durations summing to ``config.config.video_duration_seconds`` and ``style`` set.
    - ``report`` is the ``trend_analysis`` stage's outputs (``pattern``, ``top_hashtags``,
      ``dominant_style``, ``typical_duration_seconds``, ``top_videos``...); missing keys are
      tolerated, so a plan can be made from a sparse report.
    - ``prompts`` records what was asked (for the generation log); ``cost`` is in US dollars.
    - ``variant`` 0 is the plan of choice; 1, 2... are other angles (another reference, another
      script shape) on the same job, asked for when a plan is too like an earlier video.
    - Raises ``StageError`` when another attempt may succeed (network) and ``FatalStageError``
      when no retry can (missing credentials, nothing to say about the theme).
    """

    name: str

    def plan(
        self, config: ThemeConfig, report: Mapping[str, Any], job_id: int, variant: int = 0
    ) -> PlanResult: ...


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


_PHRASE_WORD = re.compile(r"[^\W_]+")


def _phrase(text: str) -> str:
    return " ".join(w.lower() for w in _PHRASE_WORD.findall(text))


def reference_score(reference: ContentReference, theme: str) -> int:
    """How well a theme names what a reference is about (0: not at all).

    4: a tag IS the theme; 3: the theme is a phrase of the title; 2: every word of the theme is
    in the title or tags; 1: every word of a several-word theme is somewhere in the reference's
    text. One shared word of a longer theme never counts: "Home Workout" does not match a lamp
    tagged "work from home".
    """
    key = _phrase(theme)
    if any(_phrase(tag) == key or tag.strip() == theme.strip() for tag in reference.tags):
        return 4
    wanted = topic_keywords(theme)
    if not wanted:
        return 0
    if f" {key} " in f" {_phrase(reference.title)} ":
        return 3
    named = set(topic_keywords(reference.title, *reference.tags))
    named |= set(topic_phrases(reference.tags, with_words=False))
    if all(word in named for word in wanted):
        return 2
    text = named | set(topic_keywords(reference.description, *reference.talking_points))
    if len(wanted) > 1 and all(word in text for word in wanted):
        return 1
    return 0


def reference_matches(reference: ContentReference, theme: str) -> bool:
    """Whether a theme names what a reference is about (``reference_score`` above 0)."""
    return reference_score(reference, theme) > 0


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


def subject_candidates(config: ThemeConfig) -> tuple[list[ContentReference], bool]:
    """The references a video may be about, best first, and whether the theme chose them.

    The references with the best ``reference_score`` are the candidates. With none matching,
    the file's own theme (no ``--theme``) keeps every reference (the file lists them for its
    theme); a theme given with ``--theme`` has none (the video is about the theme itself).
    """
    theme = config.config.theme
    refs = config.content_references
    scores = [reference_score(ref, theme) for ref in refs]
    best = max(scores, default=0)
    if best > 0:
        return [ref for ref, s in zip(refs, scores, strict=True) if s == best], True
    if not config.theme_is_explicit:
        return list(refs), False
    return [], True


def choose_subject(
    config: ThemeConfig, report: Mapping[str, Any], job_id: int, variant: int = 0
) -> Subject:
    """The theme decides what the video is about (``subject_candidates``); the job id rotates
    among equal candidates across jobs, and ``variant`` (another angle, for originality) moves
    on to the next one."""
    theme = config.config.theme
    candidates, matched = subject_candidates(config)
    if candidates:
        ref = candidates[(job_id - 1 + variant) % len(candidates)]
        return Subject(ref.title, ref, _topic(report, ref.title), theme, matched)
    return Subject(theme, None, _topic(report, theme), theme, True)


def uncovered_theme(config: ThemeConfig, shipped_trends: Iterable[Any] | None) -> str | None:
    """Why nothing configured can make a video about the job's theme, or None if something can.

    A reference that matches, a network trend provider, or an LLM planner can cover any theme;
    the shipped sample trends only the themes some of them are really about
    (``shipped_trends``: the sample provider's items; None when the trend provider is not the
    sample). The answer is the one line a user reads, saying what to add.
    """
    settings = config.config
    if not config.theme_is_explicit or subject_candidates(config)[0]:
        return None
    if settings.providers.planner != "local" or settings.providers.trends != "sample":
        return None
    if shipped_trends is not None and any(is_about(t, settings.theme) for t in shipped_trends):
        return None
    return theme_uncovered_message(settings.theme)


def theme_uncovered_message(theme: str) -> str:
    return (
        f"nothing can make a video about {theme!r}: no content reference matches it and no "
        "trend collected is about it; add a content reference tagged "
        f"{_phrase(theme)!r}, or set providers.trends (youtube, tiktok) or providers.planner "
        "(openai, anthropic) to cover it"
    )


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


def short_count(number: int) -> str:
    """Views for the screen: 6699 -> "6.7K", 1356100 -> "1.4M"."""
    if number >= 1_000_000:
        return f"{number / 1_000_000:.1f}".removesuffix(".0") + "M"
    if number >= 100_000:
        return f"{round(number / 1000)}K"
    if number >= 1000:
        return f"{number / 1000:.1f}".removesuffix(".0") + "K"
    return str(number)


PLATFORM_TAGS: dict[str, str] = {
    "tiktok": "#fyp",
    "youtube_shorts": "#shorts",
    "instagram_reels": "#reels",
}
_LINK_LINES: dict[str, tuple[str, str]] = {
    # (on-screen text, narration) when the config gives a link
    "tiktok": ("Link in bio", "The link is in my bio."),
    "youtube_shorts": ("Link in description", "The link is in the description."),
    "instagram_reels": ("Link in bio", "The link is in my bio."),
}
_FOLLOW: dict[str, str] = {
    "tiktok": "Follow",
    "youtube_shorts": "Subscribe",
    "instagram_reels": "Follow",
}


# --------------------------------------------------------------------------------------------
# Words: facts, sentences, numbers

_NUMBER_WORDS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "twelve": "12",
    "twenty": "20",
    "thirty": "30",
    "hundred": "100",
    "half": "0.5",
}
_COUNT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_ORDINAL_WORDS = ("First", "Second", "Third", "Fourth", "Fifth", "Sixth")
_SPOKEN_NUMBERS = ("one", "two", "three", "four", "five", "six")
# Words that never name a picture on their own.
_NOT_PICTURED = frozenset(
    re.findall(
        r"\w+",
        "minute minutes second seconds hour hours time times way ways day days week weeks "
        "mode modes thing things half litre litres liter liters gram grams kilo kilos metre "
        "metres mile miles percent lot lots kind part parts side sides deep new old fast slow "
        "quick easy warm cool hot cold light less more most best better good great first next "
        "any every each own also even still only well just really pair pairs use using used "
        "make makes made keep keeps kept fit fits let lets take takes feel feels need needs "
        "people views view video videos idea ideas creator creators story stories tips tip "
        "top step steps guide week's everyday ever never always nobody per full flat size "
        "background more few above below see how after before during per into onto fix stronger "
        "faster bigger smaller lighter not riper sweeter "
        # Verbs a tip starts with ("In Kyoto, climb ..."): what it is about comes after.
        "rent climb order walk cross ride skip find go put hold move cut screw sand wear toss "
        "press cook pour marinate download list split cancel switch arrive plan try do start "
        "add stop turn tell buy bring pack book visit eat drink check set save spend wait "
        "reward layer dimple salt real dead then without instead",
    )
)
_DETERMINERS = frozenset(
    re.findall(
        r"\w+",
        "a an the any your my our their his her its this that these those half one two three "
        "four five six seven eight nine ten up to",
    )
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_FIGURE = re.compile(
    r"\b(\d+(?:[.,]\d+)?|half an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|"
    r"twenty|thirty)\s+(?:(?:hour|minute|second|day|week|month|year|litre|liter|gram|kilo|"
    r"metre|meter|mile|percent|degree|step|mode|colour|color|setting|hour)s?|[a-z]+)\b",
    re.IGNORECASE,
)
_FIGURE_UNITS = frozenset(
    re.findall(
        r"\w+",
        "hour minute second day week month year litre liter gram kilo metre meter mile km kg "
        "percent degree step mode colour color setting charge cup cups battery ml mm cm",
    )
)


def _stems(text: str) -> set[str]:
    """A sentence's content words, stemmed, with number words as digits: what two sentences
    are compared by when asking "do they say the same thing?"."""
    out: set[str] = set()
    for word in re.findall(r"[A-Za-z]+|\d+(?:\.\d+)?", text.lower()):
        word = _NUMBER_WORDS.get(word, word)
        if word.replace(".", "").isdigit():
            out.add(word)
            continue
        stem = topic_stem(word)
        if len(stem) >= 3 and stem not in _STOPWORDS:
            out.add(stem)
    return out


def same_fact(a: str, b: str) -> bool:
    """Two sentences say the same thing: most of the shorter one's content words (numbers
    included) are in the other ("boils water in three minutes" / "boils half a litre in
    three minutes")."""
    left, right = _stems(a), _stems(b)
    if not left or not right:
        return False
    shared = left & right
    return len(shared) >= 2 and len(shared) / min(len(left), len(right)) >= 0.6


def figure_of(text: str) -> str | None:
    """The number a sentence states, as a headline: "boils half a litre in three minutes" ->
    "3 minutes" (units of time and measure before others); None when there is none."""
    found: list[tuple[int, str]] = []
    for match in _FIGURE.finditer(text):
        number, unit = match.group(1).lower(), match.group(0).split()[-1].lower()
        if number.startswith("half"):
            continue
        digits = _NUMBER_WORDS.get(number, number)
        rank = 0 if topic_stem(unit) in _FIGURE_UNITS else 1
        if unit in _STOPWORDS or len(unit) < 2:
            continue
        if rank == 0 and digits != "1" and not unit.endswith("s") and unit not in _NO_PLURAL:
            unit += "s"  # "ten minute charge" -> "10 minutes"
        found.append((rank, f"{digits} {unit}"))
    if not found:
        return None
    figure = min(found, key=lambda pair: pair[0])[1]
    number, _, unit = figure.partition(" ")
    short = _UNIT_SYMBOLS.get(unit.lower())
    if short is not None:
        # A stat, as a spec sheet writes it ("30 dB", "85%"): the screen shows the number
        # while the caption carries the words, so the two never read as one sentence twice.
        figure = f"{number}{short}" if short in ("%", "°") else f"{number} {short}"
    return figure if len(figure) <= MAX_HEADLINE_CHARS else None


_UNIT_SYMBOLS = {
    "percent": "%",
    "decibels": "dB",
    "decibel": "dB",
    "kilometers": "km",
    "kilometres": "km",
    "kilometer": "km",
    "meters": "m",
    "metres": "m",
    "centimeters": "cm",
    "centimetres": "cm",
    "millimeters": "mm",
    "grams": "g",
    "gram": "g",
    "kilograms": "kg",
    "kilos": "kg",
    "liters": "L",
    "litres": "L",
    "milliliters": "ml",
    "minutes": "min",
    "minute": "min",
    "seconds": "sec",
    "second": "sec",
    "hours": "hrs",
    "hour": "hr",
    "degrees": "°",
}


_NO_PLURAL = frozenset(("km", "kg", "percent", "ml", "mm", "cm"))


def natural_case(theme: str) -> str:
    """A theme as it reads mid-sentence: "Home Workout" -> "home workout"; names, acronyms and
    brand-style words ("Bali", "DIY", "iPhone") keep their case when they are not plain title
    case of a common word."""
    words = theme.split()
    out: list[str] = []
    for word in words:
        plain = word[:1].isupper() and word[1:].islower()
        out.append(word.lower() if plain and word.lower() not in _PROPER else word)
    return " ".join(out)


# Places and days a theme may name; they keep their capital mid-sentence.
_PROPER = frozenset(
    re.findall(
        r"\w+",
        "monday tuesday wednesday thursday friday saturday sunday january february march april "
        "june july august september october november december christmas easter halloween "
        "bali lisbon seoul kyoto paris london tokyo istanbul marrakech vancouver reykjavik "
        "copenhagen york america europe asia africa english french spanish italian japanese",
    )
)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _looks_like_verb(word: str) -> bool:
    """A talking point that starts with a present-tense verb ("Folds flat...", "Charges your
    phone..."): it is said about the product ("It folds flat...")."""
    w = word.lower()
    return (
        len(w) > 3
        and w.isalpha()
        and w.endswith("s")
        and not w.endswith(("ss", "us", "is", "ous", "ics", "ness"))
        and w not in _NOT_VERBS
    )


_NOT_VERBS = frozenset(
    re.findall(
        r"\w+",
        "glasses shoes headphones earbuds lens pants jeans clothes sunglasses boots socks "
        "leggings shorts tools plants beans leaves lights colours colors settings modes "
        "minutes hours days weeks years steps views",
    )
)


def _base_verb(word: str) -> str:
    """ "folds" -> "fold", "carries" -> "carry", "washes" -> "wash": the verb after "they"."""
    w = word.lower()
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("ches", "shes", "sses", "xes", "zes", "oes")):
        return w[:-2]
    return w[:-1] if w.endswith("s") else w


@dataclass(frozen=True)
class Product:
    """How a reference is said and shown: its full name, a short name for later mentions
    ("PocketBrew"), what kind of thing it is ("travel kettle"), and whether it is plural."""

    title: str
    short: str
    kind: str
    noun: str  # the one picturable word: "kettle", "shoes"
    plural: bool

    @classmethod
    def of(cls, title: str, tags: Sequence[str] = ()) -> Product:
        words = title.split()
        brand = words[0] if len(words) > 1 and _is_brand(words[0]) else ""
        rest = words[1:] if brand else words
        kind = " ".join(w if not (w[:1].isupper() and w[1:].islower()) else w.lower() for w in rest)
        noun = (rest[-1] if rest else title).lower()
        plural = noun.endswith("s") and not noun.endswith("ss")
        short = f"the {brand}" if brand else f"the {kind}"
        return cls(title=title, short=short, kind=kind or title, noun=noun, plural=plural)

    def said(self, sentence_start: bool = False) -> str:
        """How a later sentence refers to it: "It"/"They" after the name has been said."""
        pronoun = "they" if self.plural else "it"
        return _capital(pronoun) if sentence_start else pronoun


def _is_brand(word: str) -> bool:
    """A made-up product name: inner capitals ("PocketBrew") or letters and digits mixed."""
    inner_caps = any(ch.isupper() for ch in word[1:])
    return inner_caps or (any(ch.isdigit() for ch in word) and any(ch.isalpha() for ch in word))


def _fact_sentence(
    point: str, product: Product, named: bool, described: frozenset[str] = frozenset()
) -> str:
    """A talking point as a sentence said about the product: "Folds flat to fit any backpack"
    -> "It folds flat to fit any backpack." (or "The PocketBrew folds ..." when the name has
    not been said yet in this scene)."""
    text = " ".join(point.split()).rstrip(".!;:,")
    first, _, rest = text.partition(" ")
    if _looks_like_verb(first):
        verb = _base_verb(first) if product.plural and named else first.lower()
        who = product.said(True) if named else _capital(product.short)
        if product.plural and not named:
            verb = first.lower()  # "The StrideLite grips ..." (the brand is singular)
        elif product.plural:
            rest = re.sub(r"\bits\b", "their", rest)  # "They keep their cushioning"
        return f"{who} {verb} {rest}".strip() + "."
    if first.lower() in ("a", "an"):
        return f"{'They are' if product.plural else 'It is'} {first.lower()} {rest}."
    phrase = _noun_phrase(text) if point in described else None
    if phrase:  # the description's "Over-ear headphones that ..." says what the product is
        return f"{'They are' if product.plural else 'It is'} {phrase}."
    return _capital(text) + "."


# Verbs that state a property, not a benefit: a weak question to open on.
_PROPERTY_VERBS = frozenset(("weigh", "cost", "measure", "come", "include", "ha"))

# Verbs a viewer does with a product: a talking point led by one can be a how-to step.
_ACTIONS = frozenset(
    re.findall(
        r"\w+",
        "fold unfold boil fill pour brew make charge pair plug press tap clip pack open close "
        "twist rinse wash set switch turn attach connect lace tie wear put place slide pull push "
        "mount stick water plant cut mix bake knead stretch shape score",
    )
)


def _imperative(point: str) -> str | None:
    """A verb-led talking point as a step: "Folds flat to fit any backpack" -> "Fold it flat
    to fit any backpack"; None when the point does not start with a verb."""
    text = " ".join(point.split()).rstrip(".!;:,")
    first, _, rest = text.partition(" ")
    if not _looks_like_verb(first) or _base_verb(first) not in _ACTIONS:
        return None  # "Weighs 210 grams" is a property, not something to do
    # "... and fits any backpack": the second verb is the product's, not the viewer's.
    rest = re.sub(r"\band (\w+s)\b", lambda m: f"and it {m.group(1)}", rest, count=1)
    next_word = rest.split(" ", 1)[0].lower() if rest else ""
    obj = "" if (next_word in _DETERMINERS or next_word[:1].isdigit()) else " it"
    return _capital(_base_verb(first)) + obj + (f" {rest}" if rest else "")


def _noun_phrase(description: str) -> str | None:
    """ "A folding silicone kettle that boils water in three minutes." -> "a folding ..."
    (the description's first sentence as an appositive); None when it is not a noun phrase
    (it starts with a verb or a pronoun)."""
    first = _SENTENCE_END.split(description.strip())[0].strip().rstrip(".!")
    head = first.split(" ", 1)[0] if first else ""
    if not head or _looks_like_verb(head) or head.lower() in _PRONOUNS or _is_brand(head):
        return None
    if head[:1].isupper() and (len(head) == 1 or head[1:].islower() or "-" in head):
        head = head.lower()
    return head + first[len(head) :]


_PRONOUNS = frozenset(("it", "this", "we", "our", "they", "you", "i", "these", "its", "my"))


def scene_subjects(
    sentence: str, lead: Sequence[str] = (), limit: int = 3, *, first: bool = False
) -> list[str]:
    """1-3 concrete nouns a sentence names, for its pictures: ``lead`` first (the subject's own
    noun when the sentence is about it), then the sentence's other plain content words."""
    out: list[str] = [w for w in lead if w][:limit]
    words = re.findall(r"[A-Za-z][A-Za-z'-]+", sentence)
    for i, word in enumerate(words):
        w = word.lower().strip("'-")
        if (i == 0 and not first) or len(out) >= limit:
            continue  # the first word is a verb or a pronoun far more often than a noun
        if (
            len(w) < 3
            or w in _STOPWORDS
            or w in _NOT_PICTURED
            or w in _DETERMINERS
            or w.endswith(("ly", "ed"))
            or _looks_like_verb(w)
        ):
            continue
        stem = topic_stem(w)
        if all(topic_stem(o) != stem for o in out):
            out.append(w)
    return out[:limit]


# --------------------------------------------------------------------------------------------
# The offline planner


# Script shapes by style, preferred first; a later one is another angle on the same material.
SHAPES: dict[str, tuple[str, ...]] = {
    "product-demo": ("tour", "problem", "listicle"),
    "listicle": ("listicle", "tour", "problem"),
    "tutorial": ("steps", "listicle", "tour"),
    "talking-head": ("problem", "tour", "listicle"),
    "cinematic": ("tour", "problem", "listicle"),
}
THEME_SHAPES: tuple[str, ...] = ("roundup", "countdown")


@dataclass
class Line:
    """One scene being written: what it is for and what it says."""

    kind: SceneKind
    narration: str
    headline: str | None
    subjects: list[str]
    number: int | None = None
    short: str | None = None  # a shorter narration, used when time is tight


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


def _plan_budget(config: ThemeConfig) -> int:
    settings = config.config
    return word_budget(settings.video_duration_seconds, settings.voice.rate)


def spoken_load(text: str) -> int:
    """Words as the voice takes time for them: ``count_words`` plus one for each pause between
    sentences and one for each number (said slower). A script the voice step must shorten
    loses a whole scene, so the local planner plans by this, not by the bare word count."""
    pauses = len([s for s in _SENTENCE_END.split(text.strip()) if s])
    numbers = len(re.findall(r"\d+", text))
    return count_words(text) + pauses + 2 * numbers


def _cta(config: ThemeConfig, topic: str | None, name: str, short: str = "it") -> Line:
    """The call to action exactly as the config gives it (``cta:``, ``link:``); without either a
    neutral "follow for more" — never a link the config does not have."""
    settings = config.config
    platform = settings.target_platform
    follow = _FOLLOW[platform]
    parts: list[str] = []
    headline: str | None
    if settings.cta:
        parts.append(_sentence(settings.cta))
    if settings.link:
        screen, said = _LINK_LINES[platform]
        if not settings.cta:
            parts.append(said)
        headline = screen
    else:
        # The voice asks to follow; the end card names what the video was about.
        headline = name if len(name) <= MAX_HEADLINE_CHARS else None
    if not parts:
        if not topic:
            # A question a viewer can answer: comments carry a short further than a plea.
            parts.append(f"Would you try {short}? Tell me in the comments.")
        elif " " not in topic and topic.endswith("s"):
            parts.append(f"{follow} for more on {topic}.")  # not "more headphones ideas"
        else:
            parts.append(f"{follow} for more {topic} ideas.")
    narration = " ".join(parts)
    if headline is not None and headline.rstrip(".").lower() == narration.rstrip(".").lower():
        headline = name if len(name) <= MAX_HEADLINE_CHARS else None
    return Line("cta", narration, headline, [], short=f"{follow} for more.")


def _fits(lines: Sequence[Line], budget: int) -> bool:
    return sum(spoken_load(line.narration) for line in lines) <= budget


def fit_lines(lines: list[Line], budget: int, n_max: int) -> list[Line]:
    """The script trimmed to the word budget by whole sentences: the middle scenes past
    ``n_max`` go, then the last middle scenes, then long lines use their shorter form. Never a
    sentence cut: a script that still runs long is left for the voice step to shorten."""
    hook, middle, cta = lines[0], list(lines[1:-1]), lines[-1]
    middle = middle[: max(1, n_max - 2)]
    while len(middle) > 1 and not _fits([hook, *middle, cta], budget):
        middle.pop()
    kept = [hook, *middle, cta]
    for line in sorted(kept, key=lambda x: -count_words(x.narration)):
        if _fits(kept, budget):
            break
        if line.short:
            line.narration, line.short = line.short, None
    return kept


def scenes_from_lines(
    lines: Sequence[Line], duration: float, rate: int, terms: list[str]
) -> list[Scene]:
    """Scenes timed by how long each line takes to say, adding up to ``duration``."""
    wps = words_per_second(rate)
    needs = [max(count_words(line.narration), 1) / wps for line in lines]
    durations = split_durations(duration, allot_seconds(duration, needs))
    scenes: list[Scene] = []
    for i, (line, seconds) in enumerate(zip(lines, durations, strict=True)):
        headline = line.headline
        if headline is not None and (
            len(headline) > MAX_HEADLINE_CHARS
            or headline.rstrip(".!?").lower() == line.narration.rstrip(".!?").lower()
        ):
            headline = None
        subjects = line.subjects[:3] or terms[:1]
        # The on-screen label may repeat a headline dropped for echoing the narration.
        label = (
            line.headline if line.headline and len(line.headline) <= MAX_ON_SCREEN_CHARS else None
        )
        screen = headline or label or (subjects[0].capitalize() if subjects else line.narration)
        screen = screen if len(screen) <= MAX_ON_SCREEN_CHARS else _short_text(screen)
        scenes.append(
            Scene(
                index=i,
                duration_seconds=seconds,
                on_screen_text=screen[:MAX_ON_SCREEN_CHARS],
                narration=line.narration,
                keywords=_keywords(line.narration, extra=subjects),
                kind=line.kind,
                headline=headline,
                number=line.number,
                subjects=subjects,
            )
        )
    return scenes


def _on_topic_tags(tags: Iterable[str], words: Iterable[str]) -> list[str]:
    """Trend hashtags that carry one of the subject's own words (4+ letters): #desksetup for a
    desk lamp, never #upcycling because it trends beside one."""
    keys = [w.lower() for w in words if len(w) >= 4]
    return [t for t in tags if any(k in t.lower() for k in keys)]


def plan_hashtags(own: Sequence[str], trend_tags: Sequence[str], platform: str) -> list[str]:
    """The subject's own words and tags first, then trend tags about it, the platform tag last."""
    words: list[str] = []
    for text in own:
        words += [w for w in _stems(text) if not w.isdigit()]
        words.append(_phrase(text).replace(" ", ""))
    tags = normalize_hashtags([*own, *_on_topic_tags(trend_tags, words)], limit=MAX_HASHTAGS - 1)
    return normalize_hashtags([*tags, PLATFORM_TAGS[platform]])


class LocalPlanner:
    """Offline planner: scripts written from the material the config and the trends give, in
    one of several shapes (``SHAPES``) chosen by style; no network, no cost.

    The job id picks the reference (rotating among the best matches across jobs) and the shape;
    ``variant`` moves to another reference or shape (another angle, when a plan turns out too
    like an earlier video). The same job id, inputs and variant give the same plan.
    """

    name = "local"

    def plan(
        self, config: ThemeConfig, report: Mapping[str, Any], job_id: int, variant: int = 0
    ) -> PlanResult:
        rng = random.Random(f"{_seed(config, report, job_id)}:{variant}")
        candidates, _ = subject_candidates(config)
        subject = choose_subject(config, report, job_id, variant)
        n_refs = max(1, len(candidates))
        # Reference and shape both move from job to job, so consecutive videos differ in both
        # and every pairing comes round before one repeats.
        turn = (job_id - 1) // n_refs + (job_id - 1) + variant // n_refs
        if subject.reference is None:
            # Only a new angle turns a theme video: the trends about it change from day to day.
            return self._theme_plan(config, subject, rng, variant)
        return self._reference_plan(config, report, subject, rng, turn)

    # -- a video about one content reference ---------------------------------------------

    def _reference_plan(
        self,
        config: ThemeConfig,
        report: Mapping[str, Any],
        subject: Subject,
        rng: random.Random,
        turn: int,
    ) -> PlanResult:
        settings = config.config
        ref = subject.reference
        assert ref is not None
        product = Product.of(ref.title, ref.tags)
        budget = _plan_budget(config)
        n_max = default_scene_count(config, len(ref.talking_points) + 1)
        shapes = SHAPES[settings.style]
        shape = shapes[turn % len(shapes)]
        steps = [s for s in (_imperative(p) for p in ref.talking_points) if s]
        if shape == "steps" and len(steps) < 2:
            shape = shapes[(turn + 1) % len(shapes)]
        if shape == "problem" and not any(
            _looks_like_verb(p.split(" ", 1)[0]) for p in ref.talking_points
        ):
            shape = "tour"

        # The material, one fact each, in the reference's order; the description's sentences
        # count only where they add something the talking points do not say.
        facts: list[str] = []
        for text in [
            *ref.talking_points,
            *(s for s in _SENTENCE_END.split(ref.description.strip()) if s.strip()),
        ]:
            if not any(same_fact(text, seen) for seen in facts):
                facts.append(text)
        from_description = frozenset(facts[len(ref.talking_points) :]) - set(ref.talking_points)
        # The first talking point is the product's key selling point: every video says it,
        # first. The others rotate from turn to turn: a video seldom has time for them all, so
        # the next one says what the last one left out.
        if len(facts) > 2:
            key, others = facts[0], facts[1:]
            start = (turn * 2) % len(others)
            facts = [key, *others[start:], *others[:start]]
        pointed = [f for f in facts if f not in from_description]
        if shape in ("listicle", "problem") and len(pointed) >= 2:
            facts = pointed  # a reason is a talking point, not "it is a kettle"
        terms = _subject_terms(product, ref.tags)
        lead = [product.noun]

        hook: Line
        body: list[Line] = []
        if shape == "problem":
            led = [p for p in facts if _looks_like_verb(p.split(" ", 1)[0])]
            # A question about what it does ("cuts noise") hooks better than what it weighs.
            point = next(
                (p for p in led if _base_verb(p.split(" ", 1)[0]) not in _PROPERTY_VERBS), led[0]
            )
            first, _, rest = " ".join(point.split()).rstrip(".").partition(" ")
            verb = _base_verb(first) if product.plural else first.lower()
            if product.plural:
                rest = re.sub(r"\bits\b", "their", rest)
            # "a folding kettle that folds flat" says it twice: then just "a kettle".
            kind = product.kind
            if _stems(kind) & _stems(f"{first} {rest}") or topic_stem(first)[:4] in kind:
                kind = product.noun
            article = "" if product.plural else ("an " if kind[:1] in "aeiou" else "a ")
            question = f"Looking for {article}{kind} that {verb} {rest}?".replace("  ", " ")
            hook = Line(
                "hook",
                f"{question} Meet the {product.title}.",
                # The voice says the name; the screen shows the figure the question asks for.
                figure_of(point),
                scene_subjects(point, lead),
                short=f"Meet the {product.title}.",
            )
            facts = [f for f in facts if f is not point]
        elif shape == "listicle":
            hook = Line("hook", "", f"{product.title}", [product.noun])
        elif shape == "steps":
            hook = Line("hook", "", product.title, [product.noun])
        else:
            described = _noun_phrase(ref.description)
            opener = rng.choice(("Meet the", "Say hello to the"))
            if described and not any(same_fact(described, f) for f in ref.talking_points):
                facts = [f for f in facts if not same_fact(f, described)]
            key = facts[0] if facts else None
            claim = _claim_hook(key, product) if key and key not in from_description else None
            if claim and key is not None:
                # The hook names the product and its key selling point in one breath: a
                # reason to stay in the first second, not "Meet the ...".
                hook = Line("hook", claim, figure_of(key), [product.noun])
                facts = facts[1:]
            else:
                hook = Line(
                    "hook",
                    f"{opener} {product.title}.",
                    None,  # the voice says the name: the picture alone, big
                    [product.noun],
                )
            # Then what the product is, as a scene of its own: one long opening sentence held
            # one picture on screen for 7-9 s.
            if described:
                facts = [f for f in facts if not same_fact(f, described)]
                body.append(
                    Line(
                        "feature",
                        f"{'They are' if product.plural else 'It is'} {described}.",
                        figure_of(described),
                        scene_subjects(described, lead),
                    )
                )

        if shape == "steps":
            for n, step in enumerate(steps[:4], start=1):
                body.append(
                    Line(
                        "step",
                        f"Step {_SPOKEN_NUMBERS[n - 1]}: {_lower_word(step)}.",
                        figure_of(step) or f"Step {n}",
                        scene_subjects(step, lead),
                        number=n,
                    )
                )
        else:
            named = True  # every hook names the product: the facts say "it" / "they"
            for n, fact in enumerate(facts, start=1):
                sentence = _fact_sentence(fact, product, named or n > 1, from_description)
                figure = figure_of(fact)
                if shape == "listicle":
                    ordinal = _ORDINAL_WORDS[min(n, len(_ORDINAL_WORDS)) - 1]
                    text = f"{ordinal}, {_lower_word(sentence)}"
                    body.append(
                        Line(
                            "list_item",
                            text,
                            # Only a figure adds to what is said; a lone noun ("Wall") does not.
                            figure,
                            scene_subjects(fact, lead),
                            number=n,
                        )
                    )
                else:
                    body.append(
                        Line(
                            "fact" if figure else "feature",
                            sentence,
                            figure,
                            scene_subjects(fact, lead),
                        )
                    )
        topic = natural_case(settings.theme) if subject.theme_matched else None
        cta = _cta(config, topic, product.title, product.short)
        lines = fit_lines([hook, *body, cta], budget, n_max)
        if shape not in ("listicle", "steps"):
            _vary_openings(lines)
            if lines[0].headline is None:
                # Frame 0 shows the first figure the video states ("30 decibels"), a reason to
                # stay, while the voice says the name.
                # Not the next scene's own figure: the same number twice in a row says nothing.
                figures = [x.headline for x in lines[1:-1] if x.headline]
                lines[0].headline = figures[1] if len(figures) > 1 else None
        if shape in ("listicle", "steps"):
            opener = rng.choice(
                (
                    "{n} reasons to love the {title}.",
                    "{n} things the {title} get right."
                    if product.plural
                    else "{n} things the {title} gets right.",
                )
                if shape == "listicle"
                else ("How to get the most from the {title}, in {n} steps.",)
            )
            # The hook says how many items follow, so it is written last, and an item goes
            # (never a word of one) while the whole script does not fit.
            while True:
                count = len(lines) - 2
                lines[0].narration = _capital(
                    opener.format(n=_COUNT_WORDS[count], title=product.title)
                )
                # The screen says what the voice says the items are ("4 things", "4 steps").
                noun = next(w for w in ("reasons", "things", "steps") if w in opener)
                lines[0].headline = f"{count} {noun}"  # the voice says the name
                if _fits(lines, budget) or len(lines) <= MIN_SCENES:
                    break
                lines = [*lines[:-2], lines[-1]]

        own = [
            *([settings.theme] if subject.theme_matched else []),
            product.short.removeprefix("the "),
            *ref.tags,
        ]
        tags = plan_hashtags(own, subject.hashtags, settings.target_platform)
        scenes = scenes_from_lines(
            lines, settings.video_duration_seconds, settings.voice.rate, terms
        )
        description = " ".join(part for part in (ref.description.strip(), " ".join(tags)) if part)
        title = product.title
        if shape in ("listicle", "steps"):
            title = lines[0].narration.rstrip(".")[:100]
        else:
            # The first fact that makes a claim ("cut background noise by 30 decibels"), not
            # the line saying what the product is ("are lightweight road running shoes").
            claims = [_title_claim(line.narration, product) for line in lines[:-1]]
            claim = next((c for c in claims if c and not c.startswith(("are ", "is "))), None)
            if claim and len(title) + 2 + len(claim) <= 100:
                title = f"{product.title}: {claim}"
        plan = ProductionPlan(
            title=title,
            description=description,
            hashtags=tags,
            style=settings.style,
            duration_seconds=settings.video_duration_seconds,
            scenes=scenes,
            voiceover_script=" ".join(scene.narration for scene in scenes),
            subject=product.title,
            subject_terms=terms,
        )
        prompts = {
            "template": "local-v2",
            "shape": shape,
            "hook": scenes[0].narration,
            "reference": product.title,
            "subject": "reference",
            "theme": settings.theme,
            "theme_matched": str(subject.theme_matched).lower(),
            "topic_hashtags": " ".join(f"#{t}" for t in subject.hashtags),
            "trend_pattern": str(report.get("pattern") or ""),
        }
        return PlanResult(plan=plan, provider="local", model=None, prompts=prompts, cost=0.0)

    # -- a video about the theme itself, from the trends about it --------------------------

    def _theme_plan(
        self, config: ThemeConfig, subject: Subject, rng: random.Random, turn: int
    ) -> PlanResult:
        settings = config.config
        theme = subject.theme
        topic = natural_case(theme)
        tips = theme_tips(subject.trends, theme)
        if len(tips) >= 2:
            # The creators' own takeaways make a video worth watching; their titles alone
            # ("Istanbul from above") only say what others made.
            return self._tips_plan(config, subject, tips, rng, turn)
        ideas = _distinct_ideas(subject.trends)
        if not ideas:
            # Never a video that says nothing: the job fails at once, saying what to add.
            raise FatalStageError(theme_uncovered_message(theme))
        shape = THEME_SHAPES[turn % len(THEME_SHAPES)]
        if shape == "countdown":
            ideas = sorted(ideas, key=lambda i: i[1])  # the biggest last
        else:
            ideas = (
                ideas[turn // len(THEME_SHAPES) % len(ideas) :]
                + ideas[: turn // len(THEME_SHAPES) % len(ideas)]
            )
        budget = _plan_budget(config)
        n_max = default_scene_count(config, len(ideas) + 1)
        # The last word of a theme is usually its noun ("home workout": a workout).
        terms = list(reversed(_keywords(theme, limit=8)))
        body: list[Line] = []
        for n, (idea, views, _style, _seconds) in enumerate(ideas[:5], start=1):
            if shape == "countdown":
                # The screen shows the views ("322K views"); the voice says the idea, so no
                # number is said and shown at once.
                text = f"Number {_SPOKEN_NUMBERS[n - 1]}: {idea}."
                body.append(
                    Line(
                        "list_item",
                        text,
                        f"{short_count(views)} views" if views else None,
                        scene_subjects(idea, [], 3, first=True),
                        number=n,
                        short=f"Number {_SPOKEN_NUMBERS[n - 1]}: {idea}.",
                    )
                )
            else:
                ordinal = ("First", "Next", "Then", "And", "Plus")[n - 1]
                text = f"{ordinal}, {idea}."  # the views are on screen, not said twice
                body.append(
                    Line(
                        "fact" if views else "feature",
                        text,
                        f"{short_count(views)} views" if views else None,
                        scene_subjects(idea, [], 3, first=True),
                        short=f"{ordinal}, {idea}.",
                    )
                )
        styles = [s for _, _, s, _ in ideas if s]
        durations = sorted(d for _, _, _, d in ideas if d > 0)
        if styles and durations:
            common = max(set(styles), key=styles.count)
            limit = max(10, math.ceil(durations[len(durations) // 2] / 5) * 5)
            body.append(
                Line(
                    "fact",
                    f"The format that wins: {_STYLE_PHRASES.get(common, 'short videos')} "
                    f"under {limit} seconds.",
                    f"Under {limit} s",
                    [],
                )
            )
        cta = _cta(config, topic, _capital(topic))
        hook = Line("hook", "", _capital(topic), scene_subjects(theme, [], 2))
        # Ideas that fit, in order, skipping one too long to say: two short ideas say more than
        # one long one. About ten words are kept for the hook.
        room = budget - spoken_load(cta.narration) - 10
        packed: list[Line] = []
        for line in body:
            if sum(spoken_load(x.narration) for x in packed) + spoken_load(line.narration) <= room:
                packed.append(line)
        for i, line in enumerate(packed):
            if line.number is not None:
                line.number = i + 1
                line.narration = re.sub(
                    r"^Number \w+", f"Number {_SPOKEN_NUMBERS[i]}", line.narration
                )
            else:
                line.narration = re.sub(
                    r"^\w+,", ("First", "Next", "Then", "And", "Plus")[i] + ",", line.narration
                )
        body = packed or body[:1]
        lines = fit_lines([hook, *body, cta], budget, n_max)
        if shape == "countdown":
            templates: tuple[str, ...] = (
                "{n} {topic} {noun} trending now, biggest last.",
                "This week's top {topic} videos, counted up.",
            )
        else:
            templates = (
                "{n} {topic} {noun} trending this week.",
                "{n} {topic} {noun} worth your time this week.",
            )
        hook_text = rng.choice(templates)
        # The hook says how many ideas follow: written last, and an idea goes (never a word of
        # one) while the whole script does not fit.
        while True:
            count = sum(1 for line in lines[1:-1] if line.kind != "fact" or line.number)
            count = sum(1 for line in lines[1:-1] if line.headline and "views" in line.headline)
            count = count or len(lines) - 2
            noun = "idea" if count == 1 else "ideas"
            lines[0].narration = _capital(
                hook_text.format(n=_COUNT_WORDS[min(count, 9)], topic=topic, noun=noun)
            )
            head = f"{_capital(topic)}: {count} {noun}"
            lines[0].headline = (
                head if len(head) <= MAX_HEADLINE_CHARS else _capital(topic)[:MAX_HEADLINE_CHARS]
            )
            if _fits(lines, budget) or len(lines) <= MIN_SCENES:
                break
            lines = [*lines[:-2], lines[-1]]
        scenes = scenes_from_lines(
            lines, settings.video_duration_seconds, settings.voice.rate, terms
        )
        trend_tags = _on_topic_tags(
            subject.hashtags, [*topic_keywords(theme), _phrase(theme).replace(" ", "")]
        )
        tags = plan_hashtags([theme], trend_tags, settings.target_platform)
        title = lines[0].narration.rstrip(".")
        summary = "; ".join(idea for idea, _, _, _ in ideas[: len(lines) - 2])
        plan = ProductionPlan(
            title=title[:100] if len(title) <= 100 else _capital(topic),
            description=f"This week's most watched {topic} videos: {summary}. {' '.join(tags)}",
            hashtags=tags,
            style=settings.style,
            duration_seconds=settings.video_duration_seconds,
            scenes=scenes,
            voiceover_script=" ".join(scene.narration for scene in scenes),
            subject=_capital(topic),
            subject_terms=terms,
        )
        prompts = {
            "template": "local-v2",
            "shape": shape,
            "hook": scenes[0].narration,
            "reference": "",
            "subject": "theme",
            "theme": theme,
            "theme_matched": "true",
            "topic_hashtags": " ".join(f"#{t}" for t in subject.hashtags),
        }
        return PlanResult(plan=plan, provider="local", model=None, prompts=prompts, cost=0.0)

    def _tips_plan(
        self,
        config: ThemeConfig,
        subject: Subject,
        tips: Sequence[Tip],
        rng: random.Random,
        turn: int,
    ) -> PlanResult:
        """Tips from the theme's trending videos, one a scene: what their creators say works,
        credited in the description."""
        settings = config.config
        theme = subject.theme
        topic = natural_case(theme)
        start = turn % len(tips)
        ordered = [*tips[start:], *tips[:start]]  # another day, another tip first
        budget = _plan_budget(config)
        n_max = default_scene_count(config, len(ordered) + 1)
        terms = list(reversed(_keywords(theme, limit=8)))
        body = [
            Line(
                "list_item",
                tip.sentence,
                # A heading the voice does not say: what the tip is about, or its reach.
                tip.label or (f"{short_count(tip.views)} views" if tip.views else None),
                _tip_subjects(tip.sentence, theme),
                number=n,
                short=tip.short,
            )
            for n, tip in enumerate(ordered[:5], start=1)
        ]
        cta = _cta(config, None, _capital(topic))
        if not settings.cta and not settings.link:
            cta.narration = "Which one would you try first? Comment below."
        hook = Line("hook", "", _capital(topic), scene_subjects(theme, [], 2))
        lines = [hook, *_pack_tips(body, budget - spoken_load(cta.narration) - 10, n_max - 2), cta]
        templates = (
            "{n} {topic} tips from this week's most watched videos.",
            "{n} {topic} tips people are saving this week.",
        )
        first = rng.choice(templates)
        while True:
            count = len(lines) - 2
            for hook_text in (first, *(t for t in templates if t != first)):
                # The shorter opening when the longer one would cost a tip.
                lines[0].narration = _capital(
                    hook_text.format(n=_COUNT_WORDS[min(count, 9)], topic=topic).replace(
                        "One " + topic + " tips", "One " + topic + " tip"
                    )
                )
                if _fits(lines, budget):
                    break
            head = f"{_capital(topic)}: {count} {'tip' if count == 1 else 'tips'}"
            lines[0].headline = (
                head if len(head) <= MAX_HEADLINE_CHARS else _capital(topic)[:MAX_HEADLINE_CHARS]
            )
            if _fits(lines, budget) or len(lines) <= MIN_SCENES:
                break
            lines = [*lines[:-2], lines[-1]]
        for n, line in enumerate(lines[1:-1], start=1):
            line.number = n
        scenes = scenes_from_lines(
            lines, settings.video_duration_seconds, settings.voice.rate, terms
        )
        trend_tags = _on_topic_tags(
            subject.hashtags, [*topic_keywords(theme), _phrase(theme).replace(" ", "")]
        )
        tags = plan_hashtags([theme], trend_tags, settings.target_platform)
        # The tips said, in the order said (packing may skip one too long to say).
        tip_of = {id(line): tip for line, tip in zip(body, ordered, strict=False)}
        used = [tip_of[id(line)] for line in lines[1:-1]]
        credits = ", ".join(dict.fromkeys(f"@{t.creator}" for t in used if t.creator))
        said = " ".join(line.narration for line in lines[1:-1])
        description = f"Tips from this week's most watched {topic} videos. {said}"
        if credits:
            description += f" Thanks to {credits}."
        plan = ProductionPlan(
            title=lines[0].narration.rstrip(".")[:100],
            description=f"{description} {' '.join(tags)}",
            hashtags=tags,
            style=settings.style,
            duration_seconds=settings.video_duration_seconds,
            scenes=scenes,
            voiceover_script=" ".join(scene.narration for scene in scenes),
            subject=_capital(topic),
            subject_terms=terms,
        )
        prompts = {
            "template": "local-v2",
            "shape": "tips",
            "hook": scenes[0].narration,
            "reference": "",
            "subject": "theme",
            "theme": theme,
            "theme_matched": "true",
            "topic_hashtags": " ".join(f"#{t}" for t in subject.hashtags),
            "sources": " ".join(t.external_id for t in used),
        }
        return PlanResult(plan=plan, provider="local", model=None, prompts=prompts, cost=0.0)


_STYLE_PHRASES = {
    "tutorial": "quick how-tos",
    "listicle": "numbered lists",
    "cinematic": "cinematic clips",
    "talking-head": "straight-to-camera takes",
    "product-demo": "hands-on demos",
}


# One word each, so a fitted script stays within its budget.
_OPENINGS = ("Plus,", "And", "Also,")


def _vary_openings(lines: Sequence[Line]) -> None:
    """Facts after the first open with a connector ("Plus, they play ..."): a run of
    "They ... They ... They ..." sounds read off a spec sheet."""
    k = 0
    for line in lines[2:-1]:
        if line.kind in ("fact", "feature") and re.match(r"(They|It) ", line.narration):
            line.narration = f"{_OPENINGS[k % len(_OPENINGS)]} {_lower_word(line.narration)}"
            line.short = None
            k += 1


def _lower_word(sentence: str) -> str:
    """Lower-case an ordinary capitalised first word so it reads after "First,"."""
    first, _, rest = sentence.partition(" ")
    if first in ("I", "I'm") or _is_brand(first) or first.lower() in _PROPER:
        return sentence
    return (
        f"{first.lower()} {rest}".strip()
        if (first[:1].isupper() and first[1:].islower()) or len(first) == 1
        else sentence
    )


def _claim_hook(point: str, product: Product) -> str | None:
    """A verb-led talking point said as the opening line with the product's full name: "Cuts
    background noise by 30 decibels" -> "The HushBuds Wireless Headphones cut background noise
    by 30 decibels."; None when the point does not start with a verb."""
    text = " ".join(point.split()).rstrip(".!;:,")
    first, _, rest = text.partition(" ")
    if not _looks_like_verb(first) or not rest:
        return None
    verb = _base_verb(first) if product.plural else first.lower()
    if product.plural:
        rest = re.sub(r"\bits\b", "their", rest)
    return f"The {product.title} {verb} {rest}."


def _title_claim(narration: str, product: Product) -> str | None:
    """ "It folds flat to fit any backpack." -> "folds flat to fit any backpack"."""
    text = narration.rstrip(".!?")
    for opening in _OPENINGS:
        text = text.removeprefix(f"{opening} ")
    text = _capital(text)
    for prefix in ("It ", "They ", f"The {product.title} ", f"{_capital(product.short)} "):
        if text.startswith(prefix):
            return text[len(prefix) :]
    return None


def _subject_terms(product: Product, tags: Sequence[str]) -> list[str]:
    terms = [product.noun]
    for tag in tags:
        words = _phrase(tag).split()
        if len(words) == 1 and words[0] not in terms:
            terms.append(words[0])
    return terms[:8]


# What a trend title says beyond its idea: formats, platform habits, clickbait tails.
_STYLE_TAGS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\s*\((?:part \d+|cinematic)\)",
        r",?\s*cinematic(?: edition)?$",
        r"\s*-\s*cinematic drone film$",
        r",?\s*satisfying timelapse$",
        r"\s*-\s*(?:full tutorial|honest review|review)$",
        r":\s*(?:beginner guide|full guide)$",
        r":\s*(?:watch this before you buy|worth it\?|does it work\?)$",
        r"\s+hits different$",
        r"\s+you need to try$",
        r"\s+nobody talks about$",
        r"\s+that actually work$",
    )
]
_PREFIXES = [
    (re.compile(r"^POV:\s*", re.IGNORECASE), ""),
    (re.compile(r"^(?:GRWM and )?storytime:\s*", re.IGNORECASE), "the story of "),
    (re.compile(r"^let's talk about\s+", re.IGNORECASE), ""),
    (re.compile(r"^hot take:\s*", re.IGNORECASE), "the hot take that "),
    (re.compile(r"^my honest (?:opinion|take) on\s+", re.IGNORECASE), "an honest take on "),
    (re.compile(r"^(?:I tested|trying|testing) the (?:viral )?", re.IGNORECASE), "a test of the "),
    (re.compile(r"^unboxing the (?:viral )?", re.IGNORECASE), "unboxing the "),
    (re.compile(r"^my\s+", re.IGNORECASE), "a "),
]


def trend_idea(title: str) -> str:
    """A trend title as an idea a narrator can say: style tags and clickbait tails dropped,
    first-person formats put in the third person. "Morning run through Lisbon at sunrise,
    cinematic" -> "a morning run through Lisbon at sunrise"."""
    text = " ".join(title.split()).rstrip(".!")
    for pattern in _STYLE_TAGS:
        text = pattern.sub("", text).strip()
    for pattern, replacement in _PREFIXES:
        if pattern.search(text):
            text = pattern.sub(replacement, text, count=1)
            break
    text = re.sub(r"\s+for a week$", "", text)
    text = re.sub(
        r":\s*(\d+) (tips|steps|ideas)$", r" in \1 \2", text
    )  # "...: 5 tips" -> "in 5 tips"
    first, _, rest = text.partition(" ")
    if first[:1].isupper() and first[1:].islower() and first.lower() not in _PROPER:
        first = first.lower()
    text = f"{first} {rest}".strip()
    if first in ("morning", "evening", "quick", "minimal"):
        text = f"a {text}"  # "a morning run through Lisbon"
    return text.rstrip(":,;- ")


def _tip_subjects(sentence: str, theme: str) -> list[str]:
    """A tip's pictures: what it names beyond the theme ("squats", not "home" in a home
    workout tip: the theme has the hook's picture already)."""
    said = scene_subjects(sentence, [], 6, first=True)
    theme_words = set(topic_keywords(theme))
    other = [w for w in said if topic_stem(w) not in theme_words]
    return (other or said)[:3]


def _pack_tips(body: Sequence[Line], room: int, most: int) -> list[Line]:
    """As many whole tips as fit in ``room`` spoken words (three beat two long ones), in
    order: a tip says its shorter form (its first clause) only when that lets one more fit,
    and one too long to fit at all makes way for the next."""
    for k in range(min(most, len(body), 4), 1, -1):
        window = list(body[: k + 2])
        while len(window) > k:  # the longest of the window goes first
            window.remove(max(window, key=lambda x: spoken_load(x.short or x.narration)))
        said = [line.narration for line in window]
        for i in sorted(range(k), key=lambda i: -spoken_load(said[i])):
            if sum(spoken_load(x) for x in said) <= room:
                break
            if window[i].short:
                said[i] = window[i].short or said[i]
        if sum(spoken_load(x) for x in said) <= room:
            for line, text in zip(window, said, strict=True):
                line.narration = text
            return window
    return list(body[:1])


@dataclass(frozen=True)
class Tip:
    """A trending video's takeaway, as a narrator passes it on."""

    sentence: str  # what the voice says: the creator's own first tip sentence
    short: str | None  # its first clause, for when time is tight
    label: str | None  # a short heading for the screen, from the video's title
    views: int
    creator: str
    external_id: str


# What creators put after their tip: pleas, teasers, credits. Never part of a tip.
_NOT_A_TIP = re.compile(
    r"\b(?:save this|follow|subscribe|link in bio|in the video|part \d|comment|like and|"
    r"share this|watch till|check out|sponsored|ad\b|giveaway)",
    re.IGNORECASE,
)
_FIRST_PERSON = re.compile(r"\b(?:I|I'm|I've|me|my|we|our|us)\b")
_URL = re.compile(r"https?://\S+|www\.\S+|@\w+")
MIN_TIP_WORDS = 6
MAX_TIP_WORDS = 26


def trend_tip(description: str) -> str | None:
    """The first sentence of a creator's description that passes on something to do or know
    ("In Seoul, one T-money card covers the subway and the buses."), without hashtags, links,
    emoji or pleas to follow; None when the description has none. Someone's own story ("I
    missed my flight") is not a tip to retell."""
    text = _HASHTAG_ANY.sub(" ", _URL.sub(" ", description or ""))
    text = "".join(ch for ch in text if ch.isascii() or ch.isalpha())  # emoji and symbols
    text = " ".join(text.split())
    for sentence in _SENTENCE_END.split(text):
        sentence = sentence.strip().rstrip("!").strip()
        if not sentence or _NOT_A_TIP.search(sentence) or _FIRST_PERSON.search(sentence):
            continue
        if not MIN_TIP_WORDS <= count_words(sentence) <= MAX_TIP_WORDS:
            continue
        if sentence.endswith("?"):
            continue
        return _capital(sentence.rstrip(".") + ".")
    return None


_HASHTAG_ANY = re.compile(r"#\w+")


def _tip_short(sentence: str) -> str | None:
    """The first clause of a tip when it stands alone ("In Copenhagen, rent a city bike instead
    of taking taxis."), or None."""
    for mark in (", and ", "; "):
        head, found, _ = sentence.partition(mark)
        if found and count_words(head) >= MIN_TIP_WORDS:
            return head.rstrip(",;") + "."
    return None


_LABEL_DROPS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^how to (?:see |make |build |do |set up |teach )?",
        r"^top \d+ ",
        r"^an honest take on ",
        r"\s+in \d+ (?:tips|steps|minutes|days)$",
        r",.*$",
    )
]


def tip_label(title: str) -> str | None:
    """A heading for a tip's scene from its video's title ("How to see Copenhagen on a budget:
    5 tips" -> "Copenhagen on a budget"), or None when the title makes no short heading."""
    text = trend_idea(title)
    if text.startswith(("the story of", "the hot take", "a test of", "unboxing")):
        return None
    for pattern in _LABEL_DROPS:
        text = pattern.sub("", text).strip()
    text = _capital(text)
    return text if 3 <= len(text) <= 32 else None


def theme_tips(trends: Sequence[Mapping[str, Any]], theme: str) -> list[Tip]:
    """The tips the theme's trending videos give (``trend_tip`` of their descriptions), each
    said once. When at least two name the theme's own words ("at home", "workout"), only
    those: a #homeworkout tag on a standing-desk review does not make it a home workout tip."""
    words = set(topic_keywords(theme))
    tips: list[Tip] = []
    named: list[Tip] = []
    for trend in trends:
        sentence = trend_tip(str(trend.get("description") or ""))
        if sentence is None or any(same_fact(sentence, t.sentence) for t in tips):
            continue
        views = trend.get("views")
        label = tip_label(str(trend.get("title") or ""))
        if label and label.lower() in sentence.lower():
            label = None  # a heading the voice is saying adds nothing: the views instead
        tip = Tip(
            sentence=sentence,
            short=_tip_short(sentence),
            label=label,
            views=int(views) if isinstance(views, int) and not isinstance(views, bool) else 0,
            creator=str(trend.get("creator") or ""),
            external_id=str(trend.get("external_id") or ""),
        )
        tips.append(tip)
        said = set(topic_keywords(f"{trend.get('title') or ''} {sentence}"))
        if words & said:
            named.append(tip)
    chosen = named if len(named) >= 2 else tips
    # Three tips about three places beat two about Kyoto: a tip naming a place an earlier one
    # named waits at the back.
    seen: set[str] = set()
    fresh: list[Tip] = []
    later: list[Tip] = []
    for tip in chosen:
        names = set(re.findall(r"(?<!^)(?<![.!?:] )\b[A-Z][a-z]+", tip.sentence))
        (later if names & seen else fresh).append(tip)
        seen |= names
    return fresh + later


def _distinct_ideas(trends: Sequence[Mapping[str, Any]]) -> list[tuple[str, int, str, float]]:
    """(idea, views, style, duration) of each trend, the same idea said once."""
    out: list[tuple[str, int, str, float]] = []
    for trend in trends:
        idea = trend_idea(str(trend.get("title") or ""))
        if not idea or any(same_fact(idea, seen) for seen, _, _, _ in out):
            continue
        if re.search(r"\b(?:I|I'm|me|my)\b", idea):
            continue  # someone else's story ("I missed my flight") is not an idea to retell
        views = trend.get("views")
        count = int(views) if isinstance(views, int | float) and not isinstance(views, bool) else 0
        duration = trend.get("duration_seconds")
        seconds = float(duration) if isinstance(duration, int | float) else 0.0
        out.append((idea, max(0, count), str(trend.get("style") or ""), seconds))
    return out


# --------------------------------------------------------------------------------------------
# Originality: how alike two videos are


def _script_words(script: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", script.lower())


def plan_similarity(new: ProductionPlan, old: Mapping[str, Any]) -> float:
    """How alike two plans are, 0-1: the higher of their scripts' word-sequence similarity and
    their scene sequences' (each scene's kind, headline and main subject)."""
    import difflib

    old_script = str(old.get("voiceover_script") or "")
    script = difflib.SequenceMatcher(
        None, _script_words(new.voiceover_script), _script_words(old_script), autojunk=False
    ).ratio()
    old_scenes = old.get("scenes") if isinstance(old.get("scenes"), list) else []

    def key(scene: Mapping[str, Any]) -> str:
        subjects = scene.get("subjects") or [""]
        first = subjects[0] if isinstance(subjects, list) and subjects else ""
        return f"{scene.get('kind')}|{scene.get('headline')}|{first}"

    new_keys = [key(scene.model_dump()) for scene in new.scenes]
    old_keys = [key(s) for s in old_scenes or [] if isinstance(s, Mapping)]
    scenes = difflib.SequenceMatcher(None, new_keys, old_keys, autojunk=False).ratio()
    return round(max(script, scenes), 3)


def nearest_plan(
    new: ProductionPlan, earlier: Iterable[tuple[int, Mapping[str, Any]]]
) -> tuple[int, float] | None:
    """(job id, similarity) of the earlier plan most like ``new``; None when there is none."""
    best: tuple[int, float] | None = None
    for job_id, old in earlier:
        similarity = plan_similarity(new, old)
        if best is None or similarity > best[1]:
            best = (job_id, similarity)
    return best


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
    """The same plan saying about ``ratio`` of its words (0 < ratio < 1), by whole sentences.

    Used when the synthesized voice turned out slower than the configured rate. Middle scenes
    go from the end (their time goes to the others), then extra sentences of long scenes; a
    sentence is cut only when a scene has just one left and the plan still runs long.
    """
    target = max(len(plan.scenes), math.floor(count_words(plan.voiceover_script) * ratio))
    scenes = [scene.model_copy() for scene in plan.scenes]

    def total() -> int:
        return sum(count_words(scene.narration) for scene in scenes)

    while total() > target and len(scenes) > MIN_SCENES:
        dropped = scenes.pop(-2)
        scenes[-2] = scenes[-2].model_copy(
            update={"duration_seconds": scenes[-2].duration_seconds + dropped.duration_seconds}
        )
    while total() > target:
        longest = max(range(len(scenes)), key=lambda i: count_words(scenes[i].narration))
        parts = [p for p in _SENTENCE_END.split(scenes[longest].narration.strip()) if p]
        if len(parts) > 1:
            scenes[longest] = scenes[longest].model_copy(update={"narration": " ".join(parts[:-1])})
            continue
        # Last resort (a video too short for even one whole sentence per scene): words come
        # off the longest narrations first, so a short hook or call to action stays whole.
        budgets = [count_words(scene.narration) for scene in scenes]
        while sum(budgets) > target:
            i = max(range(len(budgets)), key=lambda k: (budgets[k], -k))
            if budgets[i] <= 1:
                break
            budgets[i] -= 1
        scenes = [
            scene.model_copy(update={"narration": fit_words(scene.narration, budget)})
            for scene, budget in zip(scenes, budgets, strict=True)
        ]
        break
    scenes = [scene.model_copy(update={"index": i}) for i, scene in enumerate(scenes)]
    title = plan.title
    if len(scenes) < len(plan.scenes):
        # "Three reasons ..." must not introduce two: the hook's count follows the items left.
        before, after = len(plan.scenes) - 2, len(scenes) - 2
        scenes[0], title = _recount(scenes[0], title, before, after)
    durations = [scene.duration_seconds for scene in scenes]
    durations[-1] = round(plan.duration_seconds - math.fsum(durations[:-1]), 7)
    scenes = [
        s.model_copy(update={"duration_seconds": d}) for s, d in zip(scenes, durations, strict=True)
    ]
    script = " ".join(scene.narration for scene in scenes)
    return plan.model_copy(update={"scenes": scenes, "voiceover_script": script, "title": title})


def _recount(hook: Scene, title: str, before: int, after: int) -> tuple[Scene, str]:
    """The hook (and title) with a count of ``before`` items said as ``after``."""
    if not (0 < after < before < len(_COUNT_WORDS)):
        return hook, title

    def swap(text: str) -> str:
        word = _COUNT_WORDS[before]
        text = re.sub(rf"\b{word}\b", _COUNT_WORDS[after], text)
        text = re.sub(rf"\b{_capital(word)}\b", _capital(_COUNT_WORDS[after]), text)
        text = re.sub(rf"\b{before}( \w+)$", rf"{after}\1", text)
        if after == 1:  # "One ... idea", not "One ... ideas"
            text = re.sub(r"\b(idea|reason|thing|step)s\b", r"\1", text, count=1)
        return text

    headline = swap(hook.headline) if hook.headline else None
    return hook.model_copy(update={"narration": swap(hook.narration), "headline": headline}), swap(
        title
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
    config: ThemeConfig, report: Mapping[str, Any], job_id: int, variant: int = 0
) -> str:
    """The brief for a language model: the same subject, theme and related trends the local
    planner works from (``choose_subject``), never the report's global hashtag list."""
    settings = config.config
    subject = choose_subject(config, report, job_id, variant)
    related = [
        {"idea": trend_idea(str(t.get("title"))), "views": t.get("views")}
        for t in subject.trends[:5]
    ]
    if subject.reference is not None:
        about: dict[str, Any] = subject.reference.model_dump(mode="json")
        shapes = SHAPES[settings.style]
    else:
        about = {
            "title": natural_case(subject.theme),
            "description": f"A video about {natural_case(subject.theme)} itself, built from the "
            "trending videos about it listed in trend_report.related_trends (quote their numbers).",
        }
        shapes = ("trend roundup", "countdown")
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
        "call_to_action": settings.cta or "a neutral 'follow for more'",
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
    opening = _SENTENCE_END.split(plan.scenes[0].narration.strip())[0].lower()
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
        self, config: ThemeConfig, report: Mapping[str, Any], job_id: int, variant: int = 0
    ) -> PlanResult:
        subject = choose_subject(config, report, job_id, variant)
        user = build_user_prompt(config, report, job_id, variant)
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
        local = self.fallback.plan(config, report, job_id, variant)
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
