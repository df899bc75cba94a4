"""Stage 1: collect trending short videos from the configured source and store them.

Outputs: ``Output`` below; ``trend_ids`` are the stored rows of this fetch (new and refreshed),
ascending. ``platforms`` counts the fetched videos per platform. Rerunning is safe: rows are
upserted on (platform, external_id).
"""

from __future__ import annotations

from collections import Counter

from vidgen.errors import StageError
from vidgen.providers.trends import get_trend_source
from vidgen.stages.base import StageContext, StageOutput, StageResult
from vidgen.store import trends


class Output(StageOutput):
    """``trend_ids``: the stored rows of this fetch (new and refreshed), ascending;
    ``platforms``: the fetched videos per platform."""

    STAGE = "trend_collection"

    source: str  # the trend source's name
    fetched: int
    new: int
    updated: int
    trend_ids: list[int]
    platforms: dict[str, int]


def run(ctx: StageContext) -> StageResult:
    settings = ctx.config.config
    source = get_trend_source(settings.providers.trends)
    ctx.log(f"fetching up to {settings.trend_limit} trends from {source.name}")
    estimate = getattr(source, "estimate_cost", None)
    if callable(estimate):
        ctx.check_cost(float(estimate(settings.trend_limit)), f"the {source.name} trend source")
    items = source.fetch(settings.trend_limit)
    ctx.check_cancelled()
    if not items:
        # Usually transient (an empty chart page, a scraper hiccup); analysis needs at least one.
        raise StageError(
            f"trend source {source.name!r} returned no videos; it will be asked again "
            "(or set providers.trends: sample)"
        )
    new_ids, updated_ids = trends.upsert(ctx.store, [item.model_dump() for item in items])
    ctx.log(f"stored {len(new_ids)} new and {len(updated_ids)} updated trends")
    return StageResult(
        output=Output(
            source=source.name,
            fetched=len(items),
            new=len(new_ids),
            updated=len(updated_ids),
            trend_ids=sorted(new_ids + updated_ids),
            platforms=dict(sorted(Counter(item.platform for item in items).items())),
        ),
        cost=source.cost,
    )
