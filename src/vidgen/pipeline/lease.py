"""Claiming a job's lease and keeping it: the owner id and the heartbeat thread.

A running job belongs to one worker until ``lease_expires_at``; the heartbeat renews it every
``heartbeat_seconds``. If the renewal finds the lease gone (another worker declared this one
lost), it sets ``lost`` and cancels the running stage, so this runner stops writing. Between
renewals it looks every second for a ``vidgen cancel`` on the job row (``cancel_requested``)
and, when it sees one, sets ``cancelled`` and cancels the stage the same way (ffmpeg and other
children are killed by the stage's cancel event).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid

from vidgen.errors import VidgenError
from vidgen.settings import Settings
from vidgen.store import STORE_ERRORS, Store
from vidgen.store import jobs as job_rows

log = logging.getLogger("vidgen.runner")
CANCEL_POLL_SECONDS = 1.0  # how soon a running job sees `vidgen cancel`


def new_owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def one_line(exc: BaseException) -> str:
    """An exception as one line for checkpoints, events and logs (at most 500 characters)."""
    orig = getattr(exc, "orig", None)  # a SQLAlchemy error: the driver's message says it all
    if isinstance(orig, Exception):
        exc = orig
    text = " ".join(str(exc).split()) or type(exc).__name__
    if not isinstance(exc, VidgenError | OSError):
        text = f"{type(exc).__name__}: {text}"
    return text[:500]


class Heartbeat(threading.Thread):
    """Renews the job's lease; if it is lost, cancels the running stage."""

    def __init__(self, store: Store, job_id: int, owner: str, settings: Settings) -> None:
        super().__init__(name=f"vidgen-heartbeat-{job_id}", daemon=True)
        self.store, self.job_id, self.owner, self.settings = store, job_id, owner, settings
        self.stop_event = threading.Event()
        self.lost = threading.Event()
        self.cancelled = threading.Event()
        self.cancel_targets: list[threading.Event] = []

    def _cancel_seen(self) -> None:
        """Poll the job row for a cancel request; on one, cancel the running stage."""
        try:
            wanted = job_rows.cancel_requested(self.store, self.job_id)
        except Exception:  # a busy store: look again next second
            return
        if wanted:
            self.cancelled.set()
            for event in self.cancel_targets:
                event.set()

    def run(self) -> None:
        interval = self.settings.heartbeat_seconds
        poll = min(CANCEL_POLL_SECONDS, interval)
        next_renewal = time.monotonic() + interval
        while not self.stop_event.wait(poll):
            if not self.cancelled.is_set():
                # Renewals go on after a cancel: the stage may take a while to wind down and
                # the runner still records the move to cancelled under this lease.
                self._cancel_seen()
            if time.monotonic() < next_renewal:
                continue
            next_renewal = time.monotonic() + interval
            try:
                held = job_rows.renew_lease(
                    self.store, self.job_id, self.owner, self.settings.lease_seconds
                )
            except Exception as exc:  # a busy store must not kill the heartbeat; try next beat
                # Expected (busy or unreachable store): one line, no traceback.
                busy = isinstance(exc, (VidgenError, *STORE_ERRORS))
                log.warning(
                    "job %s: lease renewal failed (%s); will retry",
                    self.job_id,
                    one_line(exc),
                    exc_info=not busy,
                )
                continue
            if not held:
                self.lost.set()
                for event in self.cancel_targets:
                    event.set()
                return
