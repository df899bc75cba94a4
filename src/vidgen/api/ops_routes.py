"""The operator's routes: health (the one public route), prune and recover.

The twins of ``vidgen prune`` and ``vidgen recover``; health is what ``vidgen serve`` watchers poll.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.responses import Response

from vidgen import service
from vidgen.schemas import HealthResponse, PruneRequest, PruneResponse, RecoverResponse
from vidgen.settings import Settings
from vidgen.web.responses import errors
from vidgen.web.responses import json_response as _json


def add_routes(app: FastAPI, current: Callable[[], Settings]) -> None:
    @app.get("/api/health", response_model=HealthResponse)
    def health() -> Response:
        # Unauthenticated route: service.health never shows a password from a URL.
        return _json(service.health(current()))

    @app.post("/api/prune", response_model=PruneResponse, responses=errors(400, 401, 403, 413, 422))
    def prune(body: PruneRequest) -> Response:
        return _json(
            service.prune(current(), body.older_than, dry_run=body.dry_run, rejected=body.rejected)
        )

    @app.post("/api/recover", response_model=RecoverResponse, responses=errors(401, 403, 503))
    def recover() -> Response:
        return _json(service.recover(current()))
