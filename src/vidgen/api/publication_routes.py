"""The publications' routes: publish a video, list, queue the due uploads, cancel.

The twins of ``vidgen publish``, ``publications``, ``publish --due``, ``publications cancel``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import FastAPI, Query
from fastapi.responses import Response

from vidgen import service
from vidgen.ids import Id
from vidgen.schemas import (
    PublicationListResponse,
    PublicationResponse,
    PublishDueResponse,
    PublishRequest,
)
from vidgen.settings import Settings
from vidgen.web.responses import errors
from vidgen.web.responses import json_response as _json


def add_routes(app: FastAPI, current: Callable[[], Settings]) -> None:
    @app.post(
        "/api/videos/{video_id}/publish",
        response_model=PublicationResponse,
        responses=errors(400, 401, 403, 404, 413, 422, 503),
    )
    def publish(video_id: Id, body: PublishRequest) -> Response:
        return _json(service.publish_video(current(), video_id, body.to, body.at, body.account))

    @app.get(
        "/api/publications", response_model=PublicationListResponse, responses=errors(401, 422)
    )
    def publications(
        status: Annotated[str | None, Query(max_length=20)] = None,
        limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = 20,
    ) -> Response:
        return _json(service.list_publications(current(), status, limit))

    @app.post(
        "/api/publications/due",
        response_model=PublishDueResponse,
        responses=errors(401, 403, 503),
    )
    def due() -> Response:
        return _json(service.publish_due(current()))

    @app.post(
        "/api/publications/{pub_id}/cancel",
        response_model=PublicationResponse,
        responses=errors(400, 401, 403, 404, 422),
    )
    def cancel_publication(pub_id: Id) -> Response:
        return _json(service.cancel_publication(current(), pub_id))
