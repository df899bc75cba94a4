"""The runner's named events, as a stream per job that in-process listeners can follow.

The store records each event (``vidgen.store.events``): the moves that are events (claim,
stage start/fail/complete, job complete/fail/requeue) record theirs in the same transaction,
and ``JobEvents.record`` stores the rest (``stage_skipped``, ``backoff``, ``lease_lost``).
Huey-style lifecycle hooks: ``subscribe(listener)`` and every stored event of every job run in
this process reaches ``listener(event_row)``, in order. A listener that raises is logged and
never changes the job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from vidgen.statuses import RunnerEvent
from vidgen.store import Store
from vidgen.store import events as event_rows
from vidgen.store.models import Event

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


class JobEvents:
    """One job's events in this process: records the explicit ones, hands new ones to listeners."""

    def __init__(self, store: Store, job_id: int) -> None:
        self.store = store
        self.job_id = job_id
        self.last_id: int | None = None
        self._watch: event_rows.Watch | None = None

    def begin(self) -> None:
        """Start following the job: listeners hear this run's events, not its earlier
        history. Reads the store (the newest event id), so the runner calls it where a store
        that is unreachable is handled -- before its claim -- never in a constructor."""
        if _listeners and self._watch is None:
            self.last_id = event_rows.newest_id(self.store, self.job_id)
            # This process's own events reach the listeners without being read back (reading
            # after every step was most of a short job's cost in the worker).
            self._watch = event_rows.watch(self.job_id)

    def record(
        self,
        kind: RunnerEvent,
        *,
        stage: str | None = None,
        attempt: int | None = None,
        message: str = "",
        data: dict[str, Any] | None = None,
    ) -> None:
        """Store an event that is not part of a move.

        An event is a record of what happened, not part of it: a store too busy to take it loses
        that one line, never the job.
        """
        try:
            event_rows.record_event(
                self.store,
                self.job_id,
                kind,
                stage=stage,
                attempt=attempt,
                message=message,
                data=data,
            )
        except Exception as exc:
            log.warning("job %s: could not record event %s (%s)", self.job_id, kind.value, exc)
            return
        self.notify()

    def notify(self) -> None:
        """Hand the events stored since the last call to the listeners (none: nothing read)."""
        if not _listeners:
            return
        rows = self._watch.take(self.last_id) if self._watch is not None else None
        if rows is None:  # someone else wrote one in between: the store has them in order
            try:
                rows = event_rows.events_for_job(self.store, self.job_id, after_id=self.last_id)
            except Exception as exc:
                log.warning("job %s: could not read its events (%s)", self.job_id, exc)
                return
        for row in rows:
            self.last_id = row.id
            for listener in list(_listeners):
                try:
                    listener(row)
                except Exception:
                    log.exception("job %s: event listener %r failed", self.job_id, listener)

    def close(self) -> None:
        """The run is over: stop collecting its events."""
        if self._watch is not None:
            self._watch.close()
