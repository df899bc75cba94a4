"""``vidgen recover``: fail lost jobs, repair the queue, re-enqueue pending jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from vidgen.cli.output import example, respond

if TYPE_CHECKING:
    from vidgen.schemas import RecoverResponse


def _human(result: RecoverResponse) -> str:
    from rich.markup import escape

    return f"Recovered: {escape(result.message)}."


def recover(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (the body of POST /api/recover).")
    ] = False,
    new_store: Annotated[
        bool,
        typer.Option(
            "--new-store",
            help="The job store was lost and cannot be restored: start a new, empty one "
            "(the old file, if any, is kept aside as vidgen.db.lost-<time>).",
        ),
    ] = False,
) -> None:
    """Make the queue match the store (also done automatically when a worker starts)."""
    from vidgen import service

    respond(lambda settings: service.recover(settings, new_store=new_store), as_json, _human)


def register(app: typer.Typer) -> None:
    app.command("recover", epilog=example("vidgen recover", "vidgen recover --new-store"))(recover)
