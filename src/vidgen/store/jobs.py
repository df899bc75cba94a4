"""``Job`` rows: the one module that writes them, ``job.status`` included.

Every allowed move has a named handler (``claim``, ``complete``, ``fail``, ``requeue``,
``retry``, ``put_back``, ``cancel``, ``finish_cancel``); each is a single conditional UPDATE
(``... WHERE status IN (allowed sources)``), so a move either happens exactly once or is
refused, even with many processes racing for it.
Each move opens its own write transaction; the few ``session``-level functions
(``fail_if_lease_expired``, ``set_stage``, ``touch``, ``complete_in``) run inside another store
module's transaction so that two tables change together.

The moves a runner makes (``complete``, ``fail``, ``requeue``, ``finish_cancel``, ``set_stage``,
``renew_lease``) take the ``Lease`` its ``claim`` returned and hold it in the same transaction
(``vidgen.store.leases``): a runner that lost its job gets ``LeaseLost`` and changes nothing.
Whenever a job leaves ``running``, its attempts still marked running are closed in that same
transaction, so no checkpoint stays ``running`` for a job that is not.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import bindparam, func, update
from sqlalchemy import delete as sql_delete
from sqlmodel import Session, col, select

from vidgen.clock import utcnow
from vidgen.errors import LeaseLost, NotFound, Refused
from vidgen.statuses import TERMINAL_JOB_STATUSES, RunnerEvent
from vidgen.store import events
from vidgen.store.engine import Store
from vidgen.store.leases import Lease, held, hold
from vidgen.store.models import (
    Checkpoint,
    CheckpointStatus,
    Event,
    Job,
    JobStatus,
    table,
)

T = TypeVar("T")

# target status -> statuses a job may move from
ALLOWED_MOVES: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.RUNNING: frozenset({JobStatus.PENDING}),  # claim: a worker takes a queued job
    JobStatus.COMPLETED: frozenset({JobStatus.RUNNING}),  # complete: every stage done
    # fail: attempts spent, fatal error, or lease expired; put_back: a retry the queue refused
    JobStatus.FAILED: frozenset({JobStatus.RUNNING, JobStatus.PENDING}),
    # requeue after a clean shutdown, retry of a failed job, retry --from-stage of a completed
    # or cancelled one
    JobStatus.PENDING: frozenset(
        {JobStatus.RUNNING, JobStatus.FAILED, JobStatus.COMPLETED, JobStatus.CANCELLED}
    ),
    # cancel: a pending job at once, a running one by its worker
    JobStatus.CANCELLED: frozenset({JobStatus.PENDING, JobStatus.RUNNING}),
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
    # On the connection: the ORM's UPDATE path would also sync the session, which the re-read
    # below does anyway, and costs more than the statement.
    result = session.connection().execute(stmt)
    job = session.get(Job, job_id, populate_existing=True)
    if job is None:
        raise NotFound(f"Job {job_id} not found")
    if result.rowcount != 1:
        raise Refused(f"Cannot move job {job_id} from '{job.status}' to '{target.value}'")
    if target != JobStatus.RUNNING:
        _close_running_attempts(session, job_id, job.error_message or f"job {target.value}")
    return job


def _close_running_attempts(session: Session, job_id: int, error: str) -> None:
    """Every still-running attempt of the job becomes failed with ``error``: the job is leaving
    ``running``, in the move's transaction. The one checkpoint write outside
    ``store.checkpoints``: it belongs to the job's move (checkpoints imports this module)."""
    session.connection().execute(
        update(Checkpoint)
        .where(
            col(Checkpoint.job_id) == job_id,
            col(Checkpoint.status) == CheckpointStatus.RUNNING.value,
        )
        .values(status=CheckpointStatus.FAILED.value, finished_at=utcnow(), error=error)
    )


def claim(store: Store, job_id: int, owner: str, lease_seconds: float) -> tuple[Job, Lease]:
    """pending -> running, taking a lease for ``owner`` at the next epoch; records
    ``job_claimed``. Returns the job and the ``Lease`` every later write of this run holds."""
    expires = store.now() + timedelta(seconds=lease_seconds)  # the store's clock, not ours
    with store.write() as session:
        job = transition(
            session,
            job_id,
            JobStatus.RUNNING,
            lease_owner=owner,
            lease_expires_at=expires,
            lease_epoch=func.coalesce(col(Job.lease_epoch), 0) + 1,
            error_message=None,
        )
        events.add(session, job_id, RunnerEvent.JOB_CLAIMED, message=f"claimed by {owner}")
        return job, Lease(job_id, owner, job.lease_epoch)


def _end(session: Session, lease: Lease, target: JobStatus, **fields: Any) -> Job:
    """running -> ``target`` for the runner holding ``lease`` (LeaseLost if it does not)."""
    try:
        return transition(
            session,
            lease.job_id,
            target,
            sources=frozenset({JobStatus.RUNNING}),
            where=held(lease),
            lease_owner=None,
            lease_expires_at=None,
            **fields,
        )
    except Refused:
        hold(session, lease)  # the lease is gone: LeaseLost says so (nothing was changed)
        raise


def complete_in(session: Session, lease: Lease) -> Job:
    """running -> completed in the caller's transaction (the one that completes the last
    checkpoint); records ``job_completed``."""
    job = _end(session, lease, JobStatus.COMPLETED, stage="completed")
    events.add(session, lease.job_id, RunnerEvent.JOB_COMPLETED)
    return job


def complete(store: Store, lease: Lease) -> Job:
    """running -> completed while ``lease`` is held; records ``job_completed``."""
    with store.write() as session:
        return complete_in(session, lease)


def fail(store: Store, lease: Lease, stage: str, message: str) -> Job:
    """running -> failed by the runner holding ``lease``; records ``job_failed`` with the stage
    and message."""
    with store.write() as session:
        job = _end(session, lease, JobStatus.FAILED, stage=stage, error_message=message)
        events.add(session, lease.job_id, RunnerEvent.JOB_FAILED, stage=stage, message=message)
        return job


def fail_if_lease_expired(
    session: Session,
    job_id: int,
    stage: str,
    now: datetime,
    message: str | None = None,
    *,
    epoch: int | None = None,
) -> Job:
    """running -> failed for a job whose worker stopped renewing its lease (``job_failed``);
    with ``epoch``, only if no claim happened since the reaper looked."""
    message = message or f"worker lost during {stage}"
    where = col(Job.lease_expires_at) < now
    if epoch is not None:
        where = where & (col(Job.lease_epoch) == epoch)
    job = transition(
        session,
        job_id,
        JobStatus.FAILED,
        sources=frozenset({JobStatus.RUNNING}),
        where=where,
        stage=stage,
        error_message=message,
        lease_owner=None,
        lease_expires_at=None,
    )
    events.add(session, job_id, RunnerEvent.JOB_FAILED, stage=stage, message=message)
    return job


def requeue(store: Store, lease: Lease, task_id: str | None) -> Job:
    """running -> pending, when a worker shuts down cleanly in the middle of a job.

    Records ``job_requeued`` with the stage it was in."""
    with store.write() as session:
        job = _end(session, lease, JobStatus.PENDING, task_id=task_id)
        events.add(session, lease.job_id, RunnerEvent.JOB_REQUEUED, stage=job.stage)
        return job


def retry(store: Store, job_id: int) -> Job:
    """failed -> pending, refused with the contract's message for any other status."""
    with store.write() as session:
        return retry_in(session, job_id, from_stage=None)


def retry_in(session: Session, job_id: int, *, from_stage: str | None) -> Job:
    """failed -> pending in the caller's transaction; with ``from_stage`` also completed ->
    pending (``retry --from-stage``). Records ``job_retried``."""
    sources = (
        frozenset({JobStatus.FAILED})
        if from_stage is None
        else frozenset({JobStatus.FAILED, JobStatus.COMPLETED, JobStatus.CANCELLED})
    )
    fields: dict[str, Any] = {"error_message": None, "cancel_requested": None}
    if from_stage is not None:
        fields["stage"] = from_stage
    try:
        job = transition(session, job_id, JobStatus.PENDING, sources=sources, **fields)
    except Refused:
        found = session.get(Job, job_id)
        status = found.status if found is not None else "unknown"
        raise Refused(retry_refusal(status, from_stage) or "Cannot retry this job.") from None
    events.add(
        session, job_id, RunnerEvent.JOB_RETRIED, stage=from_stage, data={"from_stage": from_stage}
    )
    return job


def put_back(store: Store, job_id: int, error_message: str | None, reason: str) -> Job | None:
    """pending -> failed again, for a ``retry`` whose enqueue failed: only while the job is
    still pending and unclaimed (no worker took it meanwhile), restoring its error. Records
    ``retry_not_queued``. None if it was no longer pending (a worker queued and claimed it)."""
    with store.write() as session:
        try:
            job = transition(
                session,
                job_id,
                JobStatus.FAILED,
                sources=frozenset({JobStatus.PENDING}),
                where=col(Job.lease_owner).is_(None),
                error_message=error_message,
            )
        except Refused:
            return None
        events.add(session, job_id, RunnerEvent.RETRY_NOT_QUEUED, stage=job.stage, message=reason)
        return job


def retry_refusal(status: str, from_stage: str | None) -> str | None:
    """Why a job with ``status`` cannot be retried (the contract's words), or None if it can."""
    allowed = (
        (JobStatus.FAILED,)
        if from_stage is None
        else (JobStatus.FAILED, JobStatus.COMPLETED, JobStatus.CANCELLED)
    )
    if status in allowed:
        return None
    also = "" if from_stage is None else " (and 'completed' or 'cancelled' ones with --from-stage)"
    refusal = f"Cannot retry job with status '{status}'. Only 'failed' jobs can be retried{also}."
    if (
        status in (JobStatus.COMPLETED, JobStatus.CANCELLED) and from_stage is None
    ):  # its finished stages can still be reused
        refusal += " To run it again, name a stage: --from-stage STAGE."
    return refusal


def cancel(store: Store, job_id: int) -> Job:
    """``vidgen cancel``: pending -> cancelled at once (``job_cancelled``); for a running job,
    set ``cancel_requested`` (``cancel_requested``) and its worker stops it within seconds.

    Refused, with a one-line reason, for a job that already ended."""
    with store.write() as session:
        try:
            job = transition(
                session, job_id, JobStatus.CANCELLED, sources=frozenset({JobStatus.PENDING})
            )
        except Refused:
            pass
        else:
            events.add(session, job_id, RunnerEvent.JOB_CANCELLED, message="before it started")
            return job
        result = session.execute(
            update(Job)
            .where(col(Job.id) == job_id, col(Job.status) == JobStatus.RUNNING.value)
            .values(cancel_requested=True, updated_at=utcnow())
        )
        found = session.get(Job, job_id, populate_existing=True)
        if found is None:
            raise NotFound(f"Job {job_id} not found")
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Refused(
                f"Cannot cancel job {job_id}: it is already {found.status}. "
                "Only 'pending' or 'running' jobs can be cancelled."
            )
        events.add(session, job_id, RunnerEvent.CANCEL_REQUESTED, stage=found.stage)
        return found


def cancel_requested(store: Store, job_id: int) -> bool:
    """True once ``cancel`` asked the running job to stop (the heartbeat polls it)."""
    with store.read() as session:
        value = session.exec(select(Job.cancel_requested).where(Job.id == job_id)).first()
    return bool(value)


def finish_cancel(store: Store, lease: Lease, stage: str) -> Job:
    """running -> cancelled by the runner holding ``lease``, once it stopped the stage;
    records ``job_cancelled``."""
    with store.write() as session:
        job = _end(
            session,
            lease,
            JobStatus.CANCELLED,
            stage=stage,
            error_message=f"cancelled during {stage}",
        )
        events.add(session, lease.job_id, RunnerEvent.JOB_CANCELLED, stage=stage)
        return job


def renew_lease(store: Store, lease: Lease, lease_seconds: float) -> bool:
    """Extend a running job's lease; False if ``lease`` is no longer held. Not a status move."""
    expires = store.now() + timedelta(seconds=lease_seconds)  # the store's clock, not ours
    with store.write() as session:
        result = session.connection().execute(
            update(Job).where(held(lease)).values(lease_expires_at=expires)
        )
        return bool(result.rowcount == 1)


_JOB = table(Job).c
# Built once: the runner fences a write per stage step, and building the statement each time
# cost more than running it. The SET columns come from the parameters of each call.
_FENCE = update(table(Job)).where(
    _JOB.id == bindparam("fence_job"),
    _JOB.status == JobStatus.RUNNING.value,
    _JOB.lease_owner == bindparam("fence_owner"),
    _JOB.lease_epoch == bindparam("fence_epoch"),
)


def _fence(session: Session, lease: Lease, **values: Any) -> None:
    """Set ``values`` (and ``updated_at``) on the job while ``lease`` is held, else raise
    ``LeaseLost`` with nothing changed (the fence of ``vidgen.store.leases``); first in the
    write transaction it guards.

    One statement, the check and the write together: on PostgreSQL the UPDATE takes the row
    lock (a reaper's UPDATE waits for this transaction, or this one re-checks the row a
    reaper committed), on SQLite the write transaction already excludes every other writer.
    """
    params = {
        "fence_job": lease.job_id,
        "fence_owner": lease.owner,
        "fence_epoch": lease.epoch,
        "updated_at": utcnow(),
        **values,
    }
    result = session.connection().execute(_FENCE, params)
    if result.rowcount != 1:
        hold(session, lease)  # says why: LeaseLost (status, epoch) or NotFound
        raise LeaseLost(f"job {lease.job_id} is no longer this runner's; stopping without writing")


def set_stage(session: Session, lease: Lease, stage: str) -> None:
    """The stage a running job is in, while ``lease`` is held (LeaseLost if it is not).
    Not a status move."""
    _fence(session, lease, stage=stage)


def touch(session: Session, lease: Lease) -> None:
    """Mark the job as changed now (an attempt of it ended), while ``lease`` is held."""
    _fence(session, lease)


# -- store-level: each opens its own transaction ---------------------------------------------


def _insert(session: Session, theme: str, config_path: str, profile: str | None) -> int:
    job = Job(theme=theme, config_path=config_path, profile=profile)
    session.add(job)
    session.flush()
    assert job.id is not None
    return job.id


def create(store: Store, theme: str, config_path: str, profile: str | None = None) -> int:
    """Record a new pending job (stage ``initialization``); returns its id."""
    with store.write() as session:
        return _insert(session, theme, config_path, profile)


def create_many(store: Store, jobs: list[tuple[str, str, str | None]]) -> list[int]:
    """Record several pending jobs, (theme, config_path, profile) each, in one transaction."""
    with store.write() as session:
        return [_insert(session, *job) for job in jobs]


def create_unless_active(
    store: Store, theme: str, config_path: str, profile: str | None = None
) -> tuple[int, Job | None]:
    """``(new id, None)``, or ``(0, the job)`` when a pending or running job for this theme and
    config file exists: the check and the insert are one write transaction (the overlap guard)."""
    with store.write() as session:
        existing = session.exec(
            select(Job)
            .where(
                Job.theme == theme,
                Job.config_path == config_path,
                col(Job.status).in_([JobStatus.PENDING.value, JobStatus.RUNNING.value]),
            )
            .order_by(col(Job.id).desc())
            .limit(1)
        ).first()
        if existing is not None:
            return 0, existing
        return _insert(session, theme, config_path, profile), None


def delete_if_pending(store: Store, job_id: int) -> bool:
    """Remove a job ``generate`` recorded but could not enqueue, unless a worker already took
    it (it is no longer pending): then it stays and runs. True if it was removed."""
    with store.write() as session:
        job = session.get(Job, job_id, populate_existing=True)
        if job is None:
            return True
        if job.status != JobStatus.PENDING.value or job.lease_owner is not None:
            return False
        session.execute(sql_delete(Event).where(col(Event.job_id) == job_id))
        session.execute(sql_delete(Checkpoint).where(col(Checkpoint.job_id) == job_id))
        session.execute(sql_delete(Job).where(col(Job.id) == job_id))
        return True


def count(store: Store, status: str | None) -> int:
    """All jobs (with ``status``, if given): ``total`` beside a page's ``count``."""
    query = select(func.count()).select_from(Job)
    if status is not None:
        query = query.where(Job.status == status)
    with store.read() as session:
        return int(session.exec(query).one())


def ended_among(store: Store, job_ids: list[int], before: datetime) -> list[int]:
    """Of ``job_ids``, those that ended (completed, failed, cancelled) before ``before``."""
    found: list[int] = []
    for start in range(0, len(job_ids), 500):
        chunk = job_ids[start : start + 500]
        with store.read() as session:
            rows = session.exec(
                select(Job.id).where(
                    col(Job.id).in_(chunk),
                    col(Job.status).in_([s.value for s in TERMINAL_JOB_STATUSES]),
                    col(Job.updated_at) < before,
                )
            ).all()
        found.extend(job_id for job_id in rows if job_id is not None)
    return sorted(found)


def set_task_id(store: Store, job_id: int, task_id: str | None) -> None:
    with store.write() as session:
        session.connection().execute(
            update(Job).where(col(Job.id) == job_id).values(task_id=task_id)
        )


def get(store: Store, job_id: int) -> Job | None:
    with store.read() as session:
        return session.get(Job, job_id)


def change_marker(store: Store, job_id: int) -> tuple[datetime, int] | None:
    """(``updated_at``, newest event id) of the job, None if unknown: one cheap query that
    changes whenever the job moves or one of its stages starts, ends or backs off (each of
    those records an event), so a follower re-reads the whole job only when this changes."""
    newest_event = select(func.max(Event.id)).where(col(Event.job_id) == job_id).scalar_subquery()
    with store.read() as session:
        row = session.exec(select(Job.updated_at, newest_event).where(Job.id == job_id)).first()
    if row is None:
        return None
    return row[0], int(row[1] or 0)


def newest(store: Store, status: str | None, limit: int, offset: int) -> list[Job]:
    """Jobs newest first (ties: higher id first), optionally only those with ``status``."""
    query = select(Job)
    if status is not None:
        query = query.where(Job.status == status)
    query = (
        query.order_by(col(Job.created_at).desc(), col(Job.id).desc()).offset(offset).limit(limit)
    )
    with store.read() as session:
        return list(session.exec(query).all())


def pending_ids(store: Store) -> list[int]:
    """Ids of pending jobs, oldest first."""
    with store.read() as session:
        rows = session.exec(
            select(Job.id).where(Job.status == JobStatus.PENDING.value).order_by(col(Job.id))
        ).all()
    return [job_id for job_id in rows if job_id is not None]


def expired_leases(store: Store, now: datetime) -> list[tuple[int, str | None]]:
    """(id, stage) of running jobs whose lease ran out before ``now`` (``store.now()``)."""
    with store.read() as session:
        rows = session.exec(
            select(Job.id, Job.stage).where(
                Job.status == JobStatus.RUNNING.value, col(Job.lease_expires_at) < now
            )
        ).all()
    return [(job_id, stage) for job_id, stage in rows if job_id is not None]


def unless_running(store: Store, job_id: int, action: Callable[[], T]) -> T | None:
    """``action()`` while holding the store's write lock, unless the job is running: no worker
    can claim the job in between (cleaning up after a dead attempt must not race a live one)."""
    with store.write() as session:
        job = session.get(Job, job_id)
        if job is not None and job.status == JobStatus.RUNNING.value:
            return None
        return action()


def if_ended_before(
    store: Store, job_id: int, before: datetime, action: Callable[[], T]
) -> T | None:
    """``action()`` inside a write transaction that holds the job row (``FOR UPDATE`` on
    PostgreSQL, the write lock on SQLite), only if the job is still ended (completed, failed,
    cancelled) since before ``before``; None otherwise. Prune deletes a job's work files this
    way: a ``retry`` that moves the job back to pending waits for the delete, or the delete
    sees the job pending and leaves its files alone -- never a pending job without its files."""
    with store.write() as session:
        row = session.exec(
            select(Job.status, Job.updated_at).where(col(Job.id) == job_id).with_for_update()
        ).first()
        if row is None:
            return None
        status, updated_at = row
        if status not in {s.value for s in TERMINAL_JOB_STATUSES} or not updated_at < before:
            return None
        return action()


def pending_since(store: Store, before: datetime) -> list[int]:
    """Ids of jobs pending since before ``before`` (no move since), oldest first: the
    reconcile's candidates for a lost queue message."""
    with store.read() as session:
        rows = session.exec(
            select(Job.id)
            .where(Job.status == JobStatus.PENDING.value, col(Job.updated_at) < before)
            .order_by(col(Job.id))
        ).all()
    return [job_id for job_id in rows if job_id is not None]


def take_for_requeue(store: Store, job_id: int, before: datetime, by: str) -> bool:
    """Compare-and-set before a worker re-enqueues a pending job whose message is missing:
    true for exactly one caller while the job is still pending since before ``before``; it
    restarts the job's pending time (so other workers, and this one, leave it alone for the
    grace again) and records ``job_reenqueued``. Not a status move."""
    with store.write() as session:
        result = session.execute(
            update(Job)
            .where(
                col(Job.id) == job_id,
                col(Job.status) == JobStatus.PENDING.value,
                col(Job.lease_owner).is_(None),
                col(Job.updated_at) < before,
            )
            .values(updated_at=utcnow())
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        events.add(
            session,
            job_id,
            RunnerEvent.JOB_REENQUEUED,
            message=f"pending without a queue message; queued again by {by}",
        )
        return True
