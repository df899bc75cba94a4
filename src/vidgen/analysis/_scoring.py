"""Scoring trends: engagement velocity, styles, hashtags, patterns."""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from pydantic import BaseModel

from vidgen.config import STYLES

# Discovery tags that appear on every kind of video; they say "I want reach", not what the video
# is about, so they would drown the topical tags in every ranking.
GENERIC_HASHTAGS = frozenset(
    {
        "fyp",
        "foryou",
        "foryoupage",
        "fy",
        "viral",
        "trending",
        "trend",
        "shorts",
        "short",
        "reels",
        "reel",
        "explore",
        "explorepage",
        "tiktok",
        "youtube",
        "instagram",
        "xyzbca",
    }
)

# Style rules. The title says what the video *does* and hashtags mostly say what it is *about*,
# so each keyword found in the lower-cased title scores 2 and each listed hashtag scores 1. A
# structural listicle title ("top 5", "7 things", a leading number) scores 3 because it is the
# most specific cue there is. The highest score wins; ties go to the earlier style in
# STYLE_PRIORITY (structural formats before moods). No cue at all means "talking-head", the
# default short-video format: a person speaking to the camera.
TITLE_WEIGHT = 2
HASHTAG_WEIGHT = 1
LISTICLE_TITLE_WEIGHT = 3
STYLE_KEYWORDS: dict[str, tuple[str, ...]] = {
    "listicle": ("top ", "things", "reasons", "ways to", "mistakes", "types of", "hacks"),
    "tutorial": (
        "how to",
        "tutorial",
        "step by step",
        "guide",
        "recipe",
        "diy ",
        " steps",
        "learn",
        "fix your",
    ),
    "product-demo": (
        "unboxing",
        "review",
        "demo",
        "tested",
        "testing",
        "worth it",
        "i tried",
        "trying the",
        "finds",
        "gadget",
        "scam",
        "before you buy",
    ),
    "talking-head": (
        "storytime",
        "hot take",
        "honest opinion",
        "my take",
        "let's talk",
        "pov",
        "rant",
        "grwm",
        "advice",
        "rating",
    ),
    "cinematic": (
        "cinematic",
        "drone",
        "timelapse",
        "golden hour",
        "sunrise",
        "sunset",
        "from above",
        "4k",
        "b-roll",
        "aesthetic",
    ),
}
STYLE_HASHTAGS: dict[str, frozenset[str]] = {
    "listicle": frozenset({"top5", "top10", "list", "tips", "lifehack", "lifehacks"}),
    "tutorial": frozenset(
        {
            "tutorial",
            "howto",
            "diy",
            "recipe",
            "easyrecipe",
            "learnontiktok",
            "stepbystep",
            "fitnesstips",
            "beautytips",
            "financetips",
        }
    ),
    "product-demo": frozenset(
        {
            "unboxing",
            "review",
            "tiktokmademebuyit",
            "amazonfinds",
            "founditonamazon",
            "musthave",
            "productreview",
            "techreview",
            "gadgets",
        }
    ),
    "talking-head": frozenset(
        {"storytime", "pov", "grwm", "motivation", "advice", "opinion", "relatable", "skit"}
    ),
    "cinematic": frozenset(
        {"cinematic", "drone", "timelapse", "aesthetic", "travelgram", "filmmaking"}
    ),
}
STYLE_PRIORITY: tuple[str, ...] = (
    "listicle",
    "tutorial",
    "product-demo",
    "talking-head",
    "cinematic",
)
DEFAULT_STYLE = "talking-head"
_LISTICLE_TITLE = re.compile(
    r"^\s*\d+\s|\b(?:top|best)\s+\d+\b|\b\d+\s+(?:things|ways|reasons|tips|mistakes|habits|"
    r"hacks|products|gadgets|apps|exercises|types|recipes|hidden)\b"
)

assert set(STYLE_PRIORITY) == set(STYLES) == set(STYLE_KEYWORDS) == set(STYLE_HASHTAGS)


class TrendLike(Protocol):
    """What analysis reads from a trend: ``TrendItem`` and ``models.Trend`` both fit."""

    @property
    def platform(self) -> str: ...
    @property
    def external_id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def hashtags(self) -> list[str]: ...
    @property
    def views(self) -> int: ...
    @property
    def likes(self) -> int: ...
    @property
    def comments(self) -> int: ...
    @property
    def shares(self) -> int: ...
    @property
    def creator(self) -> str: ...
    @property
    def sound(self) -> str: ...
    @property
    def duration_seconds(self) -> float: ...
    @property
    def posted_at(self) -> datetime: ...


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def hours_since(posted_at: datetime, now: datetime) -> float:
    return (_aware(now) - _aware(posted_at)).total_seconds() / 3600.0


def engagement_velocity(trend: TrendLike, now: datetime) -> float:
    """Weighted interactions per hour since posting.

    ``(likes + 2 * comments + 3 * shares) / max(hours since posting, 1)``

    Why: a trend is something gaining attention *now*, so interactions are divided by age; a
    video with 50k likes in 3 hours matters more than one with 200k over a week. Interactions
    are weighted by effort and reach: a like is a tap, a comment takes intent (x2), a share puts
    the video in front of a new audience (x3), which is what makes a format spread. Views are
    left out because platforms count them differently (autoplay loops vs. 3-second views). The
    age floor of one hour stops a just-posted video from dividing by almost zero.
    """
    weighted = trend.likes + 2 * trend.comments + 3 * trend.shares
    return weighted / max(hours_since(trend.posted_at, now), 1.0)


def engagement_rate(trend: TrendLike) -> float:
    """(likes + comments + shares) / views; 0.0 when a platform reports no views."""
    if trend.views <= 0:
        return 0.0
    return (trend.likes + trend.comments + trend.shares) / trend.views


class ScoredTrend(BaseModel):
    platform: str
    external_id: str
    title: str
    description: str = ""
    creator: str
    sound: str
    hashtags: list[str]
    views: int
    duration_seconds: float
    velocity: float
    engagement_rate: float
    style: str


def classify_style(title: str, hashtags: Sequence[str]) -> str:
    """One of the five styles from title keywords and hashtags (rules: ``STYLE_KEYWORDS``)."""
    scores = style_scores(title, hashtags)
    best = max(scores.values())
    if best == 0:
        return DEFAULT_STYLE
    return next(style for style in STYLE_PRIORITY if scores[style] == best)


def style_scores(title: str, hashtags: Sequence[str]) -> dict[str, int]:
    text = f" {title.lower()} "
    tags = {tag.lower().lstrip("#") for tag in hashtags}
    scores = {style: 0 for style in STYLE_PRIORITY}
    for style in STYLE_PRIORITY:
        hits = sum(1 for keyword in STYLE_KEYWORDS[style] if keyword in text)
        scores[style] += TITLE_WEIGHT * hits + HASHTAG_WEIGHT * len(tags & STYLE_HASHTAGS[style])
    if _LISTICLE_TITLE.search(title.lower()):
        scores["listicle"] += LISTICLE_TITLE_WEIGHT
    return scores


def score(trend: TrendLike, now: datetime) -> ScoredTrend:
    return ScoredTrend(
        platform=trend.platform,
        external_id=trend.external_id,
        title=trend.title,
        description=trend.description or "",
        creator=trend.creator,
        sound=trend.sound,
        hashtags=list(trend.hashtags),
        views=trend.views,
        duration_seconds=trend.duration_seconds,
        velocity=engagement_velocity(trend, now),
        engagement_rate=engagement_rate(trend),
        style=classify_style(trend.title, trend.hashtags),
    )


def rank(trends: Sequence[TrendLike], now: datetime) -> list[ScoredTrend]:
    """Highest velocity first; ties by views, then (platform, id) so the order is stable."""
    scored = [score(trend, now) for trend in trends]
    return sorted(scored, key=lambda s: (-s.velocity, -s.views, s.platform, s.external_id))


class HashtagScore(BaseModel):
    tag: str
    score: float
    count: int


def top_hashtags(
    trends: Sequence[TrendLike], now: datetime, n: int = 5, include_generic: bool = False
) -> list[HashtagScore]:
    """Hashtags by the summed velocity of the videos using them (rising beats merely common)."""
    totals: dict[str, float] = defaultdict(float)
    counts: Counter[str] = Counter()
    for trend in trends:
        velocity = engagement_velocity(trend, now)
        for tag in dict.fromkeys(t.lower().lstrip("#") for t in trend.hashtags):
            if not tag or (not include_generic and tag in GENERIC_HASHTAGS):
                continue
            totals[tag] += velocity
            counts[tag] += 1
    ordered = sorted(totals, key=lambda tag: (-totals[tag], -counts[tag], tag))
    return [
        HashtagScore(tag=tag, score=round(totals[tag], 3), count=counts[tag]) for tag in ordered[:n]
    ]


def style_breakdown(trends: Sequence[TrendLike], now: datetime) -> dict[str, float]:
    """Share of total velocity per style (sums to 1), so fast-rising formats weigh more."""
    totals = {style: 0.0 for style in STYLE_PRIORITY}
    for trend in trends:
        totals[classify_style(trend.title, trend.hashtags)] += engagement_velocity(trend, now)
    grand = sum(totals.values())
    if grand <= 0:
        counts = Counter(classify_style(t.title, t.hashtags) for t in trends)
        grand_count = sum(counts.values()) or 1
        return {style: round(counts[style] / grand_count, 4) for style in STYLE_PRIORITY}
    return {style: round(value / grand, 4) for style, value in totals.items()}


def dominant_style(trends: Sequence[TrendLike], now: datetime) -> str:
    shares = style_breakdown(trends, now)
    best = max(shares.values())
    return next(style for style in STYLE_PRIORITY if shares[style] == best)


def typical_duration(trends: Sequence[TrendLike], now: datetime) -> float:
    """Median duration of the top quartile by velocity (at least one video).

    The top quartile, not everything, because the question is "how long are the videos that are
    winning right now"; the median, because one 60 s outlier should not move the answer.
    """
    ranked = rank(trends, now)
    if not ranked:
        return 0.0
    quartile = ranked[: max(1, math.ceil(len(ranked) / 4))]
    return float(statistics.median(item.duration_seconds for item in quartile))


def describe_pattern(style: str, duration: float, hashtags: Sequence[str]) -> str:
    """One line for humans and prompts, e.g. ``listicle, ~21 s, #tech #gadgets rising``."""
    tags = " ".join(f"#{tag}" for tag in hashtags[:2])
    line = f"{style}, ~{round(duration)} s"
    return f"{line}, {tags} rising" if tags else line


class TopVideo(BaseModel):
    platform: str
    external_id: str
    title: str
    description: str = ""
    creator: str
    views: int
    velocity: float
    engagement_rate: float
    style: str
    duration_seconds: float
