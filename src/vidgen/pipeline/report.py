"""A job's status body (``JobStatusResponse``), built in one place.

``vidgen status --json``, ``GET /api/jobs/{id}`` and the webhook all send these bytes, so the
webhook (which runs in the worker, below the service layer) builds them here too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from vidgen.schemas import JobStatusResponse
from vidgen.stages import PIPELINE_STAGES
from vidgen.store import Store, checkpoints, jobs
from vidgen.store.status import CheckpointStatus

if TYPE_CHECKING:
    from vidgen.store.models import Job


def completed_by_job(store: Store, job_ids: Iterable[int]) -> dict[int, list[str]]:
    """completed_stages for each job: stages whose latest checkpoint completed, in stage order."""
    states = checkpoints.latest_states(store, job_ids)
    return {
        job_id: [s for s in PIPELINE_STAGES if latest.get(s) == CheckpointStatus.COMPLETED]
        for job_id, latest in states.items()
    }


def iso(value: object) -> str | None:
    return value.isoformat() if value is not None else None  # type: ignore[attr-defined]


def to_status(job: Job, completed: list[str]) -> JobStatusResponse:
    total = len(PIPELINE_STAGES)
    assert job.id is not None
    return JobStatusResponse(
        id=job.id,
        status=job.status,
        stage=job.stage,
        theme=job.theme,
        created_at=iso(job.created_at),
        updated_at=iso(job.updated_at),
        error_message=job.error_message,
        completed_stages=completed,
        total_stages=total,
        progress_pct=round(len(completed) / total * 100, 1),
    )


def status_body(store: Store, job_id: int) -> JobStatusResponse | None:
    """The job's JobStatusResponse, or None for an unknown job."""
    job = jobs.get(store, job_id)
    if job is None:
        return None
    return to_status(job, completed_by_job(store, [job_id])[job_id])
