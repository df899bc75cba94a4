"""Claiming a job's lease and keeping it: the owner id and the heartbeat thread.

A running job belongs to one worker until ``lease_expires_at``; the heartbeat renews it every
``heartbeat_seconds`` -- and, when a renewal failed because the store was busy or away, again
after a fraction of a second, so a lease delayed by a busy store is renewed as soon as the store
answers. If the renewal finds the lease gone (another worker declared this one lost), it sets
``lost`` and cancels the running stage; the store refuses the runner's writes anyway (fencing,
``vidgen.store.leases``). Between
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

from vidgen.errors import VidgenError, one_line
from vidgen.settings import Settings
from vidgen.store import STORE_ERRORS, Store, jobs
from vidgen.store.leases import Lease

log = logging.getLogger("vidgen.runner")
CANCEL_POLL_SECONDS = 1.0  # how soon a running job sees `vidgen cancel`
RENEW_RETRY_SECONDS = 0.2  # after a failed renewal: the store may answer again any moment
# The id of the ``vidgen worker`` this process hosts, once it registered (``WorkerHost``).
_worker_id: str | None = None


def new_owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def set_worker_id(worker_id: str | None) -> None:
    """This process hosts the worker ``worker_id``: its runs own their jobs under that id."""
    global _worker_id
    _worker_id = worker_id


def runner_owner() -> str:
    """The lease owner for a run in this process: the worker's id in a ``vidgen worker`` (the
    reaper then judges the job by that worker's beat), a fresh id anywhere else."""
    return _worker_id or new_owner_id()


class Heartbeat(threading.Thread):
    """Renews the job's lease; if it is lost, cancels the running stage."""

    def __init__(self, store: Store, lease: Lease, settings: Settings) -> None:
        super().__init__(name=f"vidgen-heartbeat-{lease.job_id}", daemon=True)
        self.store, self.lease, self.settings = store, lease, settings
        self.job_id = lease.job_id
        self.stop_event = threading.Event()
        self.lost = threading.Event()
        self.cancelled = threading.Event()
        self.cancel_targets: list[threading.Event] = []

    def _cancel_seen(self) -> None:
        """Poll the job row for a cancel request; on one, cancel the running stage."""
        try:
            wanted = jobs.cancel_requested(self.store, self.job_id)
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
        warned = 0.0  # when the last "renewal failed" line was logged (one per interval)
        wait = poll
        while not self.stop_event.wait(wait):
            wait = max(0.01, min(poll, next_renewal - time.monotonic()))
            if not self.cancelled.is_set():
                # Renewals go on after a cancel: the stage may take a while to wind down and
                # the runner still records the move to cancelled under this lease.
                self._cancel_seen()
            if time.monotonic() < next_renewal:
                continue
            try:
                held = jobs.renew_lease(self.store, self.lease, self.settings.lease_seconds)
            except Exception as exc:  # a busy store must not kill the heartbeat; retry soon
                next_renewal = time.monotonic() + min(RENEW_RETRY_SECONDS, interval)
                wait = min(wait, RENEW_RETRY_SECONDS)
                # Expected (busy or unreachable store): one line, no traceback.
                busy = isinstance(exc, (VidgenError, *STORE_ERRORS))
                if not busy or time.monotonic() - warned >= interval:
                    warned = time.monotonic()
                    log.warning(
                        "job %s: lease renewal failed (%s); will retry",
                        self.job_id,
                        one_line(exc),
                        exc_info=not busy,
                    )
                continue
            next_renewal = time.monotonic() + interval
            wait = max(0.01, min(poll, interval))
            if not held:
                self.lost.set()
                for event in self.cancel_targets:
                    event.set()
                return


class Reaper:
    """Fails the jobs of owners that died (``store.beats.reap_expired_leases``), but never
    right after the store kept this process waiting.

    A store that stayed locked (a long transaction elsewhere, a backup) stops every owner from
    renewing its lease: leases run out although nobody died. So after this process saw the
    store slow or failing -- a write lock it waited ``patience`` seconds for, an error -- it
    reaps nothing for ``grace`` seconds, time enough for every live owner to renew (their
    heartbeats retry within a fraction of a second) and beat again.
    """

    def __init__(self, store: Store, settings: Settings, worker_id: str | None = None) -> None:
        self.store, self.worker_id = store, worker_id
        self.patience = settings.worker_beat_seconds
        self.grace = settings.heartbeat_seconds + 2 * settings.worker_beat_seconds
        self._trouble_at = -float("inf")
        self._troubled = False  # a write failed and none succeeded since

    def trouble(self) -> None:
        """The store was slow or failing just now."""
        self._trouble_at = time.monotonic()
        self._troubled = True

    def waited(self, seconds: float) -> None:
        """A write succeeded after ``seconds``: longer than ``patience`` means the store was
        busy. The first success after a failure restarts the grace: the owners' chance to
        renew begins when the store answers again, not when it last refused."""
        if seconds > self.patience or self._troubled:
            self.trouble()
        self._troubled = False

    def reap(self) -> list[int]:
        """The ids of the jobs failed now (none during the grace after trouble)."""
        if time.monotonic() - self._trouble_at < self.grace:
            return []
        from vidgen.store import beats

        try:
            return beats.reap_expired_leases(
                self.store, reaper=self.worker_id, patience=self.patience, on_stall=self.trouble
            )
        except Exception:
            self.trouble()
            raise
