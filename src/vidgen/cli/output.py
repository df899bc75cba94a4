"""The one output helper: a Rich rendering for people, compact JSON for scripts.

``--json`` prints exactly ``vidgen.schemas.render_json(model)``, which is also the HTTP API's
response body, so the two are byte-identical. Errors go to stderr as one line; only this module
maps exceptions to exit codes (and ``vidgen.api.app`` to HTTP statuses).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from vidgen.errors import InvalidInput, VidgenError
from vidgen.statuses import JobStatus

if TYPE_CHECKING:
    from pydantic import BaseModel
    from rich.console import Console, RenderableType

    from vidgen.settings import Settings

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2

_console: Console | None = None

# Set by ``main.run`` when the command line asks for ``--json``: errors are then also printed
# on stdout as the HTTP twin's error body, so a script reading stdout always gets JSON.
json_errors = False


def set_json_errors(args: list[str]) -> None:
    global json_errors
    json_errors = "--json" in args[: args.index("--")] if "--" in args else "--json" in args


def print_error(message: str) -> None:
    """One error line on stderr (cron mail, people) and, under ``--json``, its JSON body on
    stdout."""
    line = " ".join(message.split())
    if json_errors:
        from vidgen.schemas import render_error

        typer.echo(render_error(line))
    typer.echo(f"Error: {line}", err=True)


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
    elif console().is_terminal:
        console().print(human(model))
    else:
        # Piped (cron mail, grep, a script): whole rows, tab-separated, nothing truncated or
        # wrapped mid-path, no box drawing.
        typer.echo(plain_text(human(model)))


def plain_text(renderable: Any) -> str:
    """A rendering as plain text: a table becomes a header line and one tab-separated line per
    row with every cell whole; a panel its title and lines; markup is dropped."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    if isinstance(renderable, str):
        from rich.errors import MarkupError

        try:
            return Text.from_markup(renderable).plain
        except MarkupError:  # user text that looks like a tag: shown as it is
            return renderable
    if isinstance(renderable, Text):
        return renderable.plain
    if isinstance(renderable, Group):
        return "\n".join(plain_text(part) for part in renderable.renderables)
    if isinstance(renderable, Panel):
        title = plain_text(renderable.title) if renderable.title is not None else ""
        body = plain_text(renderable.renderable)
        return f"{title}\n{body}" if title else body
    if isinstance(renderable, Table):
        columns = [list(column.cells) for column in renderable.columns]
        lines = []
        if renderable.show_header:
            lines.append("\t".join(_cell(column.header) for column in renderable.columns))
        for row in range(renderable.row_count):
            lines.append("\t".join(_cell(cells[row]) for cells in columns))
        return "\n".join(line.rstrip("\t") for line in lines)
    return str(renderable)


def _cell(value: Any) -> str:
    # Tabs and newlines inside a cell would split the row.
    return " ".join(plain_text(value).split())


def exit_code_for(exc: VidgenError) -> int:
    return EXIT_USAGE if isinstance(exc, InvalidInput) else EXIT_FAILURE


def fail(exc: VidgenError) -> NoReturn:
    print_error(str(exc))
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


def complete_job_status(incomplete: str) -> list[str]:
    """Shell completion of ``--status`` for jobs."""
    return [status.value for status in JobStatus if status.value.startswith(incomplete)]


def complete_stage(incomplete: str) -> list[str]:
    """Shell completion of a stage name (``retry --from-stage``)."""
    from vidgen.stages import PIPELINE_STAGES

    return [stage for stage in PIPELINE_STAGES if stage.startswith(incomplete)]


def complete_video_status(incomplete: str) -> list[str]:
    from vidgen.statuses import VideoStatus

    return [status.value for status in VideoStatus if status.value.startswith(incomplete)]


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


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters for a terminal table (with … when cut)."""
    return text if len(text) <= width else text[: width - 1] + "…"


def short_time(iso: str | None) -> str:
    return "" if iso is None else iso[:19].replace("T", " ")


def me() -> str:
    """How to type this vidgen in a shell: ``vidgen`` when that finds this very program on
    PATH, else its full path (after ``make run`` the venv's bin is not on PATH, and a printed
    "vidgen status 1" would answer "command not found")."""
    import os
    import shlex
    import shutil
    from pathlib import Path

    program = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if program is None or program.name != "vidgen" or not os.access(program, os.X_OK):
        return "vidgen"  # run some other way (python -m, tests): nothing better to say
    found = shutil.which("vidgen")
    if found is not None and Path(found).resolve() == program.resolve():
        return "vidgen"
    return shlex.quote(str(program.absolute()))


def die(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    print_error(message)
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
