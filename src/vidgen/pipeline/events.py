"""The runner's named events: recorded per job in the store, then handed to listeners.

Huey-style lifecycle hooks: ``subscribe(listener)`` and every ``RunnerEvent`` of every job in
this process reaches ``listener(event_row)`` after it is stored (``vidgen.store.events``). A
listener that raises is logged and never changes the job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from vidgen.store import Store
from vidgen.store import events as event_rows
from vidgen.store.models import Event
from vidgen.store.status import RunnerEvent

log = logging.getLogger("vidgen.runner")

Listener = Callable[[Event], None]
_listeners: list[Listener] = []


def subscribe(listener: Listener) -> Listener:
    """Call ``listener`` with every event recorded from now on (usable as a decorator)."""
    _listeners.append(listener)
    return listener


def unsubscribe(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def emit(
    store: Store,
    job_id: int,
    kind: RunnerEvent,
    *,
    stage: str | None = None,
    attempt: int | None = None,
    message: str = "",
    data: dict[str, Any] | None = None,
) -> Event | None:
    """Record the event and tell the listeners; None if the store refused it.

    An event is a record of what happened, not part of it: a store too busy to take it loses
    that one line, never the job.
    """
    try:
        row = event_rows.record_event(
            store, job_id, kind, stage=stage, attempt=attempt, message=message, data=data
        )
    except Exception as exc:
        log.warning("job %s: could not record event %s (%s)", job_id, kind.value, exc)
        return None
    for listener in list(_listeners):
        try:
            listener(row)
        except Exception:
            log.exception("job %s: event listener %r failed", job_id, listener)
    return row
