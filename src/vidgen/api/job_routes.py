"""The jobs' routes: generate (one or a batch), list, status, detail, retry, cancel, logs.

The twins of ``vidgen generate [--batch]``, ``jobs``, ``status``, ``retry``, ``cancel``, ``logs``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Body, FastAPI, Query
from fastapi.responses import Response

from vidgen import service
from vidgen.ids import Id
from vidgen.schemas import (
    BatchEntry,
    BatchTriggerResponse,
    GenerateSkippedResponse,
    JobCancelResponse,
    JobDetailResponse,
    JobListResponse,
    JobLogResponse,
    JobRetryRequest,
    JobRetryResponse,
    JobStatusResponse,
    PipelineTriggerRequest,
    PipelineTriggerResponse,
)
from vidgen.settings import Settings
from vidgen.web.responses import errors
from vidgen.web.responses import json_response as _json


def add_routes(app: FastAPI, current: Callable[[], Settings]) -> None:
    @app.post(
        "/api/generate",
        response_model=PipelineTriggerResponse | GenerateSkippedResponse,
        responses=errors(400, 401, 403, 413, 422),
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

    @app.post(
        "/api/generate/batch",
        response_model=BatchTriggerResponse,
        responses=errors(400, 401, 403, 413, 422),
    )
    def generate_batch(
        body: Annotated[list[BatchEntry], Body(max_length=service.MAX_BATCH)],
    ) -> Response:
        return _json(service.generate_batch(current(), body, confine_config=True))

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
    def job_status(job_id: Id) -> Response:
        return _json(service.job_status(current(), job_id))

    @app.get(
        "/api/jobs/{job_id}/detail",
        response_model=JobDetailResponse,
        responses=errors(401, 404, 422),
    )
    def job_detail(job_id: Id) -> Response:
        return _json(service.job_detail(current(), job_id))

    @app.post(
        "/api/jobs/{job_id}/retry",
        response_model=JobRetryResponse,
        responses=errors(400, 401, 403, 404, 422, 503),
    )
    def retry(job_id: Id, body: Annotated[JobRetryRequest | None, Body()] = None) -> Response:
        request = body or JobRetryRequest()
        return _json(service.retry(current(), job_id, request.from_stage, dry_run=request.dry_run))

    @app.post(
        "/api/jobs/{job_id}/cancel",
        response_model=JobCancelResponse,
        responses=errors(400, 401, 403, 404, 422),
    )
    def cancel(job_id: Id) -> Response:
        return _json(service.cancel_job(current(), job_id))

    @app.get(
        "/api/jobs/{job_id}/logs",
        response_model=JobLogResponse,
        responses=errors(401, 404, 422),
    )
    def job_logs(
        job_id: Id,
        after: Annotated[Id | None, Query(ge=0, le=service.MAX_JOB_ID)] = None,
    ) -> Response:
        return _json(service.job_logs(current(), job_id, after=after))
