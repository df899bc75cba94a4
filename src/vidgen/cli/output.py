"""The one output helper: a Rich rendering for people, compact JSON for scripts.

``--json`` prints exactly ``vidgen.schemas.render_json(model)``, which is also the HTTP shim's
response body, so the two are byte-identical. Errors go to stderr as one line; only this module
and the shim map exceptions to exit codes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from vidgen.errors import InvalidInput, VidgenError
from vidgen.store.status import JobStatus

if TYPE_CHECKING:
    from pydantic import BaseModel
    from rich.console import Console, RenderableType

    from vidgen.settings import Settings

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2

_console: Console | None = None


def console() -> Console:
    global _console
    if _console is None:
        from rich.console import Console

        _console = Console(highlight=False)
    return _console


def emit(model: BaseModel, as_json: bool, human: Callable[[Any], RenderableType | str]) -> None:
    if as_json:
        from vidgen.schemas import render_json

        typer.echo(render_json(model))
    else:
        console().print(human(model))


def exit_code_for(exc: VidgenError) -> int:
    return EXIT_USAGE if isinstance(exc, InvalidInput) else EXIT_FAILURE


def fail(exc: VidgenError) -> NoReturn:
    message = " ".join(str(exc).split())
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(exit_code_for(exc))


def respond(
    call: Callable[[Settings], BaseModel],
    as_json: bool,
    human: Callable[[Any], RenderableType | str],
) -> None:
    """The body of every read/act command: settings, one service call, one rendering."""
    settings = load_settings_or_fail()
    try:
        emit(call(settings), as_json, human)
    except VidgenError as exc:
        fail(exc)


def load_settings_or_fail() -> Settings:
    from vidgen.settings import load_settings

    try:
        settings: Settings = load_settings()
        return settings
    except VidgenError as exc:
        fail(exc)


STATUS_STYLE: dict[str, str] = {
    JobStatus.PENDING: "yellow",
    JobStatus.RUNNING: "cyan",
    JobStatus.COMPLETED: "green",
    JobStatus.FAILED: "red",
    JobStatus.CANCELLED: "magenta",
}
STATE_ICON = {
    "waiting": "[dim]·[/]",
    "running": "[cyan]▶[/]",
    "completed": "[green]✔[/]",
    "failed": "[red]✘[/]",
    "skipped": "[green]↷[/]",
}


def plain(text: object) -> str:
    """User text (a theme, an error, a title, a path) made safe to embed in Rich markup: its
    ``[`` are escaped, so ``Sale [/] today`` prints as typed instead of breaking the whole
    rendering (``MarkupError``) and ``[link=…]`` makes no hidden hyperlink."""
    from rich.markup import escape

    return escape(str(text))


def styled_status(status: str) -> str:
    return f"[{STATUS_STYLE.get(status, 'white')}]{plain(status)}[/]"


def progress_bar(pct: float | None, width: int = 10) -> str:
    filled = round((pct or 0) / 100 * width)
    return f"{'█' * filled}{'░' * (width - filled)} {pct or 0:>5.1f}%"


def short_time(iso: str | None) -> str:
    return "" if iso is None else iso[:19].replace("T", " ")


def die(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    sys.stdout.flush()
    raise typer.Exit(code)


def example(*commands: str) -> str:
    """A help epilog with example command lines, kept verbatim (click's \\b: no re-wrapping)."""
    heading = "Example:" if len(commands) == 1 else "Examples:"
    return "\b\n" + heading + "\n" + "\n".join(f"  {command}" for command in commands)


def plain_help_command() -> type:
    """Typer's command class, minus its ``{ID}`` and ``ID <int>`` decorations in help: users
    read ``ID``, as in the README."""
    import re

    from typer.core import TyperCommand

    decoration = re.compile(r"\{([A-Z][A-Z_]*)\}| <(?:int|str|float|text)>")

    class PlainHelpCommand(TyperCommand):
        def format_help(self, ctx: Any, formatter: Any) -> None:
            super().format_help(ctx, formatter)
            formatter.buffer = [
                decoration.sub(lambda m: m.group(1) or "", piece) for piece in formatter.buffer
            ]

    return PlainHelpCommand
