"""``vidgen recover``: fail lost jobs, repair the queue, re-enqueue pending jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from vidgen.cli.output import example, respond

if TYPE_CHECKING:
    from vidgen.schemas import RecoverResponse


def _human(result: RecoverResponse) -> str:
    return f"Recovered: {result.message}."


def recover(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (the body of POST /api/recover).")
    ] = False,
) -> None:
    """Make the queue match the store (also done automatically when a worker starts)."""
    from vidgen import service

    respond(service.recover, as_json, _human)


def register(app: typer.Typer) -> None:
    app.command("recover", epilog=example("vidgen recover"))(recover)
