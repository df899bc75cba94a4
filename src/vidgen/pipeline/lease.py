"""Claiming a job's lease and keeping it: the owner id and the heartbeat thread.

A running job belongs to one worker until ``lease_expires_at``; the heartbeat renews it every
``heartbeat_seconds``. If the renewal finds the lease gone (another worker declared this one
lost), it sets ``lost`` and cancels the running stage, so this runner stops writing.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid

from vidgen.errors import VidgenError
from vidgen.settings import Settings
from vidgen.store import STORE_ERRORS, Store
from vidgen.store import jobs as job_rows

log = logging.getLogger("vidgen.runner")


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
        self.cancel_targets: list[threading.Event] = []

    def run(self) -> None:
        while not self.stop_event.wait(self.settings.heartbeat_seconds):
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
