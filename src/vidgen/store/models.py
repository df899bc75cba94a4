"""The job store's tables (SQLModel).

The store is the source of truth: a job's status, its per-stage checkpoints, the trends it
read, the plan it wrote and the video it made. ``completed_stages`` is derived from checkpoints.
Times are timezone-aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, CursorResult, DateTime, Index, Table, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from vidgen.clock import utcnow
from vidgen.statuses import (
    CheckpointStatus,
    JobStatus,
    PublicationStatus,
    RunnerEvent,
    VideoStatus,
)

# The status enums are re-exported: the tables' defaults use them, and tests read them here.
__all__ = [
    "Checkpoint",
    "CheckpointStatus",
    "ContentPlan",
    "Event",
    "Job",
    "JobStatus",
    "OwnedName",
    "Publication",
    "PublicationStatus",
    "RunnerEvent",
    "StoreMeta",
    "Trend",
    "TrendReport",
    "UTCDateTime",
    "Video",
    "VideoStatus",
    "WebSession",
    "WorkerBeat",
    "utcnow",
]


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


class Job(SQLModel, table=True):
    __table_args__ = (
        Index("ix_job_status_created", "status", "created_at"),
        # The narrowest index there is (a flag per row): SQLite counts rows by scanning the
        # smallest covering index, so `vidgen jobs`'s total over 1M jobs takes ~5 ms through
        # this one instead of ~26 ms through created_at.
        Index("ix_job_count", "cancel_requested"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Every column is written only by vidgen.store.jobs (status by its transition()).
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
    # Incremented by every claim: a runner's writes carry the epoch it claimed (store.leases),
    # so a runner declared lost cannot write once the job was failed or claimed again.
    # The server default lets a row inserted by an older vidgen (rolling upgrade) start at 0.
    lease_epoch: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # The job's cost is not stored here: it is the sum of its completed checkpoints' costs.
    # The render profile fixed when the job was queued (VIDGEN_PROFILE of the generating
    # process, else the config's), so the worker's environment cannot change it.
    profile: str | None = None
    # Set by ``vidgen cancel`` on a running job; the lease heartbeat sees it and stops the stage.
    cancel_requested: bool | None = None


class Checkpoint(SQLModel, table=True):
    """One row per stage attempt; the latest row for a stage tells its state.

    Written only by vidgen.store.checkpoints."""

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
    description: str = ""
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
    """A finished video; written only by vidgen.store.videos (the three paths move together)."""

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


class Event(SQLModel, table=True):
    """One named runner event of a job (``RunnerEvent``); written only by vidgen.store.events.

    The one source ``vidgen logs``, webhooks and the dashboard read: ordered by ``id``.
    """

    __table_args__ = (Index("ix_event_job_id", "job_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="job.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    kind: str
    stage: str | None = None
    attempt: int | None = None
    message: str = ""
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class StoreMeta(SQLModel, table=True):
    """Facts about the store itself; ``store_id`` is its identity (random, written once when
    the store is created): the home's marker file and the files the store publishes carry
    it, so a lost or replaced store is told apart from the one that recorded the work.
    Written only by vidgen.store.engine."""

    key: str = Field(primary_key=True)
    value: str


class OwnedName(SQLModel, table=True):
    """A name this store publishes files under (``<folder>/<base>.*`` and its staging
    folders), recorded before the first of them appears. Sweeps delete only recorded names:
    files another store (a second home sharing the output folder, an older store) put there
    are never "leftovers". Written only by vidgen.store.videos."""

    __table_args__ = (UniqueConstraint("job_id", "folder", "base", name="uq_ownedname"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(index=True)
    folder: str
    base: str
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Publication(SQLModel, table=True):
    """One approved video on one destination; written only by vidgen.store.publications.

    ``request`` is what vidgen sends (title, description, tags, privacy, made-for-kids...),
    fixed when the publication is scheduled; ``upload`` the platform's upload session
    (resumable URI or publish id, the confirmed offset, steps done), recorded before bytes are
    sent and after each chunk so a resumed upload continues it instead of starting another.
    """

    __table_args__ = (
        Index("ix_publication_status_at", "status", "scheduled_at"),
        Index("ix_publication_video", "video_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    video_id: int = Field(foreign_key="video.id")
    destination: str
    account: str = "default"
    status: str = PublicationStatus.SCHEDULED.value
    scheduled_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    remote_id: str | None = None
    url: str | None = None
    privacy: str | None = None  # asked for
    applied_privacy: str | None = None  # what the platform applied (unaudited apps: private)
    error_message: str | None = None
    lease_owner: str | None = None
    lease_epoch: int = 0
    lease_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    request: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    upload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class WebSession(SQLModel, table=True):
    """A dashboard sign-in: random per sign-in, kept server-side, with an expiry; sign-out
    deletes it. ``id`` is the SHA-256 of the cookie value (the store never holds a usable
    cookie); ``token_fp`` ties it to the API token it was opened with, so changing
    ``VIDGEN_API_TOKEN`` ends every session. Written only by vidgen.store.sessions."""

    id: str = Field(primary_key=True)
    token_fp: str
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


def table(model: type[SQLModel]) -> Table:
    """The Core table of ``model``, for the hot statements built once at import (typed, unlike
    ``Model.__table__``)."""
    return SQLModel.metadata.tables[str(model.__tablename__)]


def new_id(result: CursorResult[Any]) -> int:
    """The primary key a single-row INSERT just made."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])
