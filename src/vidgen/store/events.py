"""``Event`` rows: the named runner events of each job (``RunnerEvent``), in order.

The moves that are events record them in their own transaction (``jobs.claim`` ->
``job_claimed``, ``checkpoints.start`` -> ``stage_started``, ...: one write, not two, per step);
the others are recorded with ``record_event``. ``vidgen logs``, webhooks and the dashboard read
them (``events_for_job``, with ``after_id`` for following a running job).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col, select

from vidgen.store.engine import Store
from vidgen.store.models import Event, utcnow
from vidgen.store.status import RunnerEvent


_INSERT = insert(Event.__table__)  # type: ignore[arg-type]  # built once: see leases._FENCE


def _values(
    job_id: int,
    kind: RunnerEvent,
    stage: str | None,
    attempt: int | None,
    message: str,
    data: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "at": utcnow(),
        "kind": kind.value,
        "stage": stage,
        "attempt": attempt,
        "message": message,
        "data": dict(data or {}),
    }


def add(
    session: Session,
    job_id: int,
    kind: RunnerEvent,
    *,
    stage: str | None = None,
    attempt: int | None = None,
    message: str = "",
    data: dict[str, Any] | None = None,
) -> int:
    """Append an event in the caller's transaction (it happens if, and only if, the move does);
    returns its id."""
    values = _values(job_id, kind, stage, attempt, message, data)
    result = session.connection().execute(_INSERT, values)
    return int(result.inserted_primary_key[0])


def record_event(
    store: Store,
    job_id: int,
    kind: RunnerEvent,
    *,
    stage: str | None = None,
    attempt: int | None = None,
    message: str = "",
    data: dict[str, Any] | None = None,
) -> Event:
    """Append one event to the job's history; returns the stored row."""
    values = _values(job_id, kind, stage, attempt, message, data)
    with store.write() as session:
        event_id = int(session.connection().execute(_INSERT, values).inserted_primary_key[0])
    return Event(id=event_id, **values)


def events_for_job(store: Store, job_id: int, after_id: int | None = None) -> list[Event]:
    """The job's events oldest first; only those with an id above ``after_id`` if given."""
    query = select(Event).where(Event.job_id == job_id)
    if after_id is not None:
        query = query.where(col(Event.id) > after_id)
    with store.read() as session:
        return list(session.exec(query.order_by(col(Event.id))).all())
