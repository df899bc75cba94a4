"""Writing lines: shapes, the call to action, fitting and timing scenes."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from vidgen.analysis import topic_stem
from vidgen.config import ThemeConfig
from vidgen.planning._plan import (
    MAX_HASHTAGS,
    MAX_HEADLINE_CHARS,
    MAX_ON_SCREEN_CHARS,
    MAX_SCENES,
    MIN_SCENES,
    SECONDS_PER_SCENE_TARGET,
    Scene,
    SceneKind,
)
from vidgen.planning._subject import _FOLLOW, _LINK_LINES, PLATFORM_TAGS, _phrase
from vidgen.planning._words import (
    _COUNT_WORDS,
    _ORDINAL_WORDS,
    _PROPER,
    _PROPERTY_VERBS,
    _SENTENCE_END,
    Product,
    _base_verb,
    _capital,
    _is_brand,
    _keywords,
    _looks_like_verb,
    _sentence,
    _short_text,
    _stems,
    allot_seconds,
    count_words,
    fact_clause,
    figure_of,
    normalize_hashtags,
    scene_subjects,
    split_durations,
    want_question,
    word_budget,
    words_per_second,
)

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


def _cta(
    config: ThemeConfig, topic: str | None, name: str, short: str = "it", own: str | None = None
) -> Line:
    """The call to action exactly as the config gives it (the reference's ``cta:`` as ``own``,
    else the config's ``cta:``, ``link:``); without any a neutral "follow for more" — never a
    link the config does not have."""
    settings = config.config
    platform = settings.target_platform
    follow = _FOLLOW[platform]
    parts: list[str] = []
    headline: str | None
    wanted = own or settings.cta
    if wanted:
        parts.append(_sentence(wanted))
    if settings.link:
        screen, said = _LINK_LINES[platform]
        if not wanted:
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
    said = [
        line
        for line in lines[1:-1]
        if line.kind in ("fact", "feature") and re.match(r"(They|It) ", line.narration)
    ]
    for k, line in enumerate(said[1:]):  # the first fact after the hook or the name is plain
        line.narration = f"{_OPENINGS[k % len(_OPENINGS)]} {_lower_word(line.narration)}"
        line.short = None


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


def first_said_once(lines: list[Line]) -> None:
    """A list after an opening that says "first" does not count aloud ("... should feel like
    your first. First, ..." was the word twice in a row; "To start, ... Next, ... And
    finally," was "3 s of filler" to three viewers, the "1 / 3" chips count on screen): its
    items start on their claims, the last with "And"."""
    items = [line for line in lines[1:] if line.kind == "list_item"]
    if not items or not re.search(r"\bfirst\b", lines[0].narration, re.IGNORECASE):
        return
    for n, line in enumerate(items):
        old = f"{_ORDINAL_WORDS[min(n, len(_ORDINAL_WORDS) - 1)]}, "
        last = n == len(items) - 1 and n > 0
        for attr in ("narration", "short"):
            text = getattr(line, attr)
            if text and text.startswith(old):
                rest = text.removeprefix(old)
                setattr(line, attr, f"And {rest}" if last else _capital(rest))


def announce_list(
    lines: list[Line], opener: str, title: str, opening: str | None, budget: int
) -> tuple[list[Line], str]:
    """A list's hook, written last because it says how many items follow ("Three things the
    PocketBrew Folding Kettle gets right."), and the lines that fit: an item goes (never a
    word of one) while the whole script does not. Your ``opening`` line replaces the
    announcement (the first item names the product), unless it would leave fewer than three
    items: then the list opens on itself (two reasons are not a list worth watching).
    Returns the lines and the announcement (the title)."""
    full = list(lines)
    announce = ""
    for lead in (opening, None) if opening else (None,):
        lines = [replace(line) for line in full]
        while True:
            count = len(lines) - 2
            announce = _capital(opener.format(n=_COUNT_WORDS[count], title=title))
            lines[0].narration = _sentence(lead) if lead else announce
            # The voice says the count and the name; a "4 REASONS" card over the caption
            # saying "Four reasons" was the same words twice (the items' "1 / 4" chips count
            # them on screen). Over your opening line, which names neither, the screen names
            # the product from the first frame.
            lines[0].headline = title if lead and len(title) <= MAX_HEADLINE_CHARS else None
            if lead:
                # What your opening line says already ("Your last mile should feel like your
                # first") an item does not say again ("..., so your legs stay fresh for the
                # last mile"): it says its claim alone.
                for line in lines[1:-1]:
                    said = line.narration.removesuffix(".")
                    if line.short and len(_stems(lead) & _stems(said) - _stems(line.short)) >= 2:
                        line.narration, line.short = line.short, None
            if lead and count <= 3:
                # With your opening line, three items say their claims alone (longest first)
                # rather than a list of two: the line has said what they mean to the viewer.
                # A longer list loses an item first: a reason and what it means beats two
                # bare claims.
                for line in sorted(lines[1:-1], key=lambda x: -count_words(x.narration)):
                    if _fits(lines, budget):
                        break
                    if line.short:
                        line.narration, line.short = line.short, None
            if lead:
                # After your opening line the first item names the product and the list
                # starts at once: "Three things ... gets right" after it was 4 s of preamble
                # (the title and the "1 / 3" chips still say how many).
                lines[1].narration = re.sub(
                    r"^(\w+), (?:it|they) ", rf"\1, the {title} ", lines[1].narration, count=1
                )
                # A step names it as its object: "Step one: fold the PocketBrew ... flat".
                lines[1].narration = re.sub(
                    r"^(Step \w+: \w+) (?:it|them) ", rf"\1 the {title} ", lines[1].narration,
                    count=1,
                )  # fmt: skip
            if _fits(lines, budget) or len(lines) <= MIN_SCENES:
                break
            lines = [*lines[:-2], lines[-1]]
        if len(lines) - 2 >= 3:
            break  # else the list opens on itself: an opening line then two reasons is thin
    return lines, announce


def problem_opening(facts: Sequence[str], product: Product) -> tuple[str, Line, Line]:
    """The question shape's opening: the talking point it asks about, the question and the
    answer. The problem the product solves is asked of the viewer ("Want a busy train to sound
    like a library?"), then the product answers with its claim; a point without a "so ..."
    asks what a thing like it could do ("What if a kettle could fold flat to two
    centimeters?" - "The PocketBrew Folding Kettle does: thin enough for ..."). A viewer heard
    "Looking for ...? Meet the ..." as a title and a name, not a reason to stay."""
    led = [p for p in facts if _looks_like_verb(p.split(" ", 1)[0])]
    asked = [(p, q) for p in led if (q := want_question(p))]
    # A question about what it does ("cuts noise") hooks better than what it weighs.
    point = next((p for p in led if _base_verb(p.split(" ", 1)[0]) not in _PROPERTY_VERBS), led[0])
    question = None
    if asked:
        point, question = asked[0]
    # The claim alone: "..., so your legs stay fresh" made a 21-word question.
    first, _, rest = fact_clause(point).partition(" ")
    # The voice has not said the name yet: the screen does, over its picture.
    name = product.title if len(product.title) <= MAX_HEADLINE_CHARS else None
    lead = [product.noun]
    if question is not None:
        verb = _base_verb(first) if product.plural else first.lower()
        if product.plural:
            rest = re.sub(r"\bits\b", "their", rest)
        answer = Line(
            "fact" if figure_of(point) else "feature",
            f"The {product.title} {verb} {rest}.",
            figure_of(point),
            scene_subjects(fact_clause(point), lead),
        )
        return point, Line("hook", question, name, lead), answer
    kind = product.kind
    if _stems(kind) & _stems(f"{first} {rest}") or topic_stem(first)[:4] in kind:
        kind = product.noun  # not "a folding kettle could fold flat"
    article = "" if product.plural else ("an " if kind[:1] in "aeiou" else "a ")
    hook = Line(
        "hook",
        f"What if {article}{kind} could {_base_verb(first)} {rest}?".replace("  ", " "),
        name,
        lead,
    )
    tail = " ".join(point.split())[len(fact_clause(point)) :].strip(" ,.;:")
    does = "do" if product.plural else "does"
    answer = Line(
        "feature",
        f"The {product.title} {does}: {tail}." if tail else f"The {product.title} {does}.",
        figure_of(point),
        scene_subjects(tail or point, lead),
    )
    return point, hook, answer
