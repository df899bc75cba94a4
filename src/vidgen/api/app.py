"""The HTTP API's app (``vidgen serve``, extra ``http``): the CLI's twin over HTTP.

The app factory: middleware, the one error mapping, and ``API_ROUTERS``, the list of the route
modules (one per resource, each ``add_routes(app, current)``). Routes parse input, call
``vidgen.service`` and return ``render_json(model)`` - the exact bytes ``--json`` prints. Errors
map to statuses here and only here. Security: a bearer token is required on every route but
/api/health when ``VIDGEN_API_TOKEN`` is set, request bodies are capped, and an HTTP
``config_path`` is confined to the themes folder.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vidgen import __version__
from vidgen.api import (
    dashboard_routes,
    job_routes,
    ops_routes,
    publication_routes,
    video_routes,
)
from vidgen.api.dashboard_routes import mount_files
from vidgen.errors import (
    InvalidInput,
    NotFound,
    QueueUnavailable,
    Refused,
    StoreBusy,
    VidgenError,
)
from vidgen.settings import Settings, load_settings
from vidgen.web.responses import MAX_BODY_BYTES, detail_response, render_json_detail
from vidgen.web.server import DEFAULT_REQUEST_TIMEOUT

# Every route of the app, by resource, in the order they are added (the OpenAPI order).
API_ROUTERS: list[Callable[[FastAPI, Callable[[], Settings]], None]] = [
    ops_routes.add_routes,
    job_routes.add_routes,
    video_routes.add_routes,
    publication_routes.add_routes,
    dashboard_routes.add_routes,
]

ERROR_STATUS: list[tuple[type[VidgenError], int]] = [
    (NotFound, 404),
    (Refused, 400),
    (InvalidInput, 422),
    (StoreBusy, 503),
    (QueueUnavailable, 503),  # QueueDamaged too: a running worker or `vidgen recover` fixes it
]


def status_for(exc: VidgenError) -> int:
    for kind, code in ERROR_STATUS:
        if isinstance(exc, kind):
            return code
    return 500


class BodyLimit:
    """Reject bodies over MAX_BODY_BYTES, declared or streamed (chunked), or not all sent within
    ``timeout`` seconds (a client dribbling its body held the connection forever), before a
    route runs. It sits inside the token check (``create_app`` adds it first), so a client
    without the token never makes the server read a body at all.

    The body is read here, up to the limit, and replayed to the app: a limit enforced inside the
    route's own read would surface as FastAPI's generic 400 "error parsing the body". Every
    refusal closes the connection: the rest of the body is never read.
    """

    def __init__(self, app: ASGIApp, timeout: float = DEFAULT_REQUEST_TIMEOUT) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and not declared.isdigit():
            await _reply(send, 400, "Content-Length must be a whole number of bytes")
            return
        if declared is not None and int(declared) > MAX_BODY_BYTES:
            await _too_large(send)
            return
        chunks: list[bytes] = []
        seen = 0
        deadline = asyncio.get_running_loop().time() + self.timeout
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                await _reply(
                    send,
                    408,
                    f"request body not received within {self.timeout:g} s: send it at once",
                )
                return
            if message["type"] != "http.request":  # client went away: let the app see that
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > MAX_BODY_BYTES:
                await _too_large(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if _json_body(scope) and (key := duplicate_key(body)) is not None:
            await _reply(
                send,
                422,
                f"duplicate key {key[:60]!r} in the JSON body: send each field once",
                close=False,
            )
            return
        whole: Message = {"type": "http.request", "body": body, "more_body": False}
        await self.app(scope, _replay([whole], receive), send)


def _json_body(scope: Scope) -> bool:
    """FastAPI reads a body as JSON when it says so, or says nothing."""
    kind = dict(scope.get("headers") or []).get(b"content-type", b"").split(b";")[0].strip()
    return not kind or kind.endswith(b"json")


def duplicate_key(body: bytes) -> str | None:
    """The first key an object of ``body`` repeats, or None (also for a body that is not JSON:
    FastAPI says what is wrong with that). ``json.loads`` keeps the last of two equal keys, so
    ``{"theme": "a", "theme": "b"}`` silently meant "b"; the YAML loaders refuse it too."""
    repeated: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _value in items:
            if key in seen and not repeated:
                repeated.append(key)
            seen.add(key)
        return dict(items)

    if not body.strip():
        return None
    try:
        json.loads(body, object_pairs_hook=pairs)
    except (ValueError, RecursionError):
        return None
    return repeated[0] if repeated else None


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


async def _too_large(send: Send) -> None:
    await _reply(send, 413, f"request body larger than {MAX_BODY_BYTES} bytes")


async def _reply(send: Send, status: int, message: str, close: bool = True) -> None:
    """The error body; ``close``: the rest of the request was not read, so end the connection."""
    body = render_json_detail(message)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _shown(value: Any, limit: int = 60, raw: bool = False) -> str:
    """A value as the client sent it: query and path values raw, body values as JSON."""
    if raw and isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def validation_detail(errors: list[Any], path: str = "") -> tuple[int, str]:
    """FastAPI's list of field errors as one line that names the value and what to send.

    A body that is not JSON at all is a 400 (malformed); anything else is a 422.
    """
    first = errors[0] if errors else {}
    kind = str(first.get("type", ""))
    loc = [str(part) for part in first.get("loc", ())]
    message = str(first.get("msg", "invalid input"))
    if kind == "json_invalid":
        reason = (first.get("ctx") or {}).get("error", "JSON decode error")
        at = f" at character {loc[1]}" if len(loc) > 1 else ""
        return 400, (
            f'request body is not valid JSON ({reason}{at}): send an object like {{"theme": "..."}}'
        )
    where, name = (loc[0], ".".join(loc[1:])) if loc else ("request", "")
    value = first.get("input")
    if kind == "extra_forbidden":
        line = f"unknown field {_shown(name)} in the body: check its spelling"
    elif where == "body" and not name:
        line = f"body {_shown(value)}: {message}"
        if kind in ("model_attributes_type", "dict_type", "model_type"):
            line = (
                f"body {_shown(value)} is not a JSON object: "
                + 'send an object like {"theme": "..."}'
            )
    elif kind == "missing":
        line = f"{where} field {name!r} is missing: {message}"
    elif where == "query":
        line = f"{name}={_shown(value, raw=True)}: {message}"
    elif kind == "id_digits":  # vidgen.ids: the message already shows the value
        line = f"{_shown(path, 120, raw=True) if where == 'path' else where}: {name} {message}"
    elif where == "path":
        line = f"{_shown(path, 120, raw=True)}: {name} {_shown(value)}: {message}"
    else:
        line = f"{where} field {name!r} = {_shown(value)}: {message}"
    more = len(errors) - 1
    if more > 0:
        line += f" (and {more} more problem{'s' if more > 1 else ''})"
    return 422, line


def create_app(
    settings: Settings | None = None,
    *,
    allowed_hosts: list[str] | None = None,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
) -> FastAPI:
    """The app. ``allowed_hosts``: Host header names to accept (``vidgen serve`` passes its
    loopback names when no token is set, so a DNS-rebinding page cannot reach the API).
    ``request_timeout``: seconds a client may take to send a request body."""

    def current() -> Settings:
        return settings if settings is not None else load_settings()

    app = FastAPI(
        title="vidgen",
        version=__version__,
        description="Queue, watch and retry short-video jobs. Same service as the vidgen CLI. "
        "With VIDGEN_API_TOKEN set, send `Authorization: Bearer <token>` (the dashboard at / "
        "and these docs use a session cookie instead, after asking for the token once).",
        docs_url=None,  # served offline by vidgen.web, from files in a Python package
        redoc_url=None,
    )

    @app.exception_handler(VidgenError)
    async def _vidgen_error(request: Request, exc: VidgenError) -> Response:
        return detail_response(str(exc), status_for(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            # FastAPI's words for a body that is not UTF-8 JSON; say what to send instead.
            return detail_response(
                'request body is not UTF-8 JSON: send an object like {"theme": "..."}', 400
            )
        return detail_response(str(exc.detail), exc.status_code, **(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
        status_code, line = validation_detail(list(exc.errors()), request.url.path)
        return detail_response(line, status_code)

    from vidgen.web.security import add_guard

    # Added first, so it runs after the guard: no body is read for a client without the token.
    app.add_middleware(BodyLimit, timeout=request_timeout)
    add_guard(app, current, allowed_hosts)

    for add_routes in API_ROUTERS:
        add_routes(app, current)
    mount_files(app)
    return app
