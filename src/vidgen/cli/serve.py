"""``vidgen serve``: the optional HTTP shim over the same service layer."""

from __future__ import annotations

import ipaddress
from typing import Annotated

import typer

from vidgen.cli.output import EXIT_USAGE, die, example, fail, load_settings_or_fail

# A token guessed in 58 requests (VIDGEN_API_TOKEN=Z) protected nothing: other machines get a
# server only behind a token they cannot enumerate (16 random characters, with the wrong-token
# back-off of vidgen.web.security, take longer than the universe).
MIN_TOKEN_CHARS = 16


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    host: Annotated[
        str, typer.Option(metavar="ADDRESS", help="Address to bind; non-loopback needs a token.")
    ] = ("127.0.0.1"),
    port: Annotated[
        int, typer.Option(min=1, max=65535, metavar="PORT", help="TCP port (1-65535).")
    ] = 8000,
    request_timeout: Annotated[
        float,
        typer.Option(
            min=0.1,
            max=3600,
            metavar="SECONDS",
            help="How long a client may take to send a request's headers, and then its body, "
            "before it is answered 408 and cut off (slow clients hold connections).",
        ),
    ] = 10.0,
) -> None:
    """Serve the review dashboard at / (watch jobs, play, approve or reject videos, queue new
    ones) and the REST API under /api (POST /api/generate, GET /api/jobs, ...); API docs at
    /docs. Theme files the dashboard may name go in $VIDGEN_HOME/themes (created here)."""
    settings = load_settings_or_fail()
    if not host.strip():
        die("--host is empty: pass an address such as 127.0.0.1", EXIT_USAGE)
    if not is_loopback(host) and not settings.api_token:
        die(
            f"refusing to listen on {host} without VIDGEN_API_TOKEN: set a token "
            "(clients then send Authorization: Bearer <token>) or bind to 127.0.0.1",
            EXIT_USAGE,
        )
    if not is_loopback(host) and len(settings.api_token or "") < MIN_TOKEN_CHARS:
        die(
            f"refusing to listen on {host} with a VIDGEN_API_TOKEN of "
            f"{len(settings.api_token or '')} characters: a server other machines can reach "
            f"needs at least {MIN_TOKEN_CHARS} (e.g. from: openssl rand -hex 32)",
            EXIT_USAGE,
        )
    try:
        import uvicorn  # noqa: F401  (the http extra: checked here, used by vidgen.web.server)

        from vidgen.api.app import create_app
        from vidgen.web import server
    except ImportError:
        die("the HTTP shim needs its extra: pip install 'vidgen[http]'", EXIT_USAGE)
    from vidgen import service
    from vidgen.errors import VidgenError

    try:
        service.open_store(settings)  # a store that cannot open fails here, not in every request
        themes = service.themes_folder(settings)
    except VidgenError as exc:
        fail(exc)
    check_bindable(host, port)
    shown = f"[{host}]" if ":" in host else host
    typer.echo(
        f"vidgen: the review dashboard is at http://{shown}:{port}/ (API docs at /docs); "
        f"theme files it may use go in {themes}",
        err=True,
    )
    # Without a token only loopback names may reach it: a web page whose own name resolves to
    # 127.0.0.1 (DNS rebinding) is refused instead of driving the API.
    from vidgen.web.security import LOOPBACK_HOSTS

    allowed = None if settings.api_token else [*LOOPBACK_HOSTS, host]
    app = create_app(allowed_hosts=allowed, request_timeout=request_timeout)
    server.run(app, host, port, request_timeout)


def check_bindable(host: str, port: int) -> None:
    """One clear line now instead of uvicorn's startup log and exit code 3 later."""
    import errno
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as exc:
        die(
            f"cannot use --host {host!r} ({exc}): pass an IP address such as 127.0.0.1 "
            "or a name this machine resolves",
            EXIT_USAGE,
        )
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRNOTAVAIL:
                die(
                    f"cannot listen on {host}: it is not an address of this machine; "
                    "pass one of its addresses (or 0.0.0.0 for all, with a token)",
                    EXIT_USAGE,
                )
            die(
                f"cannot listen on {host}:{port} ({exc.strerror}): choose another --port "
                "or stop the program using it"
            )


def register(app: typer.Typer) -> None:
    app.command(
        "serve",
        epilog=example(
            "vidgen serve",
            "VIDGEN_API_TOKEN=$(openssl rand -hex 32) vidgen serve --host 0.0.0.0",
        ),
    )(serve)
