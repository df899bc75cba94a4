"""Response models: the contract's JSON, shared by ``--json`` output and HTTP bodies.

Field names and types are fixed by ../shared/CONTRACT.md; everything else vidgen shows is an
addition that never renames or removes these.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from vidgen.errors import InvalidInput


def render_json(model: BaseModel) -> str:
    """Compact UTF-8 JSON: what ``--json`` prints and the HTTP API sends, byte for byte."""
    return json.dumps(
        model.model_dump(mode="json"), ensure_ascii=False, allow_nan=False, separators=(",", ":")
    )


def render_error(message: str) -> str:
    """An error body, ``{"detail": "<one line>"}``: what a failing ``--json`` command prints
    and its HTTP twin sends. A lone surrogate echoed from the input cannot break it."""
    line = " ".join(message.split()).encode("utf-8", "backslashreplace").decode("utf-8")
    return json.dumps({"detail": line}, ensure_ascii=False)


def iso(value: datetime | None) -> str | None:
    """A time as the response models carry it: ISO-8601 (UTC times end in +00:00), or None."""
    return None if value is None else value.isoformat()


MAX_PAGE_LIMIT = 1000  # the most items one page of a list (jobs, videos) may ask for


def check_limit(limit: int) -> int:
    """A page size every list (jobs, videos, publications) accepts, or InvalidInput."""
    if not 1 <= limit <= MAX_PAGE_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE_LIMIT} (got {limit})")
    return limit


class PipelineTriggerRequest(BaseModel):
    # A misspelt field ("theem") is a 422, not a silently default job.
    model_config = ConfigDict(extra="forbid")

    theme: str | None = Field(None, max_length=200)
    config_path: str | None = Field(None, max_length=4096)
    skip_if_queued: bool = Field(
        False, description="Queue nothing if a job for this theme is pending or running"
    )


class PipelineTriggerResponse(BaseModel):
    job_id: int
    task_id: str
    status: Literal["queued"] = "queued"
    poll_url: str
    message: str = "Pipeline execution started"


class PublicationSummary(BaseModel):
    """One publication of a video as a job's status and the videos list show it, oldest first
    (the whole record: ``vidgen publications``)."""

    id: int  # vidgen publications cancel ID
    destination: str
    status: str  # scheduled, uploading, published, failed, cancelled
    scheduled_at: str  # ISO-8601 UTC
    url: str | None  # once published
    error_message: str | None  # once failed


class JobStatusResponse(BaseModel):
    id: int
    status: str
    stage: str | None
    theme: str | None
    created_at: str | None
    updated_at: str | None
    error_message: str | None
    completed_stages: list[str] | None
    total_stages: int
    progress_pct: float | None
    # Addition: where the job's video went (issue 21); [] before it is approved and scheduled.
    publications: list[PublicationSummary] = Field(default_factory=list)


class JobListResponse(BaseModel):
    count: int  # jobs on this page
    total: int  # all jobs matching the filter, for paging with --offset
    jobs: list[JobStatusResponse]


class JobRetryRequest(BaseModel):
    """Body of ``POST /api/jobs/{id}/retry``; an empty body means a plain retry."""

    model_config = ConfigDict(extra="forbid")

    from_stage: str | None = Field(
        None, max_length=64, description="Re-run this stage and every stage after it"
    )
    dry_run: bool = Field(False, description="Only say what would run; change nothing")


class JobRetryResponse(BaseModel):
    job_id: int
    task_id: str  # "" for a dry run
    # "queued", or "dry_run" when nothing was changed (--dry-run)
    status: Literal["queued", "dry_run"] = "queued"
    resume_from: str | None
    skipping_stages: list[str]
    message: str
    # Additions (issue 12): what a run would do, also for --dry-run.
    dry_run: bool = False
    from_stage: str | None = None
    running_stages: list[str] = Field(default_factory=list)
    # stage -> the recorded files (relative to the job folder) that are reused as they are
    reused_outputs: dict[str, list[str]] = Field(default_factory=dict)


class JobCancelResponse(BaseModel):
    """``vidgen cancel ID`` / ``POST /api/jobs/{id}/cancel``."""

    job_id: int
    # "cancelled" (a pending job, at once) or "running" (its worker stops it within seconds)
    status: str
    cancel_requested: bool
    message: str


class JobLogEvent(BaseModel):
    """One runner event of a job (``RunnerEvent``), as ``vidgen logs`` shows it."""

    id: int
    at: str  # ISO-8601 UTC
    kind: str
    stage: str | None
    attempt: int | None
    message: str
    data: dict[str, Any]
    # stage_failed: the last lines of the attempt's traceback (from its checkpoint)
    traceback_tail: list[str] | None = None


class JobLogResponse(BaseModel):
    """``vidgen logs ID`` / ``GET /api/jobs/{id}/logs[?after=EVENT_ID]``: events oldest first."""

    job_id: int
    status: str  # the job's status now: a follower stops once it is no longer pending/running
    events: list[JobLogEvent]


class StageDetail(BaseModel):
    """One stage's latest checkpoint, for ``vidgen status --stages`` and the live display."""

    stage: str
    state: Literal["waiting", "running", "completed", "failed"]
    attempt: int | None
    started_at: str | None
    finished_at: str | None
    duration_seconds: float | None
    cost: float
    error: str | None


class JobDetailResponse(JobStatusResponse):
    config_path: str | None
    profile: str | None  # render profile recorded when the job was queued
    total_cost: float
    stages: list[StageDetail]
    video_path: str | None
    # The video's own id (approve/reject --video-id); not the job id once a job failed before.
    video_id: int | None = None


class LiveLease(BaseModel):
    """A running job whose lease is still live: ``recover`` leaves it alone until it lapses."""

    job_id: int
    stage: str | None
    lease_expires_at: str  # ISO-8601 UTC
    seconds_left: float


class RecoverResponse(BaseModel):
    requeued_job_ids: list[int]
    failed_lost_job_ids: list[int]
    queue_reset: bool
    message: str
    live_leases: list[LiveLease] = Field(default_factory=list)


class HealthResponse(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
    store: str
    queue: str
    # Live workers on this queue (a heartbeat within the lease): 0 means queued jobs wait.
    workers: int = 0
    worker_message: str = ""


class GenerateSkippedResponse(BaseModel):
    """``generate --skip-if-queued`` found a job for the same theme still pending or running."""

    job_id: int  # the job already queued or running, not a new one
    status: Literal["skipped"] = "skipped"
    job_status: str
    theme: str
    poll_url: str
    message: str


class BatchEntry(BaseModel):
    """One entry of ``generate --batch FILE`` / ``POST /api/generate/batch``."""

    model_config = ConfigDict(extra="forbid")

    theme: str | None = Field(None, max_length=200)
    config: str | None = Field(None, max_length=4096)


class BatchTriggerResponse(BaseModel):
    count: int
    jobs: list[PipelineTriggerResponse]


class PruneRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    older_than: str = Field(max_length=40, description="e.g. 7d, 12h, 30m")
    dry_run: bool = False
    rejected: bool = False


class PruneResponse(BaseModel):
    dry_run: bool
    older_than: str
    cutoff: str  # ISO-8601 UTC: jobs that ended before this
    jobs: int  # job folders deleted (or that would be)
    job_ids: list[int]
    rejected_videos: int  # rejected videos whose files were deleted (with --rejected)
    files: int
    bytes: int
    message: str


class JobCard(JobStatusResponse):
    """One row of the dashboard's jobs list: the status plus what a reviewer looks for first."""

    total_cost: float
    title: str | None
    video_id: int | None
    video_status: str | None


class JobCardListResponse(BaseModel):
    count: int
    total: int
    jobs: list[JobCard]


class PlanScene(BaseModel):
    index: int
    duration_seconds: float
    on_screen_text: str
    narration: str


class PlanSummary(BaseModel):
    """The production plan a job wrote (content_generation), as a reviewer reads it."""

    title: str
    description: str
    hashtags: list[str]
    style: str | None
    voiceover_script: str
    scenes: list[PlanScene]


class JobEvent(BaseModel):
    """One named runner event of a job (job_claimed, stage_started, stage_failed, backoff...)."""

    id: int
    at: str
    kind: str
    stage: str | None
    attempt: int | None
    message: str
    data: dict[str, Any]


VideoFileKind = Literal["video", "thumbnail", "captions"]


class VideoFileResponse(BaseModel):
    """A file vidgen published for a video, looked up by the video's id (never a given path)."""

    video_id: int
    kind: VideoFileKind
    path: str
    media_type: str
    size_bytes: int


class VideoResponse(BaseModel):
    id: int
    job_id: int
    status: str
    title: str
    video_path: str
    thumbnail_path: str
    log_path: str
    duration_seconds: float
    created_at: str
    reviewed_at: str | None
    reason: str | None
    # Where an approved video went, oldest first (the service fills it; see vidgen publications).
    publications: list[PublicationSummary] = Field(default_factory=list)


class VideoListResponse(BaseModel):
    count: int
    videos: list[VideoResponse]


class JobPageResponse(BaseModel):
    """Everything the dashboard's job page shows: stages, plan, video and its captions."""

    job: JobDetailResponse
    attempts: list[StageDetail]
    events: list[JobEvent]
    plan: PlanSummary | None
    video: VideoResponse | None
    captions_path: str | None


# -- publishing (contract addition "Publishing") ----------------------------------------------


class PublishRequest(BaseModel):
    """Body of ``POST /api/videos/{id}/publish``."""

    model_config = ConfigDict(extra="forbid")

    to: str = Field(max_length=20, description="youtube or tiktok")
    at: str | None = Field(
        None,
        max_length=64,
        description="ISO-8601 with an offset, or local time in publish.timezone; default now",
    )
    account: str | None = Field(None, max_length=40, description="from 'vidgen auth --account'")


class PublicationResponse(BaseModel):
    """One approved video on one destination (``vidgen publications --json`` shows these)."""

    id: int
    video_id: int
    job_id: int | None
    title: str
    destination: str
    account: str
    status: str  # scheduled, uploading, published, failed, cancelled
    scheduled_at: str
    created_at: str
    updated_at: str
    started_at: str | None
    finished_at: str | None
    attempts: int
    remote_id: str | None
    url: str | None
    privacy: str | None  # asked for
    applied_privacy: str | None  # what the platform applied
    uploaded_bytes: int | None
    total_bytes: int | None
    error_message: str | None


class PublicationListResponse(BaseModel):
    count: int
    publications: list[PublicationResponse]


class PublishDueResponse(BaseModel):
    """``vidgen publish --due``: what was handed to the workers (uploads run there)."""

    queued: list[int]
    held_back: dict[str, int]  # destination -> publications left for tomorrow (max_per_day)
    message: str
