"""``Event`` rows: the named runner events of each job (``RunnerEvent``), in order.

The moves that are events record them in their own transaction (``jobs.claim`` ->
``job_claimed``, ``checkpoints.start`` -> ``stage_started``, ...: one write, not two, per step);
the others are recorded with ``record_event``. ``vidgen logs``, webhooks and the dashboard read
them (``events_for_job``, with ``after_id`` for following a running job).
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import func, insert
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from vidgen.clock import utcnow
from vidgen.statuses import RunnerEvent
from vidgen.store.engine import Store
from vidgen.store.models import Event, new_id, table

_INSERT = insert(table(Event))  # built once: see jobs._FENCE


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
    event_id = new_id(session.connection().execute(_INSERT, values))
    if job_id in _watches:  # handed to the job's Watch once the transaction commits
        session.info.setdefault(_PENDING, []).append(Event(id=event_id, **values))
    return event_id


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
        event_id = add(
            session, job_id, kind, stage=stage, attempt=attempt, message=message, data=data
        )
    return Event(id=event_id, **values)


def newest_id(store: Store, job_id: int) -> int | None:
    """The id of the job's latest event, None if it has none (one indexed lookup)."""
    with store.read() as session:
        value = session.exec(select(func.max(Event.id)).where(col(Event.job_id) == job_id)).one()
    return int(value) if value is not None else None


def events_for_job(store: Store, job_id: int, after_id: int | None = None) -> list[Event]:
    """The job's events oldest first; only those with an id above ``after_id`` if given."""
    query = select(Event).where(Event.job_id == job_id)
    if after_id is not None:
        query = query.where(col(Event.id) > after_id)
    with store.read() as session:
        return list(session.exec(query.order_by(col(Event.id))).all())


# -- this process's own events, without reading them back ----------------------------------

_PENDING = "vidgen.events"  # session.info key: the events a transaction added, until it ends
_watches: dict[int, Watch] = {}
_watches_lock = threading.Lock()


class Watch:
    """The events of one job that this process commits, as they commit (``watch``).

    ``take`` returns them only while they follow ``after_id`` without a gap; a gap means some
    other writer (another process's ``cancel``, a reaper) added an event in between, and the
    caller must read the job's events from the store instead to keep their order.
    """

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self._rows: list[Event] = []
        self._lock = threading.Lock()

    def _committed(self, rows: list[Event]) -> None:
        with self._lock:
            self._rows.extend(rows)

    def take(self, after_id: int | None) -> list[Event] | None:
        """The events committed since the last call, or None if they may not be all of them."""
        with self._lock:
            rows, self._rows = self._rows, []
        expected = after_id
        for row in rows:
            if expected is not None and row.id != expected + 1:
                return None
            expected = row.id
        return rows

    def close(self) -> None:
        with _watches_lock:
            if _watches.get(self.job_id) is self:
                del _watches[self.job_id]


def watch(job_id: int) -> Watch:
    """Start collecting the job's events committed by this process (until ``Watch.close``)."""
    found = Watch(job_id)
    with _watches_lock:
        _watches[job_id] = found
    return found


@sa_event.listens_for(OrmSession, "after_commit")
def _deliver(session: OrmSession) -> None:
    rows: list[Event] = session.info.pop(_PENDING, [])
    for row in rows:
        found = _watches.get(row.job_id)
        if found is not None:
            found._committed([row])


@sa_event.listens_for(OrmSession, "after_rollback")
def _discard(session: OrmSession) -> None:
    session.info.pop(_PENDING, None)
