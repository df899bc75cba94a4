"""``vidgen status ID``: where is job ID now?"""

from __future__ import annotations

from typing import Annotated

import typer

from vidgen.cli.output import emit, example, fail, load_settings_or_fail
from vidgen.errors import VidgenError
from vidgen.ids import parse_id


def status(
    job_id: Annotated[
        int,
        typer.Argument(
            metavar="ID", parser=parse_id, help="Job id, as printed by generate or jobs."
        ),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (the body of GET /api/jobs/ID).")
    ] = False,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            "-w",
            help="Refresh live until the job ends; exit 0 if completed, 1 if failed or "
            "cancelled. "
            "Says so within seconds when no worker serves the job, and keeps waiting.",
        ),
    ] = False,
) -> None:
    """Show a job's status, stage, progress and per-stage checkpoints."""
    from vidgen import service

    settings = load_settings_or_fail()
    try:
        if watch:
            from vidgen.cli.follow import follow

            raise typer.Exit(follow(settings, job_id, run_here=False, as_json=as_json))
        if as_json:
            emit(service.job_status(settings, job_id), True, str)
        else:
            from vidgen.cli.panels import job_panel

            emit(service.job_detail(settings, job_id), False, job_panel)
    except VidgenError as exc:
        fail(exc)


def register(app: typer.Typer) -> None:
    app.command("status", epilog=example("vidgen status 12", "vidgen status 12 --watch"))(status)
