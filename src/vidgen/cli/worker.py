"""``vidgen worker``: the Huey consumer that runs queued jobs until stopped.

The runtime (consumer, signals, liveness) is ``vidgen.pipeline.consumer``; this face sets up the
log, starts it through the service layer and says what it is doing. The log is one line per
runner event with an ISO-8601 UTC timestamp (``--log-format json``: one JSON object per line),
from ``vidgen.pipeline.worklog``.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from vidgen.cli.output import EXIT_USAGE, die, example, fail, load_settings_or_fail
from vidgen.errors import VidgenError

log = logging.getLogger("vidgen.worker")


def worker(
    workers: Annotated[
        int,
        typer.Option(
            "--workers", "-w", min=1, max=64, metavar="N", help="Jobs to run at once (1-64)."
        ),
    ] = 1,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also log each task and stage progress.")
    ] = False,
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format",
            metavar="FORMAT",
            help="text (one line per event, ISO-8601 UTC times) or json (one JSON object "
            "per line, for log shippers).",
        ),
    ] = "text",
) -> None:
    """Run queued jobs until SIGINT/SIGTERM (which requeue the jobs in progress)."""
    from vidgen import service

    if log_format not in ("text", "json"):
        die(f"--log-format {log_format!r}: use text or json", EXIT_USAGE)
    worklog = service.worker_log(log_format, verbose)
    try:
        settings = load_settings_or_fail()
        try:
            host = service.worker_host(settings, workers)
            host.start()
        except VidgenError as exc:
            fail(exc)
        log.info(
            "vidgen worker %s: %s slot(s) on %s; %s. Stop with Ctrl-C or SIGTERM.",
            host.worker_id,
            workers,
            settings.queue,
            host.recovered_message,
        )
        host.run()
        service.flush_webhooks(10.0)
        if host.store_lost is not None:  # the beat saw the store file deleted or replaced
            fail(host.store_lost)
        if worklog.requeued:
            ids = ", ".join(str(job_id) for job_id in sorted(set(worklog.requeued)))
            log.info("vidgen worker stopped; put back in the queue: job %s", ids)
        else:
            log.info("vidgen worker stopped; no job was in progress")
    finally:
        # The log listens to every job this process runs: a worker run inside a longer-lived
        # process (a test, an embedding program) must not keep writing to a closed stream.
        worklog.uninstall()


def register(app: typer.Typer) -> None:
    app.command(
        "worker",
        epilog=example(
            "vidgen worker", "vidgen worker --workers 2", "vidgen worker --log-format json"
        ),
    )(worker)
