"""Trends as ideas and tips a narrator can pass on."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vidgen.analysis import topic_keywords, topic_stem
from vidgen.config import ThemeConfig
from vidgen.planning._plan import PlanResult, ProductionPlan, Scene
from vidgen.planning._script import Line, spoken_load
from vidgen.planning._subject import Subject
from vidgen.planning._words import (
    _PROPER,
    _SENTENCE_END,
    _capital,
    _stems,
    count_words,
    figure_of,
    natural_case,
    same_fact,
    scene_subjects,
)

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
    for k in range(min(most, len(body), MAX_TIPS), 1, -1):
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
# Three tips a video: a fourth made a 34 s list where each viewer cares about a part.
MAX_TIPS = 3


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


_PLACE = re.compile(r"(?<=\s)([A-Z][a-z]+(?: [A-Z][a-z]+)?)(?:'s)?\b")


def _place_of(sentence: str) -> str | None:
    """The first name a tip gives after its first word ("In Kyoto, ..." -> "Kyoto", "Skip the
    beaches: Bali's rice terraces ..." -> "Bali"), or None when it names nothing."""
    match = _PLACE.search(sentence)
    return match.group(1) if match else None


def _said_in(heading: str, sentence: str) -> bool:
    """Whether the voice says most of a heading ("Fix your squat form" over "fix your squat:
    ...", "10-minute workouts" over "Ten minutes at home is a real workout"): then it is the
    same words twice, not a heading."""
    words = _stems(heading)
    return bool(words) and len(words & _stems(sentence)) / len(words) >= 0.6


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
        if label and _said_in(label, sentence):
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
    phrases: set[tuple[str, ...]] = set()
    fresh: list[Tip] = []
    later: list[Tip] = []
    for tip in chosen:
        names = set(re.findall(r"(?<!^)(?<![.!?:] )\b[A-Z][a-z]+", tip.sentence))
        # Nor two tips ending alike ("... an hour before sunset" twice is heard).
        spoken = re.findall(r"[a-z]+", tip.sentence.lower())
        grams = {tuple(spoken[i : i + 4]) for i in range(len(spoken) - 3)}
        if grams & phrases:
            continue  # never kept: a packed script may reach for the back of the list
        (later if names & seen else fresh).append(tip)
        if tip in fresh:
            seen |= names
            phrases |= grams
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


def _theme_result(
    config: ThemeConfig,
    subject: Subject,
    scenes: list[Scene],
    *,
    title: str,
    description: str,
    tags: list[str],
    terms: list[str],
    shape: str,
    sources: str | None = None,
) -> PlanResult:
    """A video about the theme itself, as a plan and the prompts that record how it was made."""
    settings = config.config
    plan = ProductionPlan(
        title=title,
        description=description,
        hashtags=tags,
        style=settings.style,
        duration_seconds=settings.video_duration_seconds,
        scenes=scenes,
        voiceover_script=" ".join(scene.narration for scene in scenes),
        subject=_capital(natural_case(subject.theme)),
        subject_terms=terms,
    )
    prompts = {
        "template": "local-v2",
        "shape": shape,
        "hook": scenes[0].narration,
        "reference": "",
        "subject": "theme",
        "theme": subject.theme,
        "theme_matched": "true",
        "topic_hashtags": " ".join(f"#{t}" for t in subject.hashtags),
        **({"sources": sources} if sources is not None else {}),
    }
    return PlanResult(plan=plan, provider="local", model=None, prompts=prompts, cost=0.0)


_CLAIM_VERB = re.compile(r"\b(?:is|are|works|counts|beats|wins|matters|burns)\b")
_CONDITION = frozenset(("for", "before", "after", "in", "on", "at", "to", "if", "when", "near"))


def claim_opening(lines: list[Line], topic: str) -> bool:
    """Opens a tips video on a creator's own claim when one of its tips makes one before a
    colon ("Ten minutes at home is a real workout: squats, push ups and lunges, ..."): the
    claim is the hook and that tip comes first, saying only what to do ("Three home workout
    tips you can use today." read as a title).
    Changes ``lines`` (hook, tips, call to action) in place; False when no tip makes a claim."""
    for k, line in enumerate(lines[1:-1], start=1):
        head, colon, detail = line.narration.partition(": ")
        words = head.split()
        if (
            not colon
            or len(words) < 4
            or len(detail.split()) < 4
            or "," in head
            or words[0].lower() in _CONDITION
            or not _CLAIM_VERB.search(head.lower())
        ):
            continue
        lines.insert(1, lines.pop(k))
        if line.headline is not None and line.headline == figure_of(line.narration):
            line.headline = figure_of(detail)  # the claim's figure is the opening's now
        line.narration, line.short = _capital(detail), None
        # The claim alone, then straight into its tip: "Here's how, and two more home workout
        # tips." between them was a bridge viewers called filler.
        lines[0].narration = f"{head}."
        return True
    return False
