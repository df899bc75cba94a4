"""Who may use the API: bearer token or the dashboard's session cookie, and no cross-site writes.

- Without ``VIDGEN_API_TOKEN`` the server listens on loopback only; requests are not
  authenticated, but a browser page from another site still cannot make it act: any unsafe
  request (POST...) whose ``Origin`` or ``Sec-Fetch-Site`` says it comes from elsewhere is
  refused, and ``vidgen serve`` accepts only loopback ``Host`` names (no DNS rebinding).
- With a token every route but the public ones needs ``Authorization: Bearer <token>`` or the
  session cookie the login page sets (HttpOnly, SameSite=Strict): a random value per sign-in,
  kept server-side (``store.sessions``) with a 12-hour expiry, ended by "Sign out", and tied to
  the token it was opened with, so changing the token ends every session. A request that
  authenticates with the cookie and changes something must also carry ``X-Vidgen-CSRF: 1``,
  which a cross-site form cannot send and a cross-site script cannot send without a CORS
  preflight this server never grants.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from vidgen.errors import VidgenError
from vidgen.settings import Settings

SESSION_COOKIE = "vidgen_session"
CSRF_HEADER = "x-vidgen-csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Reachable without a token: the health probe, signing in and out, and the page's own static
# files (the same bytes as in the pip package, nothing about any job). Cross-site posts to
# /login and /logout are still refused.
PUBLIC_PATHS = frozenset({"/api/health", "/login", "/logout", "/favicon.ico"})
PUBLIC_PREFIXES = ("/static/", "/docs/assets/")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class WrongTokens:
    """Back-off for wrong tokens, per client address: after ``FREE`` wrong tokens (a bearer
    header or the login form) each further one makes that client wait twice as long (1 s, 2 s,
    4 s … up to ``CAP``), answered 429 with ``Retry-After`` without checking its token. A
    right token clears its count. Guessing a token by trying it is then hopeless."""

    FREE = 5
    CAP = 60.0
    MAX_CLIENTS = 10_000

    def __init__(self) -> None:
        self._seen: dict[str, tuple[int, float]] = {}  # client -> (wrong tokens, blocked until)

    def wait(self, client: str) -> float:
        """Seconds ``client`` must still wait before its token is checked again (0: none)."""
        _count, until = self._seen.get(client, (0, 0.0))
        return max(0.0, until - time.monotonic())

    def wrong(self, client: str) -> None:
        count, _until = self._seen.get(client, (0, 0.0))
        count += 1
        until = 0.0
        if count > self.FREE:
            until = time.monotonic() + min(self.CAP, 2.0 ** (count - self.FREE - 1))
        if len(self._seen) >= self.MAX_CLIENTS:
            self._seen.clear()  # bounded memory; an attacker with 10k addresses starts again
        self._seen[client] = (count, until)

    def right(self, client: str) -> None:
        self._seen.pop(client, None)


def wrong_tokens(request: Request) -> WrongTokens:
    """The back-off of the app serving ``request`` (one per app, so per server process)."""
    found = getattr(request.app.state, "wrong_tokens", None)
    if not isinstance(found, WrongTokens):
        found = request.app.state.wrong_tokens = WrongTokens()
    return found


def client_of(request: Request) -> str:
    return request.client.host if request.client is not None else "?"


def too_many_wrong_tokens(request: Request) -> Response | None:
    """The 429 a client still backing off gets, or None."""
    from vidgen.web.responses import detail_response

    wait = wrong_tokens(request).wait(client_of(request))
    if wait <= 0:
        return None
    seconds = max(1, round(wait))
    return detail_response(
        f"too many wrong tokens from this address: wait {seconds} s before trying again",
        429,
        **{"Retry-After": str(seconds)},
    )


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


_HOST_HEADER = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$")


def _host_name(host_header: str) -> str:
    """``127.0.0.1:8000`` -> ``127.0.0.1``; ``[::1]:8000`` -> ``::1``. Anything that is not a
    plain host[:port] is returned whole, so it matches no allowed name: URL parsing would
    read ``evil.example@127.0.0.1`` as user ``evil.example`` at ``127.0.0.1``."""
    if not _HOST_HEADER.match(host_header):
        return host_header.lower()
    return (urlsplit(f"//{host_header}").hostname or "").lower()


def cross_site(request: Request) -> str | None:
    """Why a browser request comes from another site, or None."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return f"Sec-Fetch-Site: {fetch_site}"
    origin = request.headers.get("origin")
    if origin is None:
        return None  # not a browser, or a same-origin request of an old one
    if (
        origin == "null"
        or urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower()
    ):
        return f"Origin {origin}"
    return None


def bearer_ok(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    # The scheme is case-insensitive (RFC 9110); the token is compared in constant time.
    return scheme.lower() == "bearer" and secrets.compare_digest(given.encode(), token.encode())


def cookie_ok(request: Request, settings: Settings) -> bool:
    """The session cookie names a live server-side session (``service.session_ok``)."""
    from vidgen import service

    given = request.cookies.get(SESSION_COOKIE, "")
    return bool(given) and service.session_ok(settings, given)


def carries_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return "transfer-encoding" in request.headers or (length is not None and length != "0")


def wants_page(request: Request) -> bool:
    """A browser navigating (not a script asking for JSON)."""
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


def add_guard(
    app: FastAPI, current: Callable[[], Settings], allowed_hosts: list[str] | None
) -> None:
    from vidgen.web.responses import detail_response

    allowed = {name.lower().strip("[]") for name in allowed_hosts} if allowed_hosts else None

    @app.middleware("http")
    async def _guard(request: Request, call_next: Any) -> Response:
        passed = False

        async def onward(checked: Request) -> Response:
            nonlocal passed
            passed = True
            response: Response = await call_next(checked)
            return response

        response = await _judge(request, onward)
        if not passed and carries_body(request):
            # Refused before its body was read (vidgen.api.app.BodyLimit reads it only for a
            # request let through): close rather than read the rest, however large or slow.
            response.headers["connection"] = "close"
        return response

    async def _judge(request: Request, call_next: Any) -> Response:
        if allowed is not None:
            host = _host_name(request.headers.get("host", ""))
            if host not in allowed:
                return detail_response(
                    f"Host {host!r} is not this server's name: open it as "
                    f"http://{sorted(allowed)[0]}:<port>/",
                    400,
                )
        unsafe = request.method not in SAFE_METHODS
        if unsafe and (why := cross_site(request)) is not None:
            return detail_response(
                f"cross-site request refused ({why}): use the dashboard on this server "
                "or a client that is not a browser",
                403,
            )
        try:
            token = current().api_token
        except VidgenError as exc:
            return detail_response(str(exc), 503)
        path = request.url.path
        if token and not is_public(path) and (blocked := too_many_wrong_tokens(request)):
            return blocked
        if token and not is_public(path) and bearer_ok(request, token):
            wrong_tokens(request).right(client_of(request))
        elif token and not is_public(path):
            if request.headers.get("authorization"):  # a token given, and wrong
                wrong_tokens(request).wrong(client_of(request))
            try:
                signed_in = cookie_ok(request, current())
            except VidgenError as exc:  # the store (which keeps the sessions) is busy or lost
                return detail_response(str(exc), 503)
            if signed_in:
                if unsafe and request.headers.get(CSRF_HEADER) != "1":
                    return detail_response(
                        f"a request signed in by the session cookie must send the header "
                        f"{CSRF_HEADER.title()}: 1",
                        403,
                    )
            elif wants_page(request):
                return RedirectResponse(f"/login?next={quote(path)}", status_code=303)
            else:
                return detail_response(
                    "missing or wrong bearer token: send Authorization: Bearer <token>",
                    401,
                    **{"WWW-Authenticate": "Bearer"},
                )
        response: Response = await call_next(request)
        return response
