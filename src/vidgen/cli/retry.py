"""``vidgen retry ID``: resume a failed job from its last checkpoint."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from vidgen.cli.output import example, respond

if TYPE_CHECKING:
    from vidgen.schemas import JobRetryResponse


def _human(result: JobRetryResponse) -> str:
    skipped = ", ".join(result.skipping_stages) or "nothing"
    return (
        f"[green]Queued[/] job {result.job_id} again (task {result.task_id}).\n"
        f"Resuming from [bold]{result.resume_from}[/]; reusing {skipped}.\n"
        f"Follow it: vidgen status {result.job_id} --watch"
    )


def retry(
    job_id: Annotated[int, typer.Argument(metavar="ID", help="Id of a failed job.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (the body of POST /api/jobs/ID/retry).")
    ] = False,
) -> None:
    """Queue a failed job again; completed stages are skipped and their outputs reused."""
    from vidgen import service

    respond(lambda s: service.retry(s, job_id), as_json, _human)


def register(app: typer.Typer) -> None:
    app.command("retry", epilog=example("vidgen retry 12"))(retry)
