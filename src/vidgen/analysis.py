"""Trend analysis: pure functions from a list of trends to a report (stage 2's brain).

Everything here works on ``TrendItem`` objects and ``models.Trend`` rows alike (both satisfy
``TrendLike``), takes ``now`` explicitly, and touches no I/O, so the numbers are reproducible.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import BaseModel, Field

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


# -- topics: the trends and hashtags related to what one video is about -------------------------

_TOPIC_WORD = re.compile(r"[^\W_]+")
_TOPIC_STOPWORDS = frozenset(
    re.findall(
        r"\w+",
        "a an and are as at be but by for from has have how i in into is it its my of on or so "
        "than that the their this to was were will with you your our we us can one every while "
        "any all more just get got here there what when why who which not no new best top day "
        "days time week video videos things thing way ways really actually very",
    )
)


def topic_stem(word: str) -> str:
    """A crude English stem, enough to match "lamps" with "lamp" and "routines" with "routine"."""
    word = word.lower()
    for suffix in ("ies", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def topic_keywords(*texts: str) -> list[str]:
    """Stems of the words that say what a text is about (no stopwords, 3+ letters, no digits)."""
    out: list[str] = []
    for text in texts:
        for word in _TOPIC_WORD.findall(text):
            stem = topic_stem(word)
            keep = len(stem) >= 3 and not stem.isdigit() and stem not in _TOPIC_STOPWORDS
            if keep and stem not in out:
                out.append(stem)
    return out


def topic_phrases(texts: Sequence[str], *, with_words: bool) -> list[str]:
    """Keywords for a topic: each text's word stems, and a multi-word text run together as
    hashtags write it ("desk setup" -> "desksetup"). ``with_words=False`` keeps only the joined
    form of multi-word texts, whose single words are often too general ("work from home")."""
    out: list[str] = []
    for text in texts:
        every = [w.lower() for w in _TOPIC_WORD.findall(text)]
        words = topic_keywords(text)
        joined = ["".join(every)] if len(every) > 1 else []
        candidates = [*joined, *words] if with_words or not joined else joined
        out += [c for c in candidates if c not in out]
    return out


def topic_match(trend: TrendLike, keywords: Sequence[str], *, described: bool = False) -> int:
    """How strongly a trend relates to ``keywords`` (0 = unrelated).

    A keyword among the title's words scores 2, a hashtag that is the keyword (or contains a
    keyword of 6+ letters: "skincareroutine" has "routine") scores 1. Short keywords must match
    whole hashtags, so "work" does not find #workout. With ``described``, a keyword in the
    creator's description scores 2 as well: "at home" under a core routine says what it is
    about better than a #homeworkout tag put on a standing-desk review.
    """
    title = set(topic_keywords(trend.title))
    if described:
        title |= set(topic_keywords(trend.description or ""))
    tags = [tag.lower().lstrip("#") for tag in trend.hashtags]
    tags = [tag for tag in tags if tag and tag not in GENERIC_HASHTAGS]
    hits = 0
    for keyword in keywords:
        if keyword in title:
            hits += 2
        if any(_tag_has(tag, keyword) for tag in tags):
            hits += 1
    return hits


def _word_in_tag(tag: str, word: str) -> bool:
    """A tag carries a word when it is the word, or starts or ends with one of 4+ letters
    ("travelgram" has "travel", "homeworkout" has "workout"); never a short word buried inside
    ("workout" does not carry "work")."""
    if tag == word or topic_stem(tag) == word:
        return True
    return len(word) >= 4 and (tag.startswith(word) or topic_stem(tag).endswith(word))


def is_about(trend: TrendLike, theme: str) -> bool:
    """Whether a trend is really about ``theme``: every one of the theme's words is in its
    title, its description or its hashtags, or a hashtag is the whole theme run together
    (#homeworkout).

    One shared word is not enough: "Home Workout" is not about a video tagged #home alone.
    """
    words = topic_keywords(theme)
    if not words:
        return False
    # What the creator says the video is about counts like its title ("a workout at home").
    title = set(topic_keywords(trend.title, trend.description or ""))
    tags = [t.lower().lstrip("#") for t in trend.hashtags]
    tags = [t for t in tags if t and t not in GENERIC_HASHTAGS]
    joined = "".join(w.lower() for w in _TOPIC_WORD.findall(theme))
    if len(words) > 1 and any(joined in tag for tag in tags):
        return True
    return all(word in title or any(_word_in_tag(tag, word) for tag in tags) for word in words)


def _tag_has(tag: str, keyword: str) -> bool:
    return tag == keyword or topic_stem(tag) == keyword or (len(keyword) >= 6 and keyword in tag)


def _title_key(title: str) -> frozenset[str]:
    return frozenset(topic_keywords(title))


class TopicTrends(BaseModel):
    """What is trending about one topic (a theme or a content reference)."""

    topic: str
    keywords: list[str]
    hashtags: list[str] = Field(description="hashtags matching the topic or co-occurring with it")
    trends: list[TopVideo] = Field(description="related trends, most related and fastest first")


def topic_trends(
    name: str,
    keywords: Sequence[str],
    trends: Sequence[TrendLike],
    now: datetime,
    n: int = 5,
    hashtag_n: int = 6,
    *,
    described: bool = False,
) -> TopicTrends:
    """The trends related to ``keywords`` and the hashtags they use, never the global list.

    Trends are related when their title or hashtags carry a keyword (``topic_match``). The
    trends listed are those whose *title* carries one (they are quoted in scripts), ranked by
    match strength, then velocity, with near-duplicate titles ("Morning run through Lisbon" /
    "... Seoul") shown once. Hashtags: those that contain a keyword
    first, then those used on the related trends, by the velocity of those trends; generic reach
    tags (#fyp, #viral) never count.
    """
    keywords = [k for k in keywords if k]
    related = (
        [(topic_match(t, keywords, described=described), t) for t in trends] if keywords else []
    )
    related = [(hits, t) for hits, t in related if hits > 0]
    scored = sorted(
        ((hits, score(t, now)) for hits, t in related),
        key=lambda pair: (-pair[0], -pair[1].velocity, -pair[1].views, pair[1].external_id),
    )
    # Titles that say the topic first; trends related only by a hashtag fill up a short list.
    said = (
        (lambda item: f"{item.title} {item.description}")
        if described
        else (lambda item: item.title)
    )
    in_title = [item for _, item in scored if _title_key(said(item)) & set(keywords)]
    shown: list[ScoredTrend] = []
    keys: list[frozenset[str]] = []
    for item in [*in_title, *(item for _, item in scored if item not in in_title)]:
        if len(shown) == n or (not described and item not in in_title and len(shown) >= 3):
            # Related only by a hashtag: enough to fill a short list, never more. The theme's
            # own trends (``described``) are all about it already (``is_about``).
            break
        key = _title_key(item.title)
        if any(len(key & seen) >= max(1, round(0.6 * min(len(key), len(seen)))) for seen in keys):
            continue
        keys.append(key)
        shown.append(item)
    direct: dict[str, float] = defaultdict(float)
    nearby: dict[str, float] = defaultdict(float)
    for hits, trend in related:
        velocity = engagement_velocity(trend, now) * hits
        for tag in dict.fromkeys(t.lower().lstrip("#") for t in trend.hashtags):
            if not tag or tag in GENERIC_HASHTAGS:
                continue
            if any(_tag_has(tag, k) for k in keywords):
                direct[tag] += velocity
            else:
                nearby[tag] += velocity
    ordered = sorted(direct, key=lambda t: (-direct[t], t)) + sorted(
        nearby, key=lambda t: (-nearby[t], t)
    )
    return TopicTrends(
        topic=name,
        keywords=list(keywords),
        hashtags=ordered[:hashtag_n],
        trends=[_top_video(item) for item in shown],
    )


def _top_video(item: ScoredTrend) -> TopVideo:
    return TopVideo(
        platform=item.platform,
        external_id=item.external_id,
        title=item.title,
        description=item.description,
        creator=item.creator,
        views=item.views,
        velocity=round(item.velocity, 3),
        engagement_rate=round(item.engagement_rate, 5),
        style=item.style,
        duration_seconds=item.duration_seconds,
    )


class TrendReportData(BaseModel):
    generated_at: datetime
    trend_count: int
    platforms: dict[str, int]
    top_hashtags: list[str]
    hashtag_scores: list[HashtagScore]
    dominant_style: str
    style_breakdown: dict[str, float]
    typical_duration_seconds: float
    median_engagement_rate: float
    top_sounds: list[str]
    top_videos: list[TopVideo]
    pattern: str
    topics: list[TopicTrends] = Field(
        default_factory=list,
        description="trends and hashtags related to the job's theme and to each content reference",
    )
    llm_insights: dict[str, Any] | None = Field(
        None, description="optional commentary from an LLM (providers.analysis)"
    )


def build_report(
    trends: Sequence[TrendLike],
    now: datetime,
    top_n: int = 5,
    hashtag_n: int = 5,
    topics: Mapping[str, Sequence[str]] | None = None,
    strict: Sequence[str] = (),
) -> TrendReportData:
    """The full analysis of ``trends`` as of ``now``; raises ValueError on an empty list.

    ``topics`` maps a topic name (the theme, a product) to its keywords; each gets its related
    trends and hashtags in ``report.topics``. A topic named in ``strict`` (the theme) only
    counts the trends that are really about it (``is_about``).
    """
    if not trends:
        raise ValueError("build_report needs at least one trend")
    ranked = rank(trends, now)
    tags = top_hashtags(trends, now, n=hashtag_n)
    style = dominant_style(trends, now)
    duration = typical_duration(trends, now)
    sounds: dict[str, float] = defaultdict(float)
    for item in ranked:
        # "original sound" is per-creator audio, not a reusable trending track.
        if item.sound and not item.sound.lower().startswith("original sound"):
            sounds[item.sound] += item.velocity
    tag_names = [entry.tag for entry in tags]
    return TrendReportData(
        generated_at=_aware(now),
        trend_count=len(trends),
        platforms=dict(sorted(Counter(t.platform for t in trends).items())),
        top_hashtags=tag_names,
        hashtag_scores=tags,
        dominant_style=style,
        style_breakdown=style_breakdown(trends, now),
        typical_duration_seconds=duration,
        median_engagement_rate=round(statistics.median(engagement_rate(t) for t in trends), 5),
        top_sounds=sorted(sounds, key=lambda s: (-sounds[s], s))[:3],
        top_videos=[_top_video(item) for item in ranked[:top_n]],
        pattern=describe_pattern(style, duration, tag_names),
        topics=[
            topic_trends(
                name,
                keywords,
                [t for t in trends if is_about(t, name)] if name in strict else trends,
                now,
                # A video about the theme itself retells the trends' ideas: more to choose from,
                # judged by what their creators say they are about.
                n=8 if name in strict else 5,
                described=name in strict,
            )
            for name, keywords in (topics or {}).items()
        ],
    )
