"""A job's status body (``JobStatusResponse``), built in one place.

``vidgen status --json``, ``GET /api/jobs/{id}`` and the webhook all send these bytes, so the
webhook (which runs in the worker, below the service layer) builds them here too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from vidgen.schemas import JobStatusResponse, PublicationSummary
from vidgen.schemas import iso as iso  # re-exported: the service reads it here
from vidgen.stages import PIPELINE_STAGES
from vidgen.statuses import CheckpointStatus

if TYPE_CHECKING:
    from vidgen.store import Store

# The store's query modules are imported where they are used: ``to_status`` also serves the
# read commands' fast path (``store.fastread``), which must not load SQLAlchemy.


class JobFields(Protocol):
    """What a status body shows of a job: a ``store.models.Job`` or a ``fastread.JobRow``."""

    @property
    def id(self) -> int | None: ...
    @property
    def status(self) -> str: ...
    @property
    def stage(self) -> str | None: ...
    @property
    def theme(self) -> str | None: ...
    @property
    def created_at(self) -> datetime | None: ...
    @property
    def updated_at(self) -> datetime | None: ...
    @property
    def error_message(self) -> str | None: ...


class PublicationFields(Protocol):
    """What a status body shows of a publication: a ``store.models.Publication`` or a
    ``fastread.PublicationRow``."""

    @property
    def id(self) -> int | None: ...
    @property
    def destination(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def scheduled_at(self) -> datetime: ...
    @property
    def url(self) -> str | None: ...
    @property
    def error_message(self) -> str | None: ...


def to_summary(pub: PublicationFields) -> PublicationSummary:
    assert pub.id is not None
    return PublicationSummary(
        id=pub.id,
        destination=pub.destination,
        status=pub.status,
        scheduled_at=pub.scheduled_at.isoformat(),
        url=pub.url,
        error_message=pub.error_message,
    )


def publications_by_job(
    store: Store, job_ids: Iterable[int]
) -> dict[int, list[PublicationSummary]]:
    """Each job's video's publications, oldest first (jobs without any are left out)."""
    from vidgen.store import publications, videos

    by_job = {job_id: v.id for job_id, v in videos.for_jobs(store, job_ids).items() if v.id}
    by_video = publications.for_videos(store, by_job.values())
    return {
        job_id: [to_summary(pub) for pub in by_video[video_id]]
        for job_id, video_id in by_job.items()
        if video_id in by_video
    }


def completed_stages(latest: Mapping[str, str]) -> list[str]:
    """Stages whose latest checkpoint (``latest``: stage -> status) completed, in stage order."""
    return [s for s in PIPELINE_STAGES if latest.get(s) == CheckpointStatus.COMPLETED]


def completed_by_job(store: Store, job_ids: Iterable[int]) -> dict[int, list[str]]:
    """completed_stages for each job: stages whose latest checkpoint completed, in stage order."""
    from vidgen.store import checkpoints

    states = checkpoints.latest_states(store, job_ids)
    return {job_id: completed_stages(latest) for job_id, latest in states.items()}


def to_status(
    job: JobFields, completed: list[str], publications: list[PublicationSummary]
) -> JobStatusResponse:
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
        publications=publications,
    )


def status_body(store: Store, job_id: int) -> JobStatusResponse | None:
    """The job's JobStatusResponse, or None for an unknown job."""
    from vidgen.store import jobs

    job = jobs.get(store, job_id)
    if job is None:
        return None
    published = publications_by_job(store, [job_id]).get(job_id, [])
    return to_status(job, completed_by_job(store, [job_id])[job_id], published)
