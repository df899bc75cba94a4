"""``vidgen jobs``: list jobs, newest first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from vidgen.cli.output import complete_job_status, example, respond

if TYPE_CHECKING:
    from rich.console import RenderableType

    from vidgen.schemas import JobListResponse


def jobs_table(result: JobListResponse) -> RenderableType:
    from rich.table import Table

    from vidgen.cli.output import clip, console, me, plain, progress_bar, short_time, styled_status

    if not result.jobs:
        return f"[dim]No jobs match. Queue one with: {me()} generate[/]"
    table = Table(header_style="bold")
    # A terminal gets short cells; a pipe (plain rows) gets whole values.
    cut = clip if console().is_terminal else (lambda text, _: text)
    for column in ("id", "status", "stage", "progress", "theme", "created", "error"):
        table.add_column(column, justify="right" if column == "id" else "left")
    for job in result.jobs:
        table.add_row(
            str(job.id),
            styled_status(job.status),
            plain(job.stage or ""),
            progress_bar(job.progress_pct),
            plain(cut((job.theme or "").replace("\n", " "), 30)),
            short_time(job.created_at),
            plain(cut(job.error_message or "", 60)),
        )
    if result.total > result.count:
        from rich.console import Group

        return Group(
            table, f"[dim]{result.count} of {result.total} jobs; see more with --offset[/]"
        )
    return table


def jobs(
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            "-s",
            metavar="STATUS",
            help="Only jobs with this status: pending, running, completed, failed or cancelled.",
            autocompletion=complete_job_status,
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", metavar="N", help="How many jobs (1-1000).")
    ] = 20,
    offset: Annotated[
        int, typer.Option("--offset", metavar="K", help="Skip this many newest jobs.")
    ] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (the body of GET /api/jobs).")
    ] = False,
) -> None:
    """List jobs, newest first."""
    from vidgen import service

    respond(lambda s: service.list_jobs(s, status, limit, offset), as_json, jobs_table)


def register(app: typer.Typer) -> None:
    app.command(
        "jobs",
        epilog=example(
            "vidgen jobs --status failed",
            "vidgen jobs --limit 50 --offset 50 --json",
        ),
    )(jobs)
