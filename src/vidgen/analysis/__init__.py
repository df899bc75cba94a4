"""Trend analysis: pure functions from a list of trends to a report (stage 2's brain).

Everything here works on ``TrendItem`` objects and ``models.Trend`` rows alike (both satisfy
``TrendLike``), takes ``now`` explicitly, and touches no I/O, so the numbers are reproducible.

The package: ``_scoring`` (velocity, styles, hashtags, patterns), ``_topics`` (the
trends related to one subject) and ``_report`` (the report model, ``build_report``).
"""

from __future__ import annotations

from vidgen.analysis._report import TrendReportData, build_report
from vidgen.analysis._scoring import (
    DEFAULT_STYLE,
    GENERIC_HASHTAGS,
    HASHTAG_WEIGHT,
    LISTICLE_TITLE_WEIGHT,
    STYLE_HASHTAGS,
    STYLE_KEYWORDS,
    STYLE_PRIORITY,
    TITLE_WEIGHT,
    HashtagScore,
    ScoredTrend,
    TopVideo,
    TrendLike,
    classify_style,
    describe_pattern,
    dominant_style,
    engagement_rate,
    engagement_velocity,
    hours_since,
    rank,
    score,
    style_breakdown,
    style_scores,
    top_hashtags,
    typical_duration,
)
from vidgen.analysis._topics import (
    TopicTrends,
    is_about,
    topic_keywords,
    topic_match,
    topic_phrases,
    topic_stem,
    topic_trends,
)

__all__ = [
    "DEFAULT_STYLE",
    "GENERIC_HASHTAGS",
    "HASHTAG_WEIGHT",
    "LISTICLE_TITLE_WEIGHT",
    "STYLE_HASHTAGS",
    "STYLE_KEYWORDS",
    "STYLE_PRIORITY",
    "TITLE_WEIGHT",
    "HashtagScore",
    "ScoredTrend",
    "TopVideo",
    "TopicTrends",
    "TrendLike",
    "TrendReportData",
    "build_report",
    "classify_style",
    "describe_pattern",
    "dominant_style",
    "engagement_rate",
    "engagement_velocity",
    "hours_since",
    "is_about",
    "rank",
    "score",
    "style_breakdown",
    "style_scores",
    "top_hashtags",
    "topic_keywords",
    "topic_match",
    "topic_phrases",
    "topic_stem",
    "topic_trends",
    "typical_duration",
]

# Like httpx: the public names say they live here, wherever the private module defines them.
for _name in __all__:
    _value = globals()[_name]
    if not _name.startswith("_") and getattr(_value, "__module__", "").startswith(__name__):
        _value.__module__ = __name__
