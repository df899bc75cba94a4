"""``vidgen logs ID [--follow]``: a job's runner events in order (``GET /api/jobs/ID/logs``)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer

from vidgen.cli.output import (
    EXIT_FAILURE,
    EXIT_OK,
    console,
    emit,
    example,
    fail,
    load_settings_or_fail,
    short_time,
)
from vidgen.errors import VidgenError
from vidgen.ids import parse_id
from vidgen.statuses import TERMINAL_JOB_STATUSES, JobStatus

if TYPE_CHECKING:
    from rich.console import RenderableType

    from vidgen.schemas import JobLogEvent, JobLogResponse

POLL_SECONDS = 0.5
_KIND_STYLE = {
    "stage_completed": "green",
    "job_completed": "bold green",
    "stage_failed": "red",
    "job_failed": "bold red",
    "backoff": "yellow",
    "lease_lost": "red",
    "cancel_requested": "magenta",
    "job_cancelled": "bold magenta",
}


TABLE_TRACE_LINES = 3  # the table shows the end of a traceback; lines and JSON carry 12


def detail(event: JobLogEvent, trace_lines: int | None = None) -> str:
    """What the event says beyond its kind: time and cost, the error, the wait."""
    data = event.data
    parts: list[str] = []
    if event.kind == "stage_completed":
        parts.append(
            f"{float(data.get('duration_seconds') or 0):.1f} s, ${float(data.get('cost') or 0):.4f}"
        )
    if event.message:
        parts.append(event.message)
    lines = [" · ".join(parts)] if parts else []
    for line in data.get("stderr_tail") or []:
        lines.append(f"  ffmpeg: {line}")
    trace = event.traceback_tail or []
    for line in trace[-trace_lines:] if trace_lines else trace:
        lines.append(f"  {line}")
    return "\n".join(lines)


def log_table(result: JobLogResponse) -> RenderableType:
    from rich.markup import escape
    from rich.table import Table

    if not result.events:
        return f"[dim]Job {result.job_id} ({result.status}) has no events yet.[/]"
    table = Table(header_style="bold", title=f"job {result.job_id}: {result.status}")
    for column in ("time (UTC)", "event", "stage", "try", "detail"):
        table.add_column(column, overflow="fold")
    for event in result.events:
        style = _KIND_STYLE.get(event.kind, "")
        table.add_row(
            short_time(event.at),
            f"[{style}]{event.kind}[/]" if style else event.kind,
            event.stage or "",
            "" if event.attempt is None else str(event.attempt),
            escape(detail(event, TABLE_TRACE_LINES)),
        )
    return table


def _line(job_id: int, event: JobLogEvent) -> str:
    head = f"{event.at} job {job_id} {event.kind}"
    if event.stage:
        head += f" {event.stage}"
    if event.attempt is not None:
        head += f" attempt {event.attempt}"
    more = detail(event)
    return f"{head}: {more}" if more else head


def _follow(job_id: int, as_json: bool) -> int:
    """Print new events as they are recorded until the job ends; 0 if it completed."""
    from vidgen import service
    from vidgen.cli.follow import UnservedNotice
    from vidgen.schemas import render_json

    settings = load_settings_or_fail()
    after: int | None = None
    notice = UnservedNotice(settings, job_id)
    while True:
        result = service.job_logs(settings, job_id, after=after)
        note = notice.message(result.status)
        if note is not None:  # a pending job nobody will run: say so once, keep waiting
            typer.echo(f"Note: {note}", err=True)
        if result.events:
            after = result.events[-1].id
            if as_json:
                typer.echo(render_json(result))
            else:
                for event in result.events:
                    typer.echo(_line(job_id, event))
        if result.status in TERMINAL_JOB_STATUSES:
            return EXIT_OK if result.status == JobStatus.COMPLETED else EXIT_FAILURE
        time.sleep(POLL_SECONDS)


def logs(
    job_id: Annotated[int, typer.Argument(metavar="ID", parser=parse_id, help="Job id.")],
    follow: Annotated[
        bool,
        typer.Option(
            "--follow",
            "-f",
            help="Keep printing new events until the job ends; exit 0 if it completed, "
            "1 if it failed or was cancelled.",
        ),
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print JSON (the body of GET /api/jobs/ID/logs; with --follow one body per "
            "poll that found new events, as GET /api/jobs/ID/logs?after=LAST_ID returns).",
        ),
    ] = False,
) -> None:
    """Show a job's events in order: stage starts and ends (attempt, time, cost), backoff
    waits, errors with their traceback tail, ffmpeg's stderr tail, cancel and requeue.

    A table on a terminal; one line per event (ISO-8601 UTC) when piped or redirected."""
    from vidgen import service

    try:
        if follow:
            raise typer.Exit(_follow(job_id, as_json))
        settings = load_settings_or_fail()
        result = service.job_logs(settings, job_id)
        if as_json:
            emit(result, True, str)
        elif console().is_terminal:
            console().print(log_table(result))
        else:  # a pipe, a file, cron mail: one unwrapped line per event, like the worker log
            for event in result.events:
                typer.echo(_line(job_id, event))
    except VidgenError as exc:
        fail(exc)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def register(app: typer.Typer) -> None:
    app.command(
        "logs",
        epilog=example("vidgen logs 12", "vidgen logs 12 --follow", "vidgen logs 12 --json"),
    )(logs)
