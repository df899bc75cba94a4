"""``WorkerBeat`` rows (who is alive) and reaping the jobs of workers that are not.

A live ``vidgen worker`` beats every few seconds; ``live_count`` lets ``generate --wait``
decide whether to run a job here. A running job whose lease ran out lost its worker:
``reap_expired_leases`` fails it (and its running checkpoint) so nothing stays ``running`` forever.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import col, select

from vidgen.errors import Refused
from vidgen.store import checkpoints, jobs
from vidgen.store.engine import Store
from vidgen.store.models import WorkerBeat, utcnow


def beat(store: Store, worker_id: str, *, hostname: str, pid: int, queue: str) -> None:
    """Record that ``worker_id`` is alive now (creating its row on the first beat)."""
    with store.write() as session:
        row = session.get(WorkerBeat, worker_id)
        if row is None:
            row = WorkerBeat(id=worker_id, hostname=hostname, pid=pid, queue=queue)
        row.last_seen = utcnow()
        session.add(row)


def remove(store: Store, worker_id: str) -> None:
    with store.write() as session:
        session.execute(delete(WorkerBeat).where(col(WorkerBeat.id) == worker_id))


def live_count(store: Store, within: float, queue: str | None = None) -> int:
    """How many workers reported in during the last ``within`` seconds (on ``queue``, if given)."""
    since = utcnow() - timedelta(seconds=within)
    query = select(WorkerBeat.id).where(WorkerBeat.last_seen >= since)
    if queue is not None:
        query = query.where(WorkerBeat.queue == queue)
    with store.read() as session:
        return len(session.exec(query).all())


def reap_expired_leases(store: Store) -> list[int]:
    """Fail every running job whose lease ran out (its worker died); returns their ids."""
    now = utcnow()
    failed: list[int] = []
    for job_id, stage in jobs.expired_leases(store, now):
        stage = stage or "initialization"
        message = f"worker lost during {stage}"
        if stage == "initialization":  # killed after its claim, before its first checkpoint
            message += ", before its first stage"
        try:
            with store.write() as session:
                jobs.fail_if_lease_expired(session, job_id, stage, now, message)
                checkpoints.fail_running(session, job_id, now, message)
        except Refused:
            continue  # renewed or finished in the meantime
        failed.append(job_id)
    return failed
