"""``vidgen cancel ID``: stop a pending or running job."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from vidgen.cli.output import example, respond
from vidgen.ids import parse_id

if TYPE_CHECKING:
    from vidgen.schemas import JobCancelResponse


def _human(result: JobCancelResponse) -> str:
    colour = "green" if result.status == "cancelled" else "yellow"
    from rich.markup import escape

    return f"[{colour}]{escape(result.message)}[/]"


def cancel(
    job_id: Annotated[
        int, typer.Argument(metavar="ID", parser=parse_id, help="Id of a pending or running job.")
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (the body of POST /api/jobs/ID/cancel).")
    ] = False,
) -> None:
    """Cancel a job: a pending one at once, a running one by its worker within seconds
    (ffmpeg and other child processes are stopped). Ended jobs are refused."""
    from vidgen import service

    respond(lambda s: service.cancel_job(s, job_id), as_json, _human)
    service.flush_webhooks(10.0)


def register(app: typer.Typer) -> None:
    app.command("cancel", epilog=example("vidgen cancel 12", "vidgen cancel 12 --json"))(cancel)
