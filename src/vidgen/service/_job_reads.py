"""Reading jobs: status, list, detail (on SQLite through ``store.fastread``, so these never import
SQLAlchemy), the change marker followers poll, and a job's runner events (``vidgen logs``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from vidgen.errors import InvalidInput, NotFound
from vidgen.schemas import (
    JobDetailResponse,
    JobListResponse,
    JobLogEvent,
    JobLogResponse,
    JobStatusResponse,
    PublicationSummary,
    StageDetail,
    iso,
)
from vidgen.service._checks import (
    MAX_JOB_ID,
    _get_job,
    check_job_id,
    check_page,
    check_status,
)
from vidgen.service._handles import (
    checkpoints,
    get_store,
    jobs,
    report,
    videos,
)
from vidgen.settings import Settings
from vidgen.stages import PIPELINE_STAGES
from vidgen.statuses import CheckpointStatus, RunnerEvent

if TYPE_CHECKING:
    from vidgen.pipeline import report as _report
    from vidgen.store import Store
    from vidgen.store.models import Job

    class _DetailJob(_report.JobFields, Protocol):
        """What ``vidgen status ID`` shows of a job: a ``Job`` or a ``fastread.JobRow``."""

        @property
        def config_path(self) -> str | None: ...
        @property
        def profile(self) -> str | None: ...


# One definition of the status body (the webhook sends it too): vidgen.pipeline.report.
def _completed_by_job(store: Store, job_ids: list[int]) -> dict[int, list[str]]:
    return report.completed_by_job(store, job_ids)


def to_status(
    job: Job, completed: list[str], publications: list[PublicationSummary]
) -> JobStatusResponse:
    return report.to_status(job, completed, publications)


def _published(
    rows: Mapping[int, Sequence[_report.PublicationFields]], job_id: int
) -> list[PublicationSummary]:
    """Job ``job_id``'s publications, from either read path's rows."""
    return [report.to_summary(row) for row in rows.get(job_id, ())]


def job_status(settings: Settings, job_id: int) -> JobStatusResponse:
    from vidgen.store import fastread

    def fast(reader: fastread.Reader) -> JobStatusResponse:
        check_job_id(job_id)
        row = reader.job(job_id)
        if row is None:
            raise NotFound(f"Job {job_id} not found")
        latest = reader.latest_states([job_id])[job_id]
        published = _published(reader.publications([job_id]), job_id)
        return report.to_status(row, report.completed_stages(latest), published)

    body = fastread.attempt(settings, fast)  # None: not SQLite, no store yet, other schema
    if body is not None:
        return body
    store = get_store(settings)
    job = _get_job(store, job_id)
    published = report.publications_by_job(store, [job_id]).get(job_id, [])
    return to_status(job, _completed_by_job(store, [job_id])[job_id], published)


def list_jobs(
    settings: Settings, status: str | None = None, limit: int = 20, offset: int = 0
) -> JobListResponse:
    from vidgen.store import fastread

    check_status(status)
    check_page(limit, offset)

    def fast(reader: fastread.Reader) -> JobListResponse:
        found = reader.newest(status, limit, offset)
        states = reader.latest_states(row.id for row in found)
        pubs = reader.publications(row.id for row in found)
        items = [
            report.to_status(row, report.completed_stages(states[row.id]), _published(pubs, row.id))
            for row in found
        ]
        return JobListResponse(count=len(items), total=reader.count(status), jobs=items)

    body = fastread.attempt(settings, fast)  # None: not SQLite, no store yet, other schema
    if body is not None:
        return body
    store = get_store(settings)
    found = jobs.newest(store, status, limit, offset)
    total = jobs.count(store, status)
    ids = [job.id for job in found if job.id is not None]
    completed = _completed_by_job(store, ids)
    published = report.publications_by_job(store, ids)
    items = [
        to_status(job, completed[job.id], published.get(job.id, []))
        for job in found
        if job.id is not None
    ]
    return JobListResponse(count=len(items), total=total, jobs=items)


def job_changes(settings: Settings, job_id: int) -> str:
    """A token that changes whenever ``job_detail`` would show something new (a move, a stage
    starting, ending or backing off): followers poll this and re-read the detail only then."""
    marker = jobs.change_marker(get_store(settings), job_id)
    if marker is None:
        raise NotFound(f"Job {job_id} not found")
    return f"{marker[0].isoformat()}/{marker[1]}"


def job_detail(settings: Settings, job_id: int) -> JobDetailResponse:
    """Status plus every stage's latest checkpoint, cost and the video, for people."""
    from vidgen.store import fastread

    def fast(reader: fastread.Reader) -> JobDetailResponse:
        check_job_id(job_id)
        job = reader.job(job_id)
        if job is None:
            raise NotFound(f"Job {job_id} not found")
        latest = {cp.stage: cp for cp in reader.checkpoints(job_id)}  # the last row per stage
        total = reader.total_cost(job_id)
        published = _published(reader.publications([job_id]), job_id)
        return _detail(job, latest, total, reader.video(job_id), published)

    body = fastread.attempt(settings, fast)  # None: not SQLite, no store yet, other schema
    if body is not None:
        return body
    store = get_store(settings)
    job = _get_job(store, job_id)
    video = videos.for_job(store, job_id)
    return _detail(
        job,
        checkpoints.latest(store, job_id),
        checkpoints.total_cost(store, job_id),
        (video.id, video.video_path) if video is not None and video.id is not None else None,
        report.publications_by_job(store, [job_id]).get(job_id, []),
    )


def _detail(
    job: _DetailJob,
    latest: Mapping[str, Any],
    total_cost: float,
    video: tuple[int, str] | None,
    publications: list[PublicationSummary],
) -> JobDetailResponse:
    """``latest``: each stage's latest checkpoint (a ``Checkpoint`` or ``fastread`` row)."""
    stages = []
    for name in PIPELINE_STAGES:
        cp = latest.get(name)
        stages.append(
            StageDetail(
                stage=name,
                # A superseded attempt (retry --from-stage) runs again: the stage is waiting.
                state="waiting" if cp is None or cp.status == "superseded" else cp.status,
                attempt=cp.attempt if cp else None,
                started_at=iso(cp.started_at) if cp else None,
                finished_at=iso(cp.finished_at) if cp else None,
                duration_seconds=cp.duration_seconds if cp else None,
                cost=cp.cost if cp else 0.0,
                error=cp.error if cp else None,
            )
        )
    completed = [s.stage for s in stages if s.state == CheckpointStatus.COMPLETED.value]
    base = report.to_status(job, completed, publications)
    return JobDetailResponse(
        **base.model_dump(),
        config_path=job.config_path,
        profile=job.profile,
        total_cost=round(total_cost, 6),
        stages=stages,
        video_path=video[1] if video else None,
        video_id=video[0] if video else None,
    )


TRACEBACK_TAIL_LINES = 12


def _traceback_tail(trace: str) -> list[str]:
    """The last lines of a traceback, without the ``^^^^`` markers under each source line."""
    lines = [line for line in trace.rstrip().splitlines() if line.strip(" ^~")]
    return lines[-TRACEBACK_TAIL_LINES:]


def job_logs(settings: Settings, job_id: int, after: int | None = None) -> JobLogResponse:
    """The job's runner events oldest first (only those after event id ``after``, if given);
    a failed attempt carries the tail of its traceback from the checkpoint."""
    from vidgen.store import events as event_rows

    check_job_id(job_id)
    if after is not None and not 0 <= after <= MAX_JOB_ID:
        raise InvalidInput(f"after must be an event id of 0 or more (got {after})")
    store = get_store(settings)
    job = _get_job(store, job_id)  # first: a terminal status read here has its event below
    rows = event_rows.events_for_job(store, job_id, after_id=after)
    traces: dict[tuple[str, int], str] = {}
    if any(row.kind == RunnerEvent.STAGE_FAILED for row in rows):
        traces = {
            (cp.stage, cp.attempt): cp.traceback
            for cp in checkpoints.for_job(store, job_id)
            if cp.traceback
        }
    items = []
    for row in rows:
        assert row.id is not None
        trace = None
        if row.kind == RunnerEvent.STAGE_FAILED:
            trace = traces.get((row.stage or "", row.attempt or 0))
        items.append(
            JobLogEvent(
                id=row.id,
                at=iso(row.at) or "",
                kind=row.kind,
                stage=row.stage,
                attempt=row.attempt,
                message=row.message,
                data=row.data or {},
                traceback_tail=_traceback_tail(trace) if trace else None,
            )
        )
    return JobLogResponse(job_id=job_id, status=job.status, events=items)
