"""``vidgen generate``: record a job, enqueue it, return at once (or follow it with --wait)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from vidgen.cli.output import emit, fail, load_settings_or_fail
from vidgen.errors import VidgenError

if TYPE_CHECKING:
    from vidgen.schemas import PipelineTriggerResponse


def _human(result: PipelineTriggerResponse) -> str:
    return (
        f"[green]Queued[/] job {result.job_id} (task {result.task_id}).\n"
        f"Follow it: vidgen status {result.job_id} --watch"
    )


def generate(
    theme: Annotated[
        str | None, typer.Option("--theme", "-t", help="Theme; default: the config's theme.")
    ] = None,
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            "-c",
            help="Theme config YAML; default: $VIDGEN_CONFIG, "
            "./sample-data.yml, then the shipped sample.",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print PipelineTriggerResponse JSON.")
    ] = False,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="Follow the job live until it ends (runs it here if no "
            "worker is running); exit 0 if completed, 1 if failed.",
        ),
    ] = False,
) -> None:
    """Queue a video job for the worker."""
    from vidgen import service

    settings = load_settings_or_fail()
    try:
        result = service.generate(settings, theme, config)
        emit(result, as_json, _human)
        if wait:
            from vidgen.cli.follow import follow

            raise typer.Exit(follow(settings, result.job_id, run_here=True, as_json=as_json))
    except VidgenError as exc:
        fail(exc)


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)
