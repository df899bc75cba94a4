"""``vidgen worker``: the Huey consumer that runs queued jobs until stopped.

The runtime (consumer, signals, liveness) is ``vidgen.pipeline.worker``; this face sets up the
log, starts it through the service layer and says what it is doing.
"""

from __future__ import annotations

from typing import Annotated

import typer

from vidgen.cli.output import example, fail, load_settings_or_fail
from vidgen.errors import VidgenError


def worker(
    workers: Annotated[
        int,
        typer.Option(
            "--workers", "-w", min=1, max=64, metavar="N", help="Jobs to run at once (1-64)."
        ),
    ] = 1,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each task.")] = False,
) -> None:
    """Run queued jobs until SIGINT/SIGTERM (which requeue the jobs in progress)."""
    import logging

    from rich.logging import RichHandler

    from vidgen import service

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(show_path=False)],
    )
    logging.getLogger("vidgen").setLevel(logging.INFO)
    settings = load_settings_or_fail()
    try:
        host = service.worker_host(settings, workers)
        host.start()
    except VidgenError as exc:
        fail(exc)
    typer.echo(
        f"vidgen worker {host.worker_id}: {workers} slot(s) on {settings.queue}; "
        f"{host.recovered_message}. Stop with Ctrl-C or SIGTERM.",
        err=True,
    )
    host.run()
    typer.echo("vidgen worker stopped; jobs in progress were put back in the queue.", err=True)


def register(app: typer.Typer) -> None:
    app.command(
        "worker",
        epilog=example("vidgen worker", "vidgen worker --workers 2"),
    )(worker)
