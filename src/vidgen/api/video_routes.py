"""The videos' routes: list, approve and reject (by video id or by job id), and a video's files.

The twins of ``vidgen videos``, ``approve`` and ``reject``; the files (the MP4, its thumbnail,
its .srt) are looked up by the video's id through the service: a request never names a path.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Body, FastAPI, Query, Request
from fastapi.responses import FileResponse, Response

from vidgen import service
from vidgen.ids import Id
from vidgen.review_folders import MAX_REASON_CHARS
from vidgen.schemas import VideoFileKind
from vidgen.settings import Settings
from vidgen.web.responses import errors
from vidgen.web.responses import json_response as _json


def add_routes(app: FastAPI, current: Callable[[], Settings]) -> None:
    from vidgen.schemas import VideoListResponse, VideoResponse

    @app.get("/api/videos", response_model=VideoListResponse, responses=errors(401, 422))
    def videos(
        status: Annotated[str | None, Query(max_length=20)] = None,
        limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = 20,
    ) -> Response:
        return _json(service.list_videos(current(), status, limit))

    @app.post(
        "/api/videos/{video_id}/approve",
        response_model=VideoResponse,
        responses=errors(400, 401, 403, 404, 422),
    )
    def approve(video_id: Id) -> Response:
        return _json(service.approve_video(current(), video_id))

    @app.post(
        "/api/videos/{video_id}/reject",
        response_model=VideoResponse,
        responses=errors(400, 401, 403, 404, 413, 422),
    )
    def reject(
        video_id: Id,
        reason: Annotated[str, Body(embed=True, min_length=1, max_length=MAX_REASON_CHARS)],
    ) -> Response:
        return _json(service.reject_video(current(), video_id, reason))

    # The same by job id, the id a user sees everywhere (vidgen approve JOB_ID).
    @app.post(
        "/api/jobs/{job_id}/approve",
        response_model=VideoResponse,
        responses=errors(400, 401, 403, 404, 422),
    )
    def approve_job(job_id: Id) -> Response:
        return _json(service.approve_job(current(), job_id))

    @app.post(
        "/api/jobs/{job_id}/reject",
        response_model=VideoResponse,
        responses=errors(400, 401, 403, 404, 413, 422),
    )
    def reject_job(
        job_id: Id,
        reason: Annotated[str, Body(embed=True, min_length=1, max_length=MAX_REASON_CHARS)],
    ) -> Response:
        return _json(service.reject_job(current(), job_id, reason))

    media: dict[str, dict[str, Any]] = {
        mt: {} for _suffix, mt in service.VIDEO_MEDIA_TYPES.values()
    }

    @app.get(
        "/api/videos/{video_id}/files/{kind}",
        response_class=FileResponse,
        responses={
            200: {"description": "The file (Range requests answered 206)", "content": media},
            206: {"description": "Part of the file, for a Range request", "content": media},
            **errors(400, 401, 404, 416, 422),
        },
        summary="A published file of a video: the MP4, its thumbnail or its .srt captions",
    )
    def video_file(video_id: Id, kind: VideoFileKind, request: Request) -> Response:
        found = service.video_file(current(), video_id, kind)
        refused = _range_problem(request, Path(found.path))
        if refused is not None:
            return refused
        return FileResponse(
            found.path,
            media_type=found.media_type,
            headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
            content_disposition_type="inline",
            filename=Path(found.path).name,
        )


def _range_problem(request: Request, path: Path) -> Response | None:
    """The JSON error for a Range header the file cannot satisfy, or None: Starlette's own
    answer is a text/plain 400 or an empty 416, unlike every other error of the API."""
    from starlette.responses import MalformedRangeHeader, RangeNotSatisfiable

    from vidgen.web.responses import detail_response

    http_range = request.headers.get("range")
    if http_range is None or request.headers.get("if-range") is not None:
        return None  # no range, or one FileResponse may ignore (If-Range): it decides
    try:
        size = path.stat().st_size
    except OSError:
        return None  # FileResponse reports a file that went away
    try:
        FileResponse._parse_range_header(http_range, size)
    except MalformedRangeHeader as exc:
        return detail_response(f"bad Range header {http_range!r}: {exc.content}", 400)
    except RangeNotSatisfiable:
        return detail_response(
            f"Range {http_range!r} is outside the file ({size} bytes)",
            416,
            **{"Content-Range": f"bytes */{size}"},
        )
    return None
