"""The trend report: the model and ``build_report``."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from vidgen.analysis._scoring import (
    HashtagScore,
    TopVideo,
    TrendLike,
    _aware,
    describe_pattern,
    dominant_style,
    engagement_rate,
    rank,
    style_breakdown,
    top_hashtags,
    typical_duration,
)
from vidgen.analysis._topics import TopicTrends, _top_video, is_about, topic_trends


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
