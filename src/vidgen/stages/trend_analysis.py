"""Stage 2: score the collected trends and write the trend report.

Reads the rows named by ``trend_collection``'s ``trend_ids``, builds the report with
``vidgen.analysis.build_report`` (including the trends and hashtags related to the job's theme
and to each content reference, for the planner), optionally asks an LLM for commentary
(``providers.analysis: openai | anthropic``), writes ``trend_report.json`` atomically and records
a ``TrendReport`` row. The LLM call comes before any write so a failed call leaves nothing
half-recorded.
"""

from __future__ import annotations

import json
from typing import Any

from vidgen.analysis import (
    TopicTrends,
    TopVideo,
    TrendReportData,
    build_report,
    topic_keywords,
    topic_phrases,
)
from vidgen.clock import utcnow
from vidgen.config import ThemeConfig
from vidgen.errors import FatalStageError
from vidgen.files import atomic_write_text
from vidgen.providers.llm import estimate_cost, get_llm
from vidgen.stages import trend_collection
from vidgen.stages.base import StageContext, StageOutput, StageResult
from vidgen.store import trends

REPORT_NAME = "trend_report.json"


class Output(StageOutput):
    """``topics``: the theme and each content reference, with their related trends and
    hashtags (the planner's only source of hashtags)."""

    STAGE = "trend_analysis"

    report_id: int
    report_path: str
    trend_count: int
    top_hashtags: list[str]
    dominant_style: str
    typical_duration_seconds: float
    top_videos: list[TopVideo]
    pattern: str
    topics: list[TopicTrends]


LLM_SYSTEM = (
    "You are a short-form video strategist. You read trend statistics from TikTok, YouTube "
    "Shorts and Instagram Reels and explain what is working. Be concrete and brief. Answer with "
    'a JSON object: {"insights": [3 short strings], "hook_ideas": [3 opening lines under 12 '
    'words], "recommended_style": one of cinematic|talking-head|tutorial|listicle|product-demo, '
    '"recommended_duration_seconds": number}.'
)


def _llm_prompt(report: TrendReportData, theme: str) -> str:
    summary: dict[str, Any] = {
        "theme": theme,
        "pattern": report.pattern,
        "trend_count": report.trend_count,
        "platforms": report.platforms,
        "top_hashtags": [h.model_dump() for h in report.hashtag_scores],
        "style_breakdown": report.style_breakdown,
        "typical_duration_seconds": report.typical_duration_seconds,
        "top_sounds": report.top_sounds,
        "top_videos": [
            {
                "title": v.title,
                "style": v.style,
                "duration": v.duration_seconds,
                "velocity": v.velocity,
            }
            for v in report.top_videos
        ],
    }
    return "Trend statistics:\n" + json.dumps(summary, indent=1)


def report_topics(config: ThemeConfig) -> dict[str, list[str]]:
    """What the planner may make the video about: the theme and each content reference (its
    title and tags; descriptions are too general to find related trends with)."""
    topics = {config.config.theme: topic_phrases([config.config.theme], with_words=True)}
    for ref in config.content_references:
        keywords = topic_keywords(ref.title)
        keywords += [k for k in topic_phrases(ref.tags, with_words=False) if k not in keywords]
        topics.setdefault(ref.title, keywords)
    return topics


def run(ctx: StageContext) -> StageResult:
    collected = ctx.output(trend_collection.Output)
    rows = trends.get_many(ctx.store, collected.trend_ids)
    if not rows:
        raise FatalStageError(
            "none of the collected trends are in the store any more; retry the job from the start"
        )
    now = utcnow()
    settings = ctx.config.config
    # The theme's own trends must be about all of it, or a video about it would quote others'.
    report = build_report(
        rows, now, topics=report_topics(ctx.config), strict=[ctx.config.config.theme]
    )
    cost = 0.0
    if settings.providers.analysis != "local":
        llm = get_llm(
            settings.providers.analysis, settings.llm_model, base_url=settings.llm_base_url
        )
        ctx.log(f"asking {llm.provider}/{llm.model} for trend commentary")
        prompt = _llm_prompt(report, ctx.theme)
        ctx.check_cost(estimate_cost(llm, LLM_SYSTEM, prompt), f"the {llm.provider} analysis")
        answer = llm.complete_json(LLM_SYSTEM, prompt)
        report.llm_insights = {**answer.data, "provider": answer.provider, "model": answer.model}
        cost = answer.cost
    ctx.check_cancelled()

    path = ctx.work_dir / REPORT_NAME
    atomic_write_text(path, report.model_dump_json(indent=2) + "\n")
    rel = ctx.rel(path)
    top_hashtags = report.top_hashtags
    report_id = trends.add_report(
        ctx.store,
        ctx.job_id,
        trend_count=report.trend_count,
        top_hashtags=top_hashtags,
        dominant_style=report.dominant_style,
        typical_duration_seconds=report.typical_duration_seconds,
        report_path=rel,
        summary=report.model_dump(mode="json"),
    )
    return StageResult(
        output=Output(
            report_id=report_id,
            report_path=rel,
            trend_count=report.trend_count,
            top_hashtags=top_hashtags,
            dominant_style=report.dominant_style,
            typical_duration_seconds=report.typical_duration_seconds,
            top_videos=report.top_videos,
            pattern=report.pattern,
            topics=report.topics,
        ),
        files=[path],
        cost=cost,
    )
