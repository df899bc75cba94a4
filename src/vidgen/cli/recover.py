"""``vidgen recover``: fail lost jobs, repair the queue, re-enqueue pending jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from vidgen.cli.output import emit, fail, load_settings_or_fail
from vidgen.errors import VidgenError

if TYPE_CHECKING:
    from vidgen.schemas import RecoverResponse


def _human(result: RecoverResponse) -> str:
    return f"Recovered: {result.message}."


def recover(
    as_json: Annotated[bool, typer.Option("--json", help="Print RecoverResponse JSON.")] = False,
) -> None:
    """Make the queue match the store (also done automatically when a worker starts)."""
    from vidgen import service

    settings = load_settings_or_fail()
    try:
        emit(service.recover(settings), as_json, _human)
    except VidgenError as exc:
        fail(exc)


def register(app: typer.Typer) -> None:
    app.command("recover")(recover)
