"""Response models: the contract's JSON, shared by ``--json`` output and HTTP bodies.

Field names and types are fixed by ../shared/CONTRACT.md; everything else vidgen shows is an
addition that never renames or removes these.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


def render_json(model: BaseModel) -> str:
    """Compact UTF-8 JSON: what ``--json`` prints and the HTTP shim sends, byte for byte."""
    return json.dumps(
        model.model_dump(mode="json"), ensure_ascii=False, allow_nan=False, separators=(",", ":")
    )


class PipelineTriggerRequest(BaseModel):
    # A misspelt field ("theem") is a 422, not a silently default job.
    model_config = ConfigDict(extra="forbid")

    theme: str | None = Field(None, max_length=200)
    config_path: str | None = Field(None, max_length=4096)


class PipelineTriggerResponse(BaseModel):
    job_id: int
    task_id: str
    status: Literal["queued"] = "queued"
    poll_url: str
    message: str = "Pipeline execution started"


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


class JobListResponse(BaseModel):
    count: int
    jobs: list[JobStatusResponse]


class JobRetryResponse(BaseModel):
    job_id: int
    task_id: str
    status: Literal["queued"] = "queued"
    resume_from: str | None
    skipping_stages: list[str]
    message: str


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
    total_cost: float
    stages: list[StageDetail]
    video_path: str | None


class RecoverResponse(BaseModel):
    requeued_job_ids: list[int]
    failed_lost_job_ids: list[int]
    queue_reset: bool
    message: str


class HealthResponse(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
    store: str
    queue: str
