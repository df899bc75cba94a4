"""Follow a job live until it ends: the display behind ``generate --wait`` and ``status --watch``.

With ``run_here`` and no live worker, the job runs in this process, so one command works on a
machine where nothing was started first; the queued message is then a no-op for a later worker
(claims are atomic). While following, expired leases are reaped, so a dead worker cannot make
this wait forever.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from vidgen.cli.output import console, render_json
from vidgen.schemas import JobDetailResponse

if TYPE_CHECKING:
    from vidgen.settings import Settings

POLL_SECONDS = 0.25
REAP_SECONDS = 5.0


def _reap_every(settings: Settings) -> float:
    """Look for a dead worker's job at once, then about as often as leases are renewed."""
    return min(REAP_SECONDS, settings.heartbeat_seconds)


TERMINAL = ("completed", "failed")


def _elapsed(detail: JobDetailResponse) -> dict[str, float]:
    now = datetime.now(UTC)
    return {
        stage.stage: (now - datetime.fromisoformat(stage.started_at)).total_seconds()
        for stage in detail.stages
        if stage.state == "running" and stage.started_at
    }


def _start_in_process(settings: Settings, job_id: int) -> threading.Thread:
    from vidgen.pipeline.queue import enqueue_job
    from vidgen.pipeline.runner import JobRunner

    runner = JobRunner(job_id, settings, requeue=lambda jid: enqueue_job(settings, jid))
    thread = threading.Thread(target=runner.run, name=f"vidgen-job-{job_id}", daemon=True)
    thread.start()
    return thread


def follow(settings: Settings, job_id: int, *, run_here: bool, as_json: bool) -> int:
    """Block until the job is completed (return 0) or failed (return 1)."""
    from vidgen import service
    from vidgen.pipeline.runner import SHUTDOWN, live_workers, reap_expired_leases
    from vidgen.store import get_store

    store = get_store(settings)
    worker_thread: threading.Thread | None = None
    if run_here and live_workers(store, within=max(10.0, settings.lease_seconds)) == 0:
        if not as_json:
            console().print("[dim]No worker is running; running the job in this process.[/]")
        worker_thread = _start_in_process(settings, job_id)

    out = console()
    detail = service.job_detail(settings, job_id)
    last_reap = 0.0
    try:
        if as_json or not out.is_terminal:
            detail = _poll_plain(settings, job_id, worker_thread, quiet=as_json)
        else:
            from rich.live import Live

            from vidgen.cli.status import job_panel

            with Live(job_panel(detail), console=out, refresh_per_second=8) as live:
                while True:
                    detail = service.job_detail(settings, job_id)
                    live.update(job_panel(detail, _elapsed(detail)))
                    if _finished(detail, worker_thread):
                        break
                    if worker_thread is None and time.monotonic() - last_reap > _reap_every(
                        settings
                    ):
                        reap_expired_leases(store)
                        last_reap = time.monotonic()
                    time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        if worker_thread is not None:
            SHUTDOWN.set()  # the runner cancels the stage and puts the job back in the queue
            worker_thread.join(30)
        out.print(f"[yellow]Stopped following job {job_id}.[/]")
        return 130
    if as_json and not run_here:
        print(render_json(service.job_status(settings, job_id)))
    return 0 if detail.status == "completed" else 1


def _finished(detail: JobDetailResponse, worker_thread: threading.Thread | None) -> bool:
    if worker_thread is not None:
        # Running here: the job can be briefly pending again (requeued), so wait for the thread.
        return not worker_thread.is_alive() and detail.status in (*TERMINAL, "pending")
    return detail.status in TERMINAL


def _poll_plain(
    settings: Settings, job_id: int, worker_thread: threading.Thread | None, *, quiet: bool
) -> JobDetailResponse:
    """For pipes and logs (cron, CI): one line per stage change instead of a live panel."""
    from vidgen import service
    from vidgen.pipeline.runner import reap_expired_leases
    from vidgen.store import get_store

    seen: dict[str, str] = {}
    last_reap = 0.0
    while True:
        detail = service.job_detail(settings, job_id)
        for stage in detail.stages:
            key = f"{stage.state}:{stage.attempt}"
            if seen.get(stage.stage) != key and stage.state != "waiting":
                seen[stage.stage] = key
                if not quiet:
                    took = f" in {stage.duration_seconds:.1f}s" if stage.duration_seconds else ""
                    note = f": {stage.error}" if stage.error else ""
                    print(
                        f"job {job_id} {stage.stage} attempt {stage.attempt} "
                        f"{stage.state}{took}{note}",
                        flush=True,
                    )
        if _finished(detail, worker_thread):
            if not quiet:
                tail = f": {detail.error_message}" if detail.error_message else ""
                print(f"job {job_id} {detail.status}{tail}", flush=True)
                if detail.video_path:
                    print(f"video: {detail.video_path}", flush=True)
            return detail
        if worker_thread is None and time.monotonic() - last_reap > _reap_every(settings):
            reap_expired_leases(get_store(settings))
            last_reap = time.monotonic()
        time.sleep(POLL_SECONDS)
