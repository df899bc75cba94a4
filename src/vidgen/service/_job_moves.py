"""Changing a job after it was queued: ``retry`` (with ``--from-stage`` and ``--dry-run``) and
``cancel``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from vidgen.errors import InvalidInput, Refused
from vidgen.schemas import (
    JobCancelResponse,
    JobRetryResponse,
)
from vidgen.service._checks import (
    _get_job,
    check_job_id,
)
from vidgen.service._handles import (
    checkpoints,
    get_store,
    jobs,
)
from vidgen.service._intake import (
    _not_queued,
    _reconcile_bound,
)
from vidgen.settings import Settings
from vidgen.stages import PIPELINE_STAGES
from vidgen.statuses import CheckpointStatus, JobStatus

if TYPE_CHECKING:
    from vidgen.store import Store
    from vidgen.store.models import Job


log = logging.getLogger("vidgen.service")


def check_stage(stage: str | None) -> str | None:
    if stage is not None and stage not in PIPELINE_STAGES:
        raise InvalidInput(f"unknown stage {stage!r}: use one of {', '.join(PIPELINE_STAGES)}")
    return stage


def _retry_plan(
    store: Store, settings: Settings, job_id: int, from_stage: str | None
) -> tuple[list[str], list[str], dict[str, list[str]], list[str]]:
    """(skipping, running, reused files per skipped stage, completed stages that run again
    because their files are gone or changed, e.g. after ``prune``).

    Skipped: the leading completed stages (before ``from_stage``, if given) whose files are
    intact, exactly as the runner decides (``pipeline.resume.reusable_outputs``); it runs
    everything from the first other stage on, reusing the skipped stages' recorded outputs.
    """
    from vidgen.pipeline.resume import files_intact

    latest = checkpoints.latest(store, job_id)
    job_dir = settings.jobs_dir / str(job_id)
    skipping: list[str] = []
    changed: list[str] = []
    for stage in PIPELINE_STAGES:
        cp = latest.get(stage)
        if stage == from_stage or cp is None or cp.status != CheckpointStatus.COMPLETED:
            break
        if not files_intact(job_dir, cp.files):
            changed.append(stage)
            break
        skipping.append(stage)
    reused = {stage: sorted(latest[stage].files) for stage in skipping}
    return skipping, list(PIPELINE_STAGES[len(skipping) :]), reused, changed


def retry(
    settings: Settings, job_id: int, from_stage: str | None = None, *, dry_run: bool = False
) -> JobRetryResponse:
    """failed -> pending and enqueue; completed stages are skipped when the job runs.

    ``from_stage``: re-run that stage and every later one, also for a completed job (its
    published video is replaced only when the new review stage files the new one).
    ``dry_run``: say what would run, be skipped and be reused, and change nothing.
    """
    from vidgen.pipeline.queue import enqueue_job

    check_job_id(job_id)
    check_stage(from_stage)
    store = get_store(settings)
    job = _get_job(store, job_id)
    if dry_run:
        refusal = jobs.retry_refusal(job.status, from_stage)
        if refusal is not None:
            raise Refused(refusal)
    skipping, running, reused, changed = _retry_plan(store, settings, job_id, from_stage)
    resume_from = running[0] if running else None
    extra = {
        "from_stage": from_stage,
        "running_stages": running,
        "reused_outputs": reused,
    }
    reuse = f"; reusing {', '.join(skipping)}" if skipping else ""
    if changed:
        reuse += (
            f"; {changed[0]} completed but its files are gone or changed (pruned?), "
            "so it runs again"
        )
    if dry_run:
        return JobRetryResponse(
            job_id=job_id,
            task_id="",
            status="dry_run",
            resume_from=resume_from,
            skipping_stages=skipping,
            message=f"Dry run: job {job_id} would run {', '.join(running)}{reuse}; "
            "nothing was changed",
            dry_run=True,
            **extra,
        )
    if from_stage is None:
        jobs.retry(store, job_id)
    else:
        checkpoints.retry_from(store, job_id, running)
    try:
        task_id = enqueue_job(settings, job_id)
    except Exception as exc:
        # Raises, saying what became of the job; returns only if a worker took it meanwhile.
        task_id = _retry_not_queued(store, job, from_stage, exc)
    else:
        jobs.set_task_id(store, job_id, task_id)
    skipped = f", skipping {len(skipping)} completed stage(s)" if skipping else ""
    return JobRetryResponse(
        job_id=job_id,
        task_id=task_id,
        resume_from=resume_from,
        skipping_stages=skipping,
        message=f"Job {job_id} queued for retry from {resume_from}{skipped}",
        **extra,
    )


def _retry_not_queued(store: Store, job: Job, from_stage: str | None, exc: Exception) -> str:
    """The queue refused a retry that the store already recorded (the job is pending).

    A plain retry is put back: the job is ``failed`` again with its error, as if the command
    had not run, and running it again is the fix. A ``--from-stage`` retry has already set
    its stages' checkpoints aside, which is not undone: the job stays pending and a running
    worker's reconcile queues it. Either way the error says which. Returns the task id only
    when a worker already queued and claimed the job meanwhile: then the retry happened.
    """
    assert job.id is not None
    job_id = job.id
    pending = (
        f"job {job_id} is pending: a running worker queues it within {_reconcile_bound()} s "
        f"of the queue being reachable (vidgen status {job_id})"
    )
    if from_stage is not None:
        _not_queued(exc, pending)
    why = " ".join(str(exc).split())
    try:
        put_back = jobs.put_back(store, job_id, job.error_message, f"not queued: {why}")
    except Exception as store_exc:  # the store went away too: the reconcile remains
        log.warning("job %s: could not put it back (%s)", job_id, store_exc)
        _not_queued(exc, pending)
    if put_back is None:
        found = jobs.get(store, job_id)
        return (found.task_id if found else None) or ""
    _not_queued(exc, f"job {job_id} is still {put_back.status}: run 'vidgen retry {job_id}' again")


def cancel_job(settings: Settings, job_id: int) -> JobCancelResponse:
    """``vidgen cancel``: a pending job is cancelled at once; a running one is asked to stop
    and its worker cancels it within seconds; an ended one is refused."""
    from vidgen.pipeline import webhook

    check_job_id(job_id)
    store = get_store(settings)
    job = jobs.cancel(store, job_id)
    if job.status == JobStatus.CANCELLED:
        webhook.send(settings, job_id)  # no runner will: the job never started
        message = f"Job {job_id} cancelled (it had not started)"
    else:
        message = (
            # Honest about the race: a job in its last step may complete before its worker
            # sees the request (the outcome is recorded either way, once).
            f"Job {job_id} is running ({job.stage}); cancel requested: its worker stops it "
            "within seconds unless it completes first. "
            f"Follow it: vidgen logs {job_id} --follow"
        )
    return JobCancelResponse(
        job_id=job_id,
        status=job.status,
        cancel_requested=job.status != JobStatus.CANCELLED,
        message=message,
    )
