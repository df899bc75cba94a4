"""The one place that changes ``job.status``.

Every allowed move has a named handler (``claim``, ``complete``, ``fail``, ``requeue``,
``retry``); each is a single conditional UPDATE (``... WHERE status IN (allowed sources)``), so a
move either happens exactly once or is refused, even with many processes racing for it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from vidgen.errors import NotFound, Refused
from vidgen.models import Job, JobStatus, utcnow

P, R, C, F = JobStatus.PENDING, JobStatus.RUNNING, JobStatus.COMPLETED, JobStatus.FAILED

# target status -> statuses a job may move from
ALLOWED_MOVES: dict[JobStatus, frozenset[JobStatus]] = {
    R: frozenset({P}),  # claim: a worker takes a queued job
    C: frozenset({R}),  # complete: every stage done
    F: frozenset({R}),  # fail: attempts spent, fatal error, or lease expired
    P: frozenset({R, F}),  # requeue after a clean shutdown, or retry of a failed job
}


def transition(
    session: Session,
    job_id: int,
    target: JobStatus,
    *,
    sources: frozenset[JobStatus] | None = None,
    where: Any = None,
    **fields: Any,
) -> Job:
    """Move job ``job_id`` to ``target`` and set ``fields``, in the caller's transaction.

    ``sources`` narrows the allowed source statuses; ``where`` adds an extra SQL condition (the
    lease checks use it). Raises NotFound for an unknown job, Refused when the move is not allowed
    from the job's current status.
    """
    allowed = ALLOWED_MOVES[target] if sources is None else sources & ALLOWED_MOVES[target]
    stmt = (
        update(Job)
        .where(col(Job.id) == job_id, col(Job.status).in_([s.value for s in allowed]))
        .values(status=target.value, updated_at=utcnow(), **fields)
    )
    if where is not None:
        stmt = stmt.where(where)
    result = session.execute(stmt)
    job = session.get(Job, job_id, populate_existing=True)
    if job is None:
        raise NotFound(f"Job {job_id} not found")
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Refused(f"Cannot move job {job_id} from '{job.status}' to '{target.value}'")
    return job


def claim(session: Session, job_id: int, owner: str, lease_seconds: float) -> Job:
    """pending -> running, taking a lease for ``owner``."""
    return transition(
        session,
        job_id,
        R,
        lease_owner=owner,
        lease_expires_at=utcnow() + timedelta(seconds=lease_seconds),
        error_message=None,
    )


def complete(session: Session, job_id: int, owner: str) -> Job:
    return transition(
        session,
        job_id,
        C,
        where=col(Job.lease_owner) == owner,
        stage="completed",
        lease_owner=None,
        lease_expires_at=None,
    )


def fail(session: Session, job_id: int, stage: str, message: str, owner: str | None) -> Job:
    """running -> failed; with ``owner`` only while that worker still holds the lease."""
    where = col(Job.lease_owner) == owner if owner is not None else None
    return transition(
        session,
        job_id,
        F,
        where=where,
        stage=stage,
        error_message=message,
        lease_owner=None,
        lease_expires_at=None,
    )


def fail_if_lease_expired(
    session: Session, job_id: int, stage: str, now: datetime, message: str | None = None
) -> Job:
    """running -> failed for a job whose worker stopped renewing its lease."""
    return transition(
        session,
        job_id,
        F,
        where=col(Job.lease_expires_at) < now,
        stage=stage,
        error_message=message or f"worker lost during {stage}",
        lease_owner=None,
        lease_expires_at=None,
    )


def requeue(session: Session, job_id: int, owner: str, task_id: str | None) -> Job:
    """running -> pending, when a worker shuts down cleanly in the middle of a job."""
    return transition(
        session,
        job_id,
        P,
        sources=frozenset({R}),
        where=col(Job.lease_owner) == owner,
        lease_owner=None,
        lease_expires_at=None,
        task_id=task_id,
    )


def retry(session: Session, job_id: int) -> Job:
    """failed -> pending, refused with the contract's message for any other status."""
    try:
        return transition(session, job_id, P, sources=frozenset({F}), error_message=None)
    except Refused:
        job = session.get(Job, job_id)
        status = job.status if job is not None else "unknown"
        raise Refused(
            f"Cannot retry job with status '{status}'. Only 'failed' jobs can be retried."
        ) from None


def renew_lease(session: Session, job_id: int, owner: str, lease_seconds: float) -> bool:
    """Extend a running job's lease; False if this worker no longer holds it. Not a status move."""
    result = session.execute(
        update(Job)
        .where(
            col(Job.id) == job_id,
            col(Job.status) == R.value,
            col(Job.lease_owner) == owner,
        )
        .values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
