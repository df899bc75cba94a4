"""Follow a job live until it ends: the display behind ``generate --wait`` and ``status --watch``.

Only rendering lives here; running the job in this process when no worker is alive and reaping a
dead worker's lease while waiting are ``vidgen.pipeline.follow`` (reached through the service).
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from vidgen.cli.output import console
from vidgen.schemas import JobDetailResponse, render_json
from vidgen.statuses import JobStatus

if TYPE_CHECKING:
    from vidgen.pipeline.follow import Following
    from vidgen.settings import Settings

POLL_SECONDS = 0.25


def _elapsed(detail: JobDetailResponse) -> dict[str, float]:
    now = datetime.now(UTC)
    return {
        stage.stage: (now - datetime.fromisoformat(stage.started_at)).total_seconds()
        for stage in detail.stages
        if stage.state == "running" and stage.started_at
    }


class _Detail:
    """The job's detail, re-read only when ``service.job_changes`` says something changed.

    A full detail read costs ~40 ms of CPU (every checkpoint with its outputs); four a second
    took a sixth of a core and the GIL away from the job itself when it runs in this process.
    """

    def __init__(self, settings: Settings, job_id: int) -> None:
        self.settings, self.job_id = settings, job_id
        self.token: str | None = None
        self.detail: JobDetailResponse | None = None

    def get(self) -> JobDetailResponse:
        from vidgen import service

        token = service.job_changes(self.settings, self.job_id)
        if self.detail is None or token != self.token:
            self.detail = service.job_detail(self.settings, self.job_id)
            self.token = token
        return self.detail


class UnservedNotice:
    """Says once, within seconds, that a pending job has no live worker to run it; the
    follower keeps waiting (a worker started later picks the job up)."""

    def __init__(self, settings: Settings, job_id: int) -> None:
        self.settings, self.job_id = settings, job_id
        self.said = False
        self.next_check = 0.0

    def message(self, status: str) -> str | None:
        from vidgen import service

        if self.said or status != JobStatus.PENDING or time.monotonic() < self.next_check:
            return None
        self.next_check = time.monotonic() + 2.0
        if service.serving_workers(self.settings) > 0:
            return None
        self.said = True
        return (
            f"{service.no_worker_hint(self.settings, self.job_id)}. Still waiting (Ctrl-C stops)."
        )


def follow(
    settings: Settings,
    job_id: int,
    *,
    run_here: bool,
    as_json: bool,
) -> int:
    """Block until the job is completed (return 0), failed or cancelled (return 1)."""
    from vidgen import service

    following = service.follow_job(settings, job_id, run_here=run_here)
    if following.runs_here:
        if not as_json:
            console().print("[dim]No worker is running; running the job in this process.[/]")
        following.start()

    out = console()
    detail = service.job_detail(settings, job_id)
    try:
        if as_json or not out.is_terminal:
            detail = _poll_plain(settings, job_id, following, quiet=as_json)
        else:
            from rich.live import Live
            from rich.markup import escape

            from vidgen.cli.panels import job_panel

            notice = None if following.runs_here else UnservedNotice(settings, job_id)
            latest = _Detail(settings, job_id)
            with Live(job_panel(detail), console=out, refresh_per_second=8) as live:
                while True:
                    detail = latest.get()
                    live.update(job_panel(detail, _elapsed(detail)))
                    note = notice.message(detail.status) if notice is not None else None
                    if note is not None:
                        live.console.print(f"[yellow]{escape(note)}[/]")
                    if following.finished(detail.status):
                        break
                    following.tick()
                    time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        following.interrupt()
        out.print(f"[yellow]Stopped following job {job_id}.[/]")
        return 130
    if as_json and not run_here:
        print(render_json(service.job_status(settings, job_id)))
    if following.runs_here:
        service.flush_webhooks(10.0)  # the job ended in this process: let its webhook go out
    return 0 if detail.status == JobStatus.COMPLETED else 1


def _poll_plain(
    settings: Settings, job_id: int, following: Following, *, quiet: bool
) -> JobDetailResponse:
    """For pipes and logs (cron, CI): one line per stage change instead of a live panel."""

    seen: dict[str, str] = {}
    notice = None if following.runs_here else UnservedNotice(settings, job_id)
    latest = _Detail(settings, job_id)
    while True:
        detail = latest.get()
        note = notice.message(detail.status) if notice is not None else None
        if note is not None:
            print(f"Note: {note}", file=sys.stderr, flush=True)
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
        if following.finished(detail.status):
            if not quiet:
                tail = f": {detail.error_message}" if detail.error_message else ""
                print(f"job {job_id} {detail.status}{tail}", flush=True)
                if detail.video_path:
                    print(f"video: {detail.video_path}", flush=True)
                # What to type next, typed as this shell can run it (full path off PATH).
                from vidgen.cli.output import me

                if detail.status == JobStatus.COMPLETED and detail.video_path:
                    print(f"review it: {me()} approve {job_id}", flush=True)
                elif detail.status == JobStatus.FAILED:
                    print(f"resume it with: {me()} retry {job_id}", flush=True)
            return detail
        following.tick()
        time.sleep(POLL_SECONDS)
