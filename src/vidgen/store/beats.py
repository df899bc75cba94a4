"""``WorkerBeat`` rows (who is alive) and reaping the jobs of workers that are not.

A live ``vidgen worker`` beats every few seconds; ``live_count`` lets ``generate --wait``
decide whether to run a job here. A running job whose lease ran out may have lost its worker:
``reap_expired_leases`` fails it (and its running checkpoint) so nothing stays ``running``
forever -- but only when its owner looks dead too. A job run by a ``vidgen worker`` has that
worker's id as lease owner: while the worker's own beat is fresh the job is left alone (a store
that was merely busy let the lease run out, not a dead worker). An owner with no beat row (a
``generate --wait`` run in its own process, a worker that shut down) is judged by its lease.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, select

from vidgen.errors import Refused
from vidgen.store import jobs
from vidgen.store.engine import Store
from vidgen.store.models import Job, JobStatus, WorkerBeat

# An owner whose beat is older than this many beat intervals is taken for dead.
OWNER_STALE_BEATS = 3


def beat(store: Store, worker_id: str, *, hostname: str, pid: int, queue: str) -> None:
    """Record that ``worker_id`` is alive now (creating its row on the first beat), on the
    store's clock (``Store.now``), as every liveness and lease time is."""
    now = store.now()
    with store.write() as session:
        row = session.get(WorkerBeat, worker_id)
        if row is None:
            row = WorkerBeat(id=worker_id, hostname=hostname, pid=pid, queue=queue)
        row.last_seen = now
        session.add(row)


def remove(store: Store, worker_id: str) -> None:
    with store.write() as session:
        session.execute(delete(WorkerBeat).where(col(WorkerBeat.id) == worker_id))


def live_count(store: Store, within: float, queue: str | None = None) -> int:
    """How many workers reported in during the last ``within`` seconds (on ``queue``, if given)."""
    since = store.now() - timedelta(seconds=within)
    query = select(WorkerBeat.id).where(WorkerBeat.last_seen >= since)
    if queue is not None:
        query = query.where(WorkerBeat.queue == queue)
    with store.read() as session:
        return len(session.exec(query).all())


def reap_expired_leases(
    store: Store,
    *,
    reaper: str | None = None,
    patience: float | None = None,
    on_stall: Callable[[], None] | None = None,
) -> list[int]:
    """Fail every running job whose lease ran out and whose owner is not alive (or whose lease
    ran out more than a lease term ago: the run gave up); returns their ids. Each is checked
    again inside its own write transaction before it is failed.

    ``reaper``: the calling worker's id; a worker never reaps its own jobs (it knows they are
    alive). ``patience``: if taking the store's write lock took longer than this many seconds,
    the store was busy -- the owners were most likely waiting on it too and had no chance to
    renew -- so nothing more is reaped this time and ``on_stall()`` is called.
    """
    stale_after = OWNER_STALE_BEATS * store.settings.worker_beat_seconds
    lease_term = store.settings.lease_seconds
    failed: list[int] = []
    for job_id, _stage in jobs.expired_leases(store, store.now()):
        asked = time.monotonic()
        try:
            with store.write() as session:
                job = session.exec(
                    select(Job)
                    .where(col(Job.id) == job_id)
                    .with_for_update()
                    .execution_options(populate_existing=True)
                ).first()
                if patience is not None and time.monotonic() - asked > patience:
                    if on_stall is not None:
                        on_stall()
                    return failed
                now = store.now()
                expires = job.lease_expires_at if job is not None else None
                if job is None or job.status != JobStatus.RUNNING.value or expires is None:
                    continue  # finished in the meantime
                if expires >= now:
                    continue  # renewed in the meantime
                stage, owner, epoch = job.stage, job.lease_owner, job.lease_epoch
                if owner is not None and owner == reaper:
                    continue
                # A live owner renews as soon as the store lets it: a lease expired for more
                # than a whole lease term under a beating worker is a run that gave up.
                gone_for = (now - expires).total_seconds()
                if (
                    owner is not None
                    and gone_for < lease_term
                    and _alive(session, owner, now - timedelta(seconds=stale_after))
                ):
                    continue
                stage = stage or "initialization"
                message = f"worker lost during {stage}"
                if stage == "initialization":  # killed after its claim, before its first checkpoint
                    message += ", before its first stage"
                # Closes the job's running checkpoints in this transaction too.
                jobs.fail_if_lease_expired(session, job_id, stage, now, message, epoch=epoch)
        except Refused:
            continue  # renewed or finished in the meantime
        failed.append(job_id)
    return failed


def _alive(session: Session, owner: str, since: datetime) -> bool:
    """True if ``owner`` is a worker that beat since ``since`` (on the store's clock)."""
    beat = session.exec(select(WorkerBeat.last_seen).where(col(WorkerBeat.id) == owner)).first()
    return beat is not None and beat >= since
