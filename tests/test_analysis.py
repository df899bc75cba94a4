"""Trend analysis numbers on a small fixed dataset, and the trend_analysis stage."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from vidgen.analysis import (
    DEFAULT_STYLE,
    build_report,
    classify_style,
    dominant_style,
    engagement_rate,
    engagement_velocity,
    rank,
    style_breakdown,
    top_hashtags,
    typical_duration,
)
from vidgen.errors import FatalStageError
from vidgen.providers.trends import TrendItem
from vidgen.stages import trend_analysis, trend_collection
from vidgen.stages.base import StageContext
from vidgen.store.models import TrendReport

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def item(
    ext: str,
    title: str,
    tags: list[str],
    likes: int,
    comments: int,
    shares: int,
    hours_ago: float,
    duration: float,
    views: int,
    platform: str = "tiktok",
) -> TrendItem:
    return TrendItem(
        platform=platform,
        external_id=ext,
        title=title,
        hashtags=tags,
        views=views,
        likes=likes,
        comments=comments,
        shares=shares,
        creator=f"creator-{ext}",
        sound="Espresso - Sabrina Carpenter" if ext in ("a1", "d1") else "original sound - x",
        duration_seconds=duration,
        posted_at=NOW - timedelta(hours=hours_ago),
    )


# Weighted interactions (likes + 2*comments + 3*shares) / max(hours, 1):
#   a1: 1000+200+150  = 1350 / 10  = 135.0     listicle      20 s
#   b1:  600+ 60+ 30  =  690 / 1   = 690.0     tutorial      45 s (posted 30 min ago: floor 1 h)
#   c1: 5000+500+1500 = 7000 / 70  = 100.0     product-demo  15 s
#   d1: 2000+800+600  = 3400 / 20  = 170.0     talking-head  30 s
#   e1:  300+ 20+ 15  =  335 / 5   =  67.0     cinematic     60 s
#   f1:  100          =  100 / 50  =   2.0     (no cue)       9 s, no views reported
TRENDS = [
    item("a1", "Top 5 gadgets under $50", ["tech", "gadgets", "fyp"], 1000, 100, 50, 10, 20, 20000),
    item(
        "b1",
        "How to fix your squat form",
        ["fitness", "tutorial"],
        600,
        30,
        10,
        0.5,
        45,
        10000,
        platform="youtube",
    ),
    item(
        "c1",
        "Unboxing the smart ring",
        ["tech", "unboxing"],
        5000,
        250,
        500,
        70,
        15,
        80000,
        platform="instagram",
    ),
    item("d1", "Storytime: the worst date", ["storytime", "comedy"], 2000, 400, 200, 20, 30, 40000),
    item(
        "e1",
        "Kyoto at golden hour, cinematic drone",
        ["travel", "cinematic"],
        300,
        10,
        5,
        5,
        60,
        5000,
        platform="youtube",
    ),
    item("f1", "just vibing", ["fyp"], 100, 0, 0, 50, 9, 0),
]
EXPECTED_VELOCITY = {"a1": 135.0, "b1": 690.0, "c1": 100.0, "d1": 170.0, "e1": 67.0, "f1": 2.0}


def test_engagement_velocity_exact() -> None:
    for trend in TRENDS:
        assert engagement_velocity(trend, NOW) == pytest.approx(
            EXPECTED_VELOCITY[trend.external_id]
        )


def test_engagement_rate() -> None:
    assert engagement_rate(TRENDS[0]) == pytest.approx(1150 / 20000)
    assert engagement_rate(TRENDS[5]) == 0.0


def test_rank_orders_by_velocity() -> None:
    ranked = rank(TRENDS, NOW)
    assert [s.external_id for s in ranked] == ["b1", "d1", "a1", "c1", "e1", "f1"]
    assert ranked[0].velocity == pytest.approx(690.0)


def test_top_hashtags_weighted_by_velocity_without_generic_tags() -> None:
    tags = top_hashtags(TRENDS, NOW, n=5)
    # fitness/tutorial tie at 690 and sort by name; tech = a1 + c1 = 235.
    assert [t.tag for t in tags] == ["fitness", "tutorial", "tech", "comedy", "storytime"]
    assert tags[2].score == pytest.approx(235.0) and tags[2].count == 2
    with_generic = top_hashtags(TRENDS, NOW, n=20, include_generic=True)
    assert "fyp" in [t.tag for t in with_generic]


@pytest.mark.parametrize(
    ("title", "tags", "style"),
    [
        ("Top 5 gadgets under $50", ["gadgets"], "listicle"),
        ("7 things I wish I knew before Lisbon", ["travel"], "listicle"),
        ("How to see Vancouver on a budget: 5 tips", ["drone", "cinematic"], "listicle"),
        ("How to fix your squat form", [], "tutorial"),
        ("Easy focaccia", ["recipe"], "tutorial"),
        ("Unboxing the smart ring", [], "product-demo"),
        ("This lamp is wild", ["tiktokmademebuyit"], "product-demo"),
        ("Storytime: the worst date", [], "talking-head"),
        ("Kyoto at golden hour", ["cinematic"], "cinematic"),
        ("just vibing", ["fyp"], DEFAULT_STYLE),
        # Tie (tutorial 2 vs product-demo 2): the structural format wins by priority.
        ("Guide", ["review", "unboxing"], "tutorial"),
    ],
)
def test_style_rules(title: str, tags: list[str], style: str) -> None:
    assert classify_style(title, tags) == style


def test_style_breakdown_and_dominant_style() -> None:
    shares = style_breakdown(TRENDS, NOW)
    total = 690 + 172 + 135 + 100 + 67
    assert shares["tutorial"] == pytest.approx(690 / total, abs=1e-4)
    assert shares["talking-head"] == pytest.approx(172 / total, abs=1e-4)
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-3)
    assert dominant_style(TRENDS, NOW) == "tutorial"


def test_typical_duration_is_median_of_top_quartile() -> None:
    # ceil(6 / 4) = 2 fastest: b1 (45 s) and d1 (30 s).
    assert typical_duration(TRENDS, NOW) == 37.5
    assert typical_duration(TRENDS[:1], NOW) == 20.0
    assert typical_duration([], NOW) == 0.0


def test_build_report() -> None:
    report = build_report(TRENDS, NOW, top_n=3)
    assert report.trend_count == 6
    assert report.platforms == {"instagram": 1, "tiktok": 3, "youtube": 2}
    assert report.dominant_style == "tutorial"
    assert report.typical_duration_seconds == 37.5
    assert report.top_hashtags == ["fitness", "tutorial", "tech", "comedy", "storytime"]
    assert report.pattern == "tutorial, ~38 s, #fitness #tutorial rising"
    assert [v.external_id for v in report.top_videos] == ["b1", "d1", "a1"]
    assert report.top_videos[0].style == "tutorial"
    # "original sound" is per-creator audio, so only the licensed track counts.
    assert report.top_sounds == ["Espresso - Sabrina Carpenter"]
    assert report.llm_insights is None
    json.loads(report.model_dump_json())
    with pytest.raises(ValueError, match="at least one trend"):
        build_report([], NOW)


def on_topic_only(tags: list[str]) -> bool:
    return not {"pets", "catsoftiktok", "fyp", "viral"} & set(tags)


def test_trend_analysis_stage_writes_report_and_row(
    stage_context: Callable[..., StageContext], theme_config: Callable[..., Any]
) -> None:
    config = theme_config(trend_limit=120)
    collect_ctx = stage_context("trend_collection", config=config)
    collected = trend_collection.run(collect_ctx)
    ctx = stage_context(
        "trend_analysis",
        outputs={"trend_collection": collected.outputs},
        config=config,
        job_id=collect_ctx.job_id,
    )
    result = trend_analysis.run(ctx)
    out = result.outputs
    assert set(out) == {
        "report_id",
        "report_path",
        "trend_count",
        "top_hashtags",
        "dominant_style",
        "typical_duration_seconds",
        "top_videos",
        "pattern",
        "topics",
    }
    # Related trends for the theme and for each content reference, for the planner.
    assert [t["topic"] for t in out["topics"]] == [
        "Product Demo", "HushBuds Wireless Headphones", "StrideLite Running Shoes",
        "PocketBrew Folding Kettle",
    ]  # fmt: skip
    shoes = out["topics"][2]
    assert "runningshoe" in shoes["keywords"] or "runningshoes" in shoes["keywords"]
    assert on_topic_only(shoes["hashtags"])
    assert out["trend_count"] == 120
    assert out["report_path"] == "trend_analysis/attempt-1/trend_report.json"
    path = ctx.path(out["report_path"])
    assert result.files == [path] and result.cost == 0.0
    on_disk = json.loads(path.read_text())
    assert on_disk["pattern"] == out["pattern"]
    assert on_disk["top_hashtags"] == out["top_hashtags"]
    assert len(out["top_videos"]) == 5
    assert out["top_videos"][0]["velocity"] >= out["top_videos"][-1]["velocity"]
    assert out["dominant_style"] in out["pattern"]
    assert 7 <= out["typical_duration_seconds"] <= 60
    json.dumps(out)
    with ctx.store.read() as session:
        row = session.exec(select(TrendReport)).one()
    assert row.id == out["report_id"] and row.job_id == ctx.job_id
    assert row.report_path == out["report_path"]
    assert row.summary["pattern"] == out["pattern"]


def test_trend_analysis_needs_collected_trends(
    stage_context: Callable[..., StageContext],
) -> None:
    from vidgen.stages.base import RecordedOutput

    with pytest.raises(FatalStageError, match="trend_collection"):
        trend_analysis.run(stage_context("trend_analysis"))
    # Recorded by another stage package, without what this stage needs: refused, not a crash.
    partial = {"trend_collection": RecordedOutput.model_validate({"trend_ids": [1]})}
    with pytest.raises(FatalStageError, match=r"needs the trend_collection outputs.*do not fit"):
        trend_analysis.run(stage_context("trend_analysis", outputs=partial))
    collected = {"source": "sample", "fetched": 1, "new": 0, "updated": 1, "platforms": {}}
    empty = {"trend_collection": {**collected, "trend_ids": [999_999]}}
    with pytest.raises(FatalStageError, match=r"none of the collected"):
        trend_analysis.run(stage_context("trend_analysis", outputs=empty))


def test_topic_trends_are_related_and_never_the_global_list() -> None:
    from vidgen.analysis import topic_phrases, topic_trends

    topic = topic_trends("Fitness", topic_phrases(["Fitness"], with_words=True), TRENDS, NOW)
    assert topic.trends, "some sample trends are about fitness"
    for video in topic.trends:
        trend = next(t for t in TRENDS if t.external_id == video.external_id)
        text = (trend.title + " " + " ".join(trend.hashtags)).lower()
        assert "fitness" in text
    assert topic.hashtags and "fyp" not in topic.hashtags
    assert topic.hashtags[0] == "fitness"  # the tag that is the topic leads
    unrelated = topic_trends("Quantum knitting", ["quantum", "knitting"], TRENDS, NOW)
    assert unrelated.trends == [] and unrelated.hashtags == []


def test_short_keywords_match_whole_hashtags_only() -> None:
    from vidgen.analysis import topic_match

    trend = TRENDS[0].model_copy(update={"title": "Leg day", "hashtags": ["workout", "homegym"]})
    assert topic_match(trend, ["work"]) == 0  # not #workout
    assert topic_match(trend, ["workout"]) == 1
    assert topic_match(trend, ["leg"]) == 2  # a title word counts double
