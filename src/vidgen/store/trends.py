"""``Trend``, ``TrendReport`` and ``ContentPlan`` rows: what a job read and what it wrote.

Providers return data; the stages store it here. ``upsert`` keys trends on (platform,
external_id), like the table's unique constraint.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from vidgen.clock import utcnow
from vidgen.errors import StageError
from vidgen.store.engine import Store
from vidgen.store.models import ContentPlan, Job, Trend, TrendReport

# Refreshed on a trend seen again; (platform, external_id) stay.
STAT_FIELDS = (
    "title",
    "description",
    "hashtags",
    "views",
    "likes",
    "comments",
    "shares",
    "creator",
    "sound",
    "duration_seconds",
    "posted_at",
)


def upsert(store: Store, items: Iterable[Mapping[str, Any]]) -> tuple[list[int], list[int]]:
    """Insert new trends and refresh the stats of known ones; return (new_ids, updated_ids).

    ``items`` are the ``Trend`` fields as mappings (a provider's ``TrendItem.model_dump()``). A
    batch that repeats a key counts it once, with the last values. The whole batch is one write
    transaction so two jobs collecting at once cannot both insert the same video.
    """
    latest: dict[tuple[str, str], Mapping[str, Any]] = {}
    for item in items:
        latest[(item["platform"], item["external_id"])] = item
    if not latest:
        return [], []
    new_ids: list[int] = []
    updated_ids: list[int] = []
    now = utcnow()
    try:
        with store.write() as session:
            existing: dict[tuple[str, str], Trend] = {}
            by_platform: dict[str, list[str]] = {}
            for platform, external_id in latest:
                by_platform.setdefault(platform, []).append(external_id)
            for platform, ids in by_platform.items():
                # Chunked so the IN list stays under SQLite's bound-parameter limit.
                for start in range(0, len(ids), 500):
                    rows = session.exec(
                        select(Trend).where(
                            Trend.platform == platform,
                            col(Trend.external_id).in_(ids[start : start + 500]),
                        )
                    ).all()
                    existing.update({(row.platform, row.external_id): row for row in rows})
            fresh: list[Trend] = []
            for key, item in latest.items():
                row = existing.get(key)
                if row is None:
                    row = Trend(**item, collected_at=now)
                    session.add(row)
                    fresh.append(row)
                else:
                    for field in STAT_FIELDS:
                        if field in item:  # a source without descriptions keeps the old one
                            setattr(row, field, item[field])
                    row.collected_at = now
                    session.add(row)
            session.flush()
            for key in latest:
                row = existing.get(key)
                if row is not None:
                    assert row.id is not None
                    updated_ids.append(row.id)
            for row in fresh:
                assert row.id is not None
                new_ids.append(row.id)
    except IntegrityError:
        raise StageError(
            "another job stored the same trends at the same moment; the next attempt merges them"
        ) from None
    return new_ids, updated_ids


def get_many(store: Store, trend_ids: Iterable[int]) -> list[Trend]:
    ids = list(trend_ids)
    if not ids:
        return []
    with store.read() as session:
        return list(session.exec(select(Trend).where(col(Trend.id).in_(ids))).all())


def add_report(
    store: Store,
    job_id: int,
    *,
    trend_count: int,
    top_hashtags: list[str],
    dominant_style: str,
    typical_duration_seconds: float,
    report_path: str,
    summary: dict[str, Any],
) -> int:
    """Record a trend report of the job; returns its id."""
    with store.write() as session:
        row = TrendReport(
            job_id=job_id,
            trend_count=trend_count,
            top_hashtags=top_hashtags,
            dominant_style=dominant_style,
            typical_duration_seconds=typical_duration_seconds,
            report_path=report_path,
            summary=summary,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def save_plan(
    store: Store, job_id: int, *, title: str, plan: dict[str, Any], voiceover_script: str
) -> int:
    """Insert the job's ContentPlan row, or update it when the stage is re-run; returns its id."""
    with store.write() as session:
        row = session.exec(select(ContentPlan).where(ContentPlan.job_id == job_id)).first()
        if row is None:
            row = ContentPlan(job_id=job_id, title=title)
        row.title = title
        row.plan = plan
        row.voiceover_script = voiceover_script
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def plan_for_job(store: Store, job_id: int) -> ContentPlan | None:
    """The job's production plan (its latest, should a re-run have written another)."""
    with store.read() as session:
        return session.exec(
            select(ContentPlan)
            .where(ContentPlan.job_id == job_id)
            .order_by(col(ContentPlan.id).desc())
        ).first()


def plan_titles(store: Store, job_ids: Iterable[int]) -> dict[int, str]:
    """The title of each of ``job_ids`` that has written a plan."""
    ids = list(job_ids)
    if not ids:
        return {}
    with store.read() as session:
        rows = session.exec(
            select(ContentPlan.job_id, ContentPlan.title)
            .where(col(ContentPlan.job_id).in_(ids))
            .order_by(col(ContentPlan.id))
        ).all()
    return {job_id: title for job_id, title in rows}  # the latest plan's title wins


def sibling_plans(
    store: Store, job_id: int, since: datetime
) -> list[tuple[int, bool, dict[str, Any]]]:
    """(job id, same theme?, plan) of the other jobs made from the same config file as
    ``job_id`` whose plan was written since ``since``, newest first: what a new video must not
    copy (the caller keeps those of its theme and those about its subject)."""
    with store.read() as session:
        job = session.get(Job, job_id)
        if job is None:
            return []
        rows = session.exec(
            select(ContentPlan.job_id, Job.theme, ContentPlan.plan)
            .join(Job, col(Job.id) == col(ContentPlan.job_id))
            .where(
                Job.config_path == job.config_path,
                col(ContentPlan.job_id) != job_id,
                col(ContentPlan.created_at) >= since,
            )
            .order_by(col(ContentPlan.id).desc())
        ).all()
    return [(other, theme == job.theme, dict(plan)) for other, theme, plan in rows]
