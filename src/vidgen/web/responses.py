"""The HTTP responses every route shares: JSON bodies as ``--json`` prints them, and errors as
``{"detail": "<one line>"}`` (with their OpenAPI description)."""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import Response
from pydantic import BaseModel

from vidgen.schemas import render_error, render_json

MAX_BODY_BYTES = 64 * 1024


def json_response(model: Any) -> Response:
    return Response(content=render_json(model), media_type="application/json")


class ErrorResponse(BaseModel):
    """Every error body: ``detail`` is one line saying what to fix."""

    detail: str


_ERROR_MEANING = {
    400: "Refused in the current state (e.g. retrying a job that has not failed, cancelling "
    "one that ended), "
    "or a body that is not UTF-8 JSON",
    401: "Missing or wrong bearer token (only when VIDGEN_API_TOKEN is set)",
    403: "A cross-site request from a browser, refused",
    404: "No such job or video",
    413: f"Request body larger than {MAX_BODY_BYTES} bytes",
    416: "A Range outside the file (Content-Range names its size)",
    422: "Invalid input; the detail says what to fix",
    503: "The job store or queue is unavailable",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error statuses a route can answer."""
    return {code: {"model": ErrorResponse, "description": _ERROR_MEANING[code]} for code in codes}


def render_json_detail(message: str) -> bytes:
    return json.dumps({"detail": message}, ensure_ascii=False).encode()


def detail_response(message: str, status_code: int, **headers: str) -> Response:
    """``{"detail": "<one line>"}``; a lone surrogate echoed from the input cannot break it."""
    data = render_error(message).encode()
    return Response(data, status_code=status_code, media_type="application/json", headers=headers)
