"""What a video is about: references by phrase and weight, else the theme."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from vidgen.analysis import is_about, topic_keywords, topic_phrases
from vidgen.config import ContentReference, ThemeConfig

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
