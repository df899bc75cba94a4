"""``vidgen config``: which theme config a job without ``--config`` uses (and where to edit it)."""

from __future__ import annotations

from typing import Annotated

import typer

from vidgen.cli.output import example, fail, load_settings_or_fail
from vidgen.errors import VidgenError


def config(
    explain: Annotated[
        bool, typer.Option("--explain", help="Also say why this file (option, variable, default).")
    ] = False,
) -> None:
    """Print the path of the default theme config: $VIDGEN_CONFIG, else $VIDGEN_HOME/config.yml
    (created from the shipped sample the first time). make run, vidgen and cron all use it."""
    from vidgen import service

    settings = load_settings_or_fail()
    try:
        path = service.default_config(settings)
    except VidgenError as exc:
        fail(exc)
    typer.echo(str(path))
    if explain:
        why = (
            "from VIDGEN_CONFIG"
            if settings.config is not None
            else "the default: $VIDGEN_HOME/config.yml, made from the shipped sample on first use"
        )
        typer.echo(f"({why}; 'vidgen generate --config PATH' uses another file)")


def register(app: typer.Typer) -> None:
    app.command("config", epilog=example("vidgen config", '"${EDITOR:-nano}" "$(vidgen config)"'))(
        config
    )
