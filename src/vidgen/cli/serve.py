"""``vidgen serve``: the optional HTTP shim over the same service layer."""

from __future__ import annotations

import ipaddress
from typing import Annotated

import typer

from vidgen.cli.output import EXIT_USAGE, die, load_settings_or_fail


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    host: Annotated[str, typer.Option(help="Address to bind; non-loopback needs a token.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
) -> None:
    """Serve the REST API (POST /api/generate, GET /api/jobs, ...); docs at /docs."""
    settings = load_settings_or_fail()
    if not is_loopback(host) and not settings.api_token:
        die(
            f"refusing to listen on {host} without VIDGEN_API_TOKEN: set a token "
            "(clients then send Authorization: Bearer <token>) or bind to 127.0.0.1",
            EXIT_USAGE,
        )
    try:
        import uvicorn

        from vidgen.shim import create_app
    except ImportError:
        die("the HTTP shim needs its extra: pip install 'vidgen[http]'", EXIT_USAGE)
    uvicorn.run(create_app(), host=host, port=port, log_level="info")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
