"""``vidgen recover``: fail lost jobs, repair the queue, re-enqueue pending jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from vidgen.cli.output import respond

if TYPE_CHECKING:
    from vidgen.schemas import RecoverResponse


def _human(result: RecoverResponse) -> str:
    return f"Recovered: {result.message}."


def recover(
    as_json: Annotated[bool, typer.Option("--json", help="Print RecoverResponse JSON.")] = False,
) -> None:
    """Make the queue match the store (also done automatically when a worker starts)."""
    from vidgen import service

    respond(service.recover, as_json, _human)


def register(app: typer.Typer) -> None:
    app.command("recover")(recover)
