"""``vidgen generate``: record a job, enqueue it, return at once (or follow it with --wait)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from vidgen.cli.output import EXIT_USAGE, die, emit, example, fail, load_settings_or_fail
from vidgen.errors import VidgenError

if TYPE_CHECKING:
    from vidgen.schemas import (
        BatchTriggerResponse,
        GenerateSkippedResponse,
        PipelineTriggerResponse,
    )
    from vidgen.settings import Settings


def _human(result: PipelineTriggerResponse | GenerateSkippedResponse) -> str:
    from vidgen.cli.output import me

    if result.status == "skipped":
        from vidgen.cli.output import plain

        follow = f"{me()} status {result.job_id}"
        return f"[yellow]Skipped[/]: {plain(result.message)}. Follow it: {follow}"
    return (
        f"[green]Queued[/] job {result.job_id} (task {result.task_id}).\n"
        f"Follow it: {me()} status {result.job_id} --watch"
    )


def _human_batch(result: BatchTriggerResponse) -> str:
    from vidgen.cli.output import me

    ids = " ".join(str(job.job_id) for job in result.jobs)
    return f"[green]Queued[/] {result.count} job(s): {ids}\nFollow them: {me()} jobs"


def _warn_if_unserved(settings: Settings, job_ids: list[int]) -> None:
    """Say on stderr when nothing will pick the job up, instead of leaving it pending silently."""
    from vidgen import service

    if job_ids and service.serving_workers(settings) == 0:
        typer.echo(f"Note: {service.no_worker_hint(settings, job_ids[0])}", err=True)


def generate(
    theme: Annotated[
        str | None,
        typer.Option("--theme", "-t", metavar="THEME", help="Theme; default: the config's theme."),
    ] = None,
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            "-c",
            metavar="PATH",
            help="Theme config YAML; default: $VIDGEN_CONFIG, else $VIDGEN_HOME/config.yml "
            "(see 'vidgen config').",
        ),
    ] = None,
    batch: Annotated[
        str | None,
        typer.Option(
            "--batch",
            "-b",
            metavar="FILE",
            help="Queue one job per entry of a YAML or JSON list of {theme, config}; "
            "every entry is checked first, and one bad entry queues nothing.",
        ),
    ] = None,
    skip_if_queued: Annotated[
        bool,
        typer.Option(
            "--skip-if-queued",
            help="Queue nothing (exit 0) if a job for the same theme and config is still "
            "pending or running: a cron overlap guard.",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (the body of POST /api/generate).")
    ] = False,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="Follow the job live until it ends (runs it here if no "
            "worker is running); exit 0 if completed, 1 if failed or cancelled.",
        ),
    ] = False,
) -> None:
    """Queue a video job for the worker and return at once."""
    from vidgen import service

    settings = load_settings_or_fail()
    if batch is not None:
        if theme is not None or config is not None or wait or skip_if_queued:
            die(
                "--batch takes theme and config from the file: drop --theme, --config, "
                "--wait and --skip-if-queued",
                EXIT_USAGE,
            )
        try:
            queued = service.generate_batch(settings, service.load_batch_file(batch))
            emit(queued, as_json, _human_batch)
            _warn_if_unserved(settings, [job.job_id for job in queued.jobs])
        except VidgenError as exc:
            fail(exc)
        return
    try:
        result = service.generate(settings, theme, config, skip_if_queued=skip_if_queued)
        emit(result, as_json, _human)
        if not as_json and config is None:  # say which file the default is (cron mail too)
            typer.echo(f"Config: {service.default_config(settings)} (see 'vidgen config')")
        if wait and result.status == "queued":
            from vidgen.cli.follow import follow

            raise typer.Exit(follow(settings, result.job_id, run_here=True, as_json=as_json))
        if result.status == "queued":
            _warn_if_unserved(settings, [result.job_id])
    except VidgenError as exc:
        fail(exc)


def register(app: typer.Typer) -> None:
    app.command(
        "generate",
        epilog=example(
            "vidgen generate --theme 'Product Demo'",
            "vidgen generate --config ~/themes/launch.yml --skip-if-queued",
            "vidgen generate --batch themes.yml --json",
        ),
    )(generate)
