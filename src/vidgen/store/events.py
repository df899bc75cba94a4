"""``Event`` rows: the named runner events of each job (``RunnerEvent``), in order.

The moves that are events record them in their own transaction (``jobs.claim`` ->
``job_claimed``, ``checkpoints.start`` -> ``stage_started``, ...: one write, not two, per step);
the others are recorded with ``record_event``. ``vidgen logs``, webhooks and the dashboard read
them (``events_for_job``, with ``after_id`` for following a running job).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from vidgen.store.engine import Store
from vidgen.store.models import Event, utcnow
from vidgen.store.status import RunnerEvent


def add(
    session: Session,
    job_id: int,
    kind: RunnerEvent,
    *,
    stage: str | None = None,
    attempt: int | None = None,
    message: str = "",
    data: dict[str, Any] | None = None,
) -> Event:
    """Append an event in the caller's transaction (it happens if, and only if, the move does)."""
    row = Event(
        job_id=job_id,
        at=utcnow(),
        kind=kind.value,
        stage=stage,
        attempt=attempt,
        message=message,
        data=dict(data or {}),
    )
    session.add(row)
    return row


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
    with store.write() as session:
        row = add(session, job_id, kind, stage=stage, attempt=attempt, message=message, data=data)
        session.flush()
        return row


def events_for_job(store: Store, job_id: int, after_id: int | None = None) -> list[Event]:
    """The job's events oldest first; only those with an id above ``after_id`` if given."""
    query = select(Event).where(Event.job_id == job_id)
    if after_id is not None:
        query = query.where(col(Event.id) > after_id)
    with store.read() as session:
        return list(session.exec(query.order_by(col(Event.id))).all())
