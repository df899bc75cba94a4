"""``vidgen auth youtube|tiktok``: authorise vidgen to upload, once per account."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from vidgen.cli.output import example, fail, load_settings_or_fail
from vidgen.errors import VidgenError


def auth(
    destination: Annotated[str, typer.Argument(metavar="DEST", help="youtube or tiktok.")],
    account: Annotated[
        str | None,
        typer.Option("--account", metavar="NAME", help="A name for this channel (default)."),
    ] = None,
    paste: Annotated[
        bool,
        typer.Option(
            "--paste",
            help="Headless: open the URL on any machine, then paste the address the browser "
            "was sent to (it fails to load; that is expected).",
        ),
    ] = False,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Loopback port (0: any free one).")
    ] = 0,
    timeout: Annotated[
        float, typer.Option("--timeout", min=10, help="Seconds to wait for the browser.")
    ] = 300.0,
) -> None:
    """Authorise uploads: prints the consent URL, receives the answer on 127.0.0.1, and keeps
    the refresh token in the vidgen home (mode 0600)."""
    from vidgen import service

    settings = load_settings_or_fail()
    try:
        authorization, server = service.auth_begin(settings, destination, account, port)
        typer.echo(f"Open this URL and allow vidgen to upload:\n\n  {authorization.url}\n")
        pasted = None
        if paste:
            typer.echo("Then paste the address the browser was sent to (http://127.0.0.1:...):")
            pasted = sys.stdin.readline()
        else:
            typer.echo(f"Waiting for the answer on {authorization.redirect_uri} ...")
        where = service.auth_finish(settings, authorization, server, pasted, timeout)
    except VidgenError as exc:
        fail(exc)
    typer.echo(f"Authorised; the refresh token is in {where} (mode 0600).")


def register(app: typer.Typer) -> None:
    app.command(
        "auth",
        epilog=example("vidgen auth youtube", "vidgen auth tiktok --account brand --paste"),
    )(auth)
