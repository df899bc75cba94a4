"""The job store's tables (SQLModel).

The store is the source of truth: a job's status, its per-stage checkpoints, the trends it
read, the plan it wrote and the video it made. ``completed_stages`` is derived from checkpoints.
Times are timezone-aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, always hands back timezone-aware datetimes (SQLite forgets the zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class CheckpointStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class VideoStatus(StrEnum):
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"


class Job(SQLModel, table=True):
    __table_args__ = (Index("ix_job_status_created", "status", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # Written only by vidgen.store.jobs.transition().
    status: str = Field(default=JobStatus.PENDING.value, index=False)
    stage: str | None = "initialization"
    theme: str = "default"
    config_path: str | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    error_message: str | None = None
    task_id: str | None = None
    # Lease: a running job belongs to one worker until lease_expires_at; heartbeats renew it.
    lease_owner: str | None = None
    lease_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts_started: int = 0
    total_cost: float = 0.0


class Checkpoint(SQLModel, table=True):
    """One row per stage attempt; the latest row for a stage tells its state."""

    __table_args__ = (Index("ix_checkpoint_job_stage", "job_id", "stage", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="job.id")
    stage: str
    attempt: int
    status: str = CheckpointStatus.RUNNING.value
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    duration_seconds: float | None = None
    outputs: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # {relative path under the job folder: {"size": int, "sha256": str}} verified before reuse.
    files: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    cost: float = 0.0
    error: str | None = None
    traceback: str | None = None


class Trend(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("platform", "external_id", name="uq_trend_platform_ext"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str
    external_id: str
    title: str
    hashtags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    views: int = 0
    likes: int = 0
    comments: int = 0
    shares: int = 0
    creator: str = ""
    sound: str = ""
    duration_seconds: float = 0.0
    posted_at: datetime = Field(sa_type=UTCDateTime)
    collected_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TrendReport(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="job.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    trend_count: int = 0
    top_hashtags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    dominant_style: str = ""
    typical_duration_seconds: float = 0.0
    report_path: str = ""
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class ContentPlan(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="job.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    title: str
    plan: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    voiceover_script: str = ""


class Video(SQLModel, table=True):
    __table_args__ = (Index("ix_video_status_created", "status", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="job.id", index=True)
    plan_id: int | None = Field(default=None, foreign_key="contentplan.id")
    status: str = VideoStatus.PENDING_REVIEW.value
    title: str = ""
    video_path: str
    thumbnail_path: str
    log_path: str
    duration_seconds: float = 0.0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reason: str | None = None


class WorkerBeat(SQLModel, table=True):
    """A live ``vidgen worker``: lets ``generate --wait`` know whether anyone will pick a job up."""

    id: str = Field(primary_key=True)
    hostname: str
    pid: int
    queue: str
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
