"""Quiet outages: one log line per retry while a server (queue, store) is unreachable.

A worker polls its queue about once a second and writes to its store every beat. While Redis
or a database server is down, logging each failure with a traceback buried the log (a full
traceback a second). An ``Outage`` turns that into one line per retry that says how long the
next wait is, with exponential backoff, and one line when the server answers again.
"""

from __future__ import annotations

import logging
import threading
import time

from vidgen.errors import one_line

FIRST_WAIT = 1.0
MAX_WAIT = 30.0


class Outage:
    """Shared by every thread that talks to one server; thread-safe."""

    def __init__(
        self, what: str, log: logging.Logger, first: float = FIRST_WAIT, cap: float = MAX_WAIT
    ) -> None:
        self.what, self.log, self.first, self.cap = what, log, first, cap
        self._lock = threading.Lock()
        self.since: float | None = None
        self._wait = first
        self._next_try = 0.0

    @property
    def active(self) -> bool:
        return self.since is not None

    def failed(self, exc: BaseException) -> float:
        """Record a failure; returns how long the caller should wait before trying again.

        Only the caller whose retry was due logs (one line with the wait); other threads
        failing meanwhile wait for the same moment silently.
        """
        with self._lock:
            now = time.monotonic()
            if self.since is None:
                self.since, self._wait, self._next_try = now, self.first, now
            if now < self._next_try:
                return self._next_try - now
            wait = self._wait
            reason = one_line(exc, limit=300)
            self.log.warning("%s is unreachable (%s); retrying in %g s", self.what, reason, wait)
            self._next_try = now + wait
            self._wait = min(self.cap, self._wait * 2)
            return wait

    def recovered(self) -> None:
        if self.since is None:  # the common case: no lock taken
            return
        with self._lock:
            if self.since is None:
                return
            took = time.monotonic() - self.since
            self.since = None
            self.log.warning("%s is reachable again (after %.0f s)", self.what, took)


_outages: dict[str, Outage] = {}
_registry_lock = threading.Lock()


def outage_for(what: str, log: logging.Logger) -> Outage:
    """The one ``Outage`` of this process for ``what`` (e.g. "the job store sqlite:///…"),
    so the worker's beat and its job runners back off and report together."""
    with _registry_lock:
        found = _outages.get(what)
        if found is None:
            found = _outages[what] = Outage(what, log)
        return found
