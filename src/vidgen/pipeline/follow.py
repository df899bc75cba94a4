"""The runtime side of following a job (``generate --wait``, ``status --watch``).

With ``run_here`` and no live worker, the job runs in this process, so one command works on a
machine where nothing was started first; the queued message is then a no-op for a later worker
(claims are atomic). While following a job someone else runs, expired leases are reaped, so a
dead worker cannot make the wait last forever. The CLI only renders what it polls.
"""

from __future__ import annotations

import threading
import time

from vidgen.pipeline.execute import SHUTDOWN
from vidgen.pipeline.heartbeat import Reaper
from vidgen.pipeline.queue import enqueue_job
from vidgen.pipeline.runner import JobRunner
from vidgen.settings import Settings
from vidgen.statuses import TERMINAL_JOB_STATUSES, JobStatus
from vidgen.store import beats, get_store

REAP_SECONDS = 5.0


class Following:
    """Runs the job here if nobody else will, and keeps a wait for a dead worker bounded."""

    def __init__(self, settings: Settings, job_id: int, *, run_here: bool) -> None:
        self.settings = settings
        self.job_id = job_id
        self.thread: threading.Thread | None = None
        self._last_reap = 0.0
        store = get_store(settings)
        self.reaper = Reaper(store, settings)
        if run_here and beats.live_count(store, within=max(10.0, settings.lease_seconds)) == 0:
            from vidgen.pipeline import webhook

            webhook.install(settings)  # before the runner: it hears this run's events only
            runner = JobRunner(job_id, settings, requeue=lambda jid: enqueue_job(settings, jid))
            self.thread = threading.Thread(
                target=runner.run, name=f"vidgen-job-{job_id}", daemon=True
            )

    @property
    def runs_here(self) -> bool:
        return self.thread is not None

    def start(self) -> None:
        if self.thread is not None:
            self.thread.start()

    def _reap_every(self) -> float:
        """Look for a dead worker's job at once, then about as often as leases are renewed."""
        return min(REAP_SECONDS, self.settings.heartbeat_seconds)

    def tick(self) -> None:
        """Between polls: reap expired leases now and then (only when another worker runs it)."""
        if self.thread is None and time.monotonic() - self._last_reap > self._reap_every():
            self.reaper.reap()
            self._last_reap = time.monotonic()

    def finished(self, status: str) -> bool:
        if self.thread is not None:
            # Running here: the job can be briefly pending again (requeued), so wait for the thread.
            return not self.thread.is_alive() and status in (
                *TERMINAL_JOB_STATUSES,
                JobStatus.PENDING,
            )
        return status in TERMINAL_JOB_STATUSES

    def interrupt(self) -> None:
        """Ctrl-C: a job running here is cancelled and put back in the queue."""
        if self.thread is not None:
            SHUTDOWN.set()  # the runner cancels the stage and puts the job back in the queue
            self.thread.join(30)
