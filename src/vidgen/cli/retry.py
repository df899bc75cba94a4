"""``vidgen retry ID [--from-stage STAGE] [--dry-run]``: run a job again from a checkpoint."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from vidgen.cli.output import complete_stage, example, respond
from vidgen.ids import parse_id

if TYPE_CHECKING:
    from vidgen.schemas import JobRetryResponse


def _human(result: JobRetryResponse) -> str:
    from rich.markup import escape

    skipped = ", ".join(result.skipping_stages) or "nothing"
    running = ", ".join(result.running_stages) or "nothing"
    if result.dry_run:
        lines = [f"[bold]Dry run[/] for job {result.job_id}: nothing was changed."]
        lines.append(f"Would run:  {running}")
        lines.append(f"Would skip: {skipped}")
        for stage, files in result.reused_outputs.items():
            shown = ", ".join(files) if files else "(outputs only, no files)"
            lines.append(f"  reuse {stage}: {shown}")
        if result.message and "runs again" in result.message:
            note = next(part for part in result.message.split("; ") if "runs again" in part)
            lines.append(f"[yellow]Note: {escape(note)}.[/]")
        return "\n".join(lines)
    from vidgen.cli.output import me

    return (
        f"[green]Queued[/] job {result.job_id} again (task {result.task_id}).\n"
        f"Resuming from [bold]{result.resume_from}[/]; reusing {skipped}.\n"
        f"Follow it: {me()} logs {result.job_id} --follow"
    )


def retry(
    job_id: Annotated[
        int,
        typer.Argument(
            metavar="ID",
            parser=parse_id,
            help="Id of a failed job (or a completed or cancelled one with --from-stage).",
        ),
    ],
    from_stage: Annotated[
        str | None,
        typer.Option(
            "--from-stage",
            metavar="STAGE",
            help="Re-run STAGE and every stage after it, also for a completed job (its "
            "video is replaced only when the new one is filed) or a cancelled one.",
            autocompletion=complete_stage,
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Print which stages would run, be skipped and be reused; change nothing.",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (the body of POST /api/jobs/ID/retry).")
    ] = False,
) -> None:
    """Queue a failed job again; completed stages are skipped and their outputs reused."""
    from vidgen import service

    respond(lambda s: service.retry(s, job_id, from_stage, dry_run=dry_run), as_json, _human)


def register(app: typer.Typer) -> None:
    app.command(
        "retry",
        epilog=example(
            "vidgen retry 12",
            "vidgen retry 12 --from-stage composition --dry-run",
            "vidgen retry 12 --from-stage composition",
        ),
    )(retry)
