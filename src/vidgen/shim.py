"""The optional HTTP shim (``vidgen serve``, extra ``http``): the CLI's twin over HTTP.

Routes parse input, call ``vidgen.service`` and return ``render_json(model)`` - the exact bytes
``--json`` prints. Errors map to statuses here and only here. Security: a bearer token is required
on every route but /api/health when ``VIDGEN_API_TOKEN`` is set, request bodies are capped, and an
HTTP ``config_path`` is confined to the themes folder.
"""

from __future__ import annotations

import json
import secrets
from typing import Annotated, Any

from fastapi import Body, FastAPI, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vidgen import __version__, service
from vidgen.errors import InvalidInput, NotFound, Refused, StoreBusy, VidgenError
from vidgen.review import MAX_REASON_CHARS
from vidgen.schemas import (
    BatchEntry,
    BatchTriggerResponse,
    GenerateSkippedResponse,
    HealthResponse,
    JobCancelResponse,
    JobDetailResponse,
    JobListResponse,
    JobLogResponse,
    JobRetryRequest,
    JobRetryResponse,
    JobStatusResponse,
    PipelineTriggerRequest,
    PipelineTriggerResponse,
    PruneRequest,
    PruneResponse,
    RecoverResponse,
    render_json,
)
from vidgen.settings import Settings, load_settings

MAX_BODY_BYTES = 64 * 1024
ERROR_STATUS: list[tuple[type[VidgenError], int]] = [
    (NotFound, 404),
    (Refused, 400),
    (InvalidInput, 422),
    (StoreBusy, 503),
]


def status_for(exc: VidgenError) -> int:
    for kind, code in ERROR_STATUS:
        if isinstance(exc, kind):
            return code
    return 503 if type(exc).__name__ == "QueueUnavailable" else 500


def _json(model: Any) -> Response:
    return Response(content=render_json(model), media_type="application/json")


class BodyLimit:
    """Reject bodies over MAX_BODY_BYTES, declared or streamed (chunked), before a route runs.

    The body is read here, up to the limit, and replayed to the app: a limit enforced inside the
    route's own read would surface as FastAPI's generic 400 "error parsing the body".
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

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
        while True:
            message = await receive()
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
        whole: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([whole], receive), send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


async def _too_large(send: Send) -> None:
    await _reply(send, 413, f"request body larger than {MAX_BODY_BYTES} bytes")


async def _reply(send: Send, status: int, message: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": render_json_detail(message)})


class ErrorResponse(BaseModel):
    """Every error body. ``detail`` is one line saying what to fix, or, when FastAPI itself
    rejects a parameter or body, its list of field errors."""

    detail: str | list[dict[str, Any]]


_ERROR_MEANING = {
    400: "Refused in the current state (e.g. retrying a job that has not failed, cancelling "
    "one that ended), "
    "or a body that is not UTF-8 JSON",
    401: "Missing or wrong bearer token (only when VIDGEN_API_TOKEN is set)",
    404: "No such job or video",
    413: f"Request body larger than {MAX_BODY_BYTES} bytes",
    422: "Invalid input; the detail says what to fix",
    503: "The job store or queue is unavailable",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error statuses a route can answer."""
    return {code: {"model": ErrorResponse, "description": _ERROR_MEANING[code]} for code in codes}


def render_json_detail(message: str) -> bytes:
    return json.dumps({"detail": message}, ensure_ascii=False).encode()


def create_app(settings: Settings | None = None) -> FastAPI:
    def current() -> Settings:
        return settings if settings is not None else load_settings()

    app = FastAPI(
        title="vidgen",
        version=__version__,
        description="Queue, watch and retry short-video jobs. Same service as the vidgen CLI.",
    )

    @app.exception_handler(VidgenError)
    async def _vidgen_error(request: Request, exc: VidgenError) -> JSONResponse:
        return JSONResponse({"detail": " ".join(str(exc).split())}, status_code=status_for(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            # FastAPI's words for a body that is not UTF-8 JSON; say what to send instead.
            return JSONResponse(
                {"detail": 'request body is not UTF-8 JSON: send an object like {"theme": "..."}'},
                status_code=400,
            )
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
        # FastAPI's own handler echoes the input back and answers 500 when it holds a lone
        # surrogate ("\ud800" in JSON) that UTF-8 cannot encode; escape those instead.
        body = json.dumps(
            {"detail": jsonable_encoder(exc.errors())},
            ensure_ascii=False,
            separators=(",", ":"),
            default=str,
        )
        data = body.encode("utf-8", errors="backslashreplace")
        return Response(content=data, status_code=422, media_type="application/json")

    @app.middleware("http")
    async def _auth(request: Request, call_next: Any) -> Response:
        try:
            token = current().api_token
        except VidgenError as exc:
            return JSONResponse({"detail": " ".join(str(exc).split())}, status_code=503)
        if token and request.url.path != "/api/health":
            scheme, _, given = request.headers.get("authorization", "").partition(" ")
            # The scheme is case-insensitive (RFC 9110); the token is compared in constant time.
            if scheme.lower() != "bearer" or not secrets.compare_digest(
                given.encode(), token.encode()
            ):
                return JSONResponse(
                    {"detail": "missing or wrong bearer token: send Authorization: Bearer <token>"},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
        response: Response = await call_next(request)
        return response

    @app.get("/api/health", response_model=HealthResponse)
    def health() -> Response:
        # Unauthenticated route: service.health never shows a password from a URL.
        return _json(service.health(current()))

    @app.post(
        "/api/generate",
        response_model=PipelineTriggerResponse | GenerateSkippedResponse,
        responses=errors(400, 401, 413, 422),
    )
    def generate(body: Annotated[PipelineTriggerRequest | None, Body()] = None) -> Response:
        request = body or PipelineTriggerRequest()
        return _json(
            service.generate(
                current(),
                request.theme,
                request.config_path,
                confine_config=True,
                skip_if_queued=request.skip_if_queued,
            )
        )

    _add_ops_routes(app, current)

    @app.get("/api/jobs", response_model=JobListResponse, responses=errors(401, 422))
    def jobs(
        status: Annotated[str | None, Query(max_length=20)] = None,
        limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = 20,
        offset: Annotated[int, Query(ge=0, le=service.MAX_OFFSET)] = 0,
    ) -> Response:
        return _json(service.list_jobs(current(), status, limit, offset))

    @app.get(
        "/api/jobs/{job_id}", response_model=JobStatusResponse, responses=errors(401, 404, 422)
    )
    def job_status(job_id: int) -> Response:
        return _json(service.job_status(current(), job_id))

    @app.get(
        "/api/jobs/{job_id}/detail",
        response_model=JobDetailResponse,
        responses=errors(401, 404, 422),
    )
    def job_detail(job_id: int) -> Response:
        return _json(service.job_detail(current(), job_id))

    @app.post(
        "/api/jobs/{job_id}/retry",
        response_model=JobRetryResponse,
        responses=errors(400, 401, 404, 422, 503),
    )
    def retry(job_id: int, body: Annotated[JobRetryRequest | None, Body()] = None) -> Response:
        request = body or JobRetryRequest()
        return _json(
            service.retry(current(), job_id, request.from_stage, dry_run=request.dry_run)
        )

    @app.post(
        "/api/jobs/{job_id}/cancel",
        response_model=JobCancelResponse,
        responses=errors(400, 401, 404, 422),
    )
    def cancel(job_id: int) -> Response:
        return _json(service.cancel_job(current(), job_id))

    @app.get(
        "/api/jobs/{job_id}/logs",
        response_model=JobLogResponse,
        responses=errors(401, 404, 422),
    )
    def job_logs(
        job_id: int,
        after: Annotated[int | None, Query(ge=0, le=service.MAX_JOB_ID)] = None,
    ) -> Response:
        return _json(service.job_logs(current(), job_id, after=after))

    @app.post("/api/recover", response_model=RecoverResponse, responses=errors(401, 503))
    def recover() -> Response:
        return _json(service.recover(current()))

    _add_video_routes(app, current)
    app.add_middleware(BodyLimit)
    return app


def _add_ops_routes(app: FastAPI, current: Any) -> None:
    """Batch generate and prune: the twins of ``generate --batch`` and ``prune``."""

    @app.post(
        "/api/generate/batch",
        response_model=BatchTriggerResponse,
        responses=errors(400, 401, 413, 422),
    )
    def generate_batch(
        body: Annotated[list[BatchEntry], Body(max_length=service.MAX_BATCH)],
    ) -> Response:
        return _json(service.generate_batch(current(), body, confine_config=True))

    @app.post("/api/prune", response_model=PruneResponse, responses=errors(400, 401, 413, 422))
    def prune(body: PruneRequest) -> Response:
        return _json(
            service.prune(current(), body.older_than, dry_run=body.dry_run, rejected=body.rejected)
        )


def _add_video_routes(app: FastAPI, current: Any) -> None:
    from vidgen.review import VideoListResponse, VideoResponse

    @app.get("/api/videos", response_model=VideoListResponse, responses=errors(401, 422))
    def videos(
        status: Annotated[str | None, Query(max_length=20)] = None,
        limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = 20,
    ) -> Response:
        return _json(service.list_videos(current(), status, limit))

    @app.post(
        "/api/videos/{video_id}/approve",
        response_model=VideoResponse,
        responses=errors(400, 401, 404, 422),
    )
    def approve(video_id: int) -> Response:
        return _json(service.approve_video(current(), video_id))

    @app.post(
        "/api/videos/{video_id}/reject",
        response_model=VideoResponse,
        responses=errors(400, 401, 404, 413, 422),
    )
    def reject(
        video_id: int,
        reason: Annotated[str, Body(embed=True, min_length=1, max_length=MAX_REASON_CHARS)],
    ) -> Response:
        return _json(service.reject_video(current(), video_id, reason))
