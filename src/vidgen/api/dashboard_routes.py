"""The dashboard's routes: the page, its read models, the login and the offline docs.

Actions (generate, retry, cancel, approve, reject) and a video's files use the API's own routes
(``vidgen.api.job_routes``, ``video_routes``); the page adds only read models that gather what
one screen shows. Its files (templates, script, styles) ship in ``vidgen.web``.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from vidgen import service
from vidgen.ids import Id
from vidgen.schemas import JobCardListResponse, PublicationListResponse
from vidgen.settings import Settings
from vidgen.web.security import (
    SESSION_COOKIE,
    client_of,
    too_many_wrong_tokens,
    wrong_tokens,
)

STATIC = Path(str(resources.files("vidgen.web") / "static"))
TEMPLATES = Path(str(resources.files("vidgen.web") / "templates"))
# Pages are ours: scripts, styles, images and media only from this server.
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'; object-src 'none'"
)
# Swagger UI sets inline styles; everything still comes from this server.
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    # Not "no-referrer": with it Chromium sends "Origin: null" on the page's own form posts.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _docs_assets() -> Path:
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"


def _page(name: str, csp: str = PAGE_CSP, status_code: int = 200, **slots: str) -> HTMLResponse:
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    for key, value in slots.items():
        text = text.replace("{{" + key + "}}", html.escape(value, quote=True))
    return HTMLResponse(
        text, status_code=status_code, headers={**PAGE_HEADERS, "Content-Security-Policy": csp}
    )


def _features(app: FastAPI) -> str:
    """Which optional API routes this server has, for the page to show their buttons."""
    paths = {getattr(route, "path", "") for route in app.routes}
    wanted = {"cancel": "/api/jobs/{job_id}/cancel", "logs": "/api/jobs/{job_id}/logs"}
    return " ".join(name for name, path in wanted.items() if path in paths)


def _safe_next(raw: str | None) -> str:
    """Only a path on this server (never ``//elsewhere`` or a full URL) after logging in."""
    if not raw or not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return "/"
    return raw


def add_routes(app: FastAPI, current: Callable[[], Settings]) -> None:
    from vidgen.schemas import JobPageResponse
    from vidgen.web.responses import errors
    from vidgen.web.responses import json_response as _json

    def shell(request: Request) -> HTMLResponse:
        token = current().api_token
        return _page("index.html", features=_features(app), auth="token" if token else "none")

    @app.get("/", include_in_schema=False)
    def dashboard(request: Request) -> HTMLResponse:
        return shell(request)

    @app.get("/jobs/{job_id}", include_in_schema=False)
    def dashboard_job(request: Request, job_id: Id) -> HTMLResponse:
        return shell(request)

    @app.get("/login", include_in_schema=False)
    def login_form(request: Request, next: str | None = None) -> Response:
        if not current().api_token:
            return RedirectResponse(_safe_next(next), status_code=303)
        return _page("login.html", next=_safe_next(next), error="")

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        token = current().api_token
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        target = _safe_next((form.get("next") or ["/"])[0])
        if not token:
            return RedirectResponse(target, status_code=303)
        given = (form.get("token") or [""])[0].strip()
        from secrets import compare_digest

        if (blocked := too_many_wrong_tokens(request)) is not None:
            return blocked
        if not compare_digest(given.encode(), token.encode()):
            wrong_tokens(request).wrong(client_of(request))
            return _page(
                "login.html",
                status_code=401,
                next=target,
                error="That is not the token this server was started with.",
            )
        wrong_tokens(request).right(client_of(request))
        value, lifetime = service.start_session(current())
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            value,
            max_age=lifetime,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
        return response

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request) -> Response:
        # The session ends on the server: a copy of the cookie no longer opens anything.
        service.end_session(current(), request.cookies.get(SESSION_COOKIE, ""))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.get(
        "/api/dashboard/jobs",
        response_model=JobCardListResponse,
        responses=errors(401, 422),
        summary="Jobs with cost, title and video (the dashboard's list)",
    )
    def cards(
        status: Annotated[str | None, Query(max_length=20)] = None,
        limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = 20,
        offset: Annotated[int, Query(ge=0, le=service.MAX_OFFSET)] = 0,
    ) -> Response:
        return _json(service.job_cards(current(), status, limit, offset))

    @app.get(
        "/api/dashboard/jobs/{job_id}",
        response_model=JobPageResponse,
        responses=errors(401, 404, 422),
        summary="One job's stages, every attempt, plan, video and captions (the job page)",
    )
    def job_page(job_id: Id) -> Response:
        return _json(service.job_page(current(), job_id))

    @app.get(
        "/api/dashboard/videos/{video_id}/publications",
        response_model=PublicationListResponse,
        responses=errors(401, 404, 422),
        summary="One video's publications, oldest first (the job page's Publishing box)",
    )
    def video_publications(video_id: Id) -> Response:
        return _json(service.video_publications(current(), video_id))

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return _page("docs.html", csp=DOCS_CSP)


def mount_files(app: FastAPI) -> None:
    """The page's static files and the offline docs' assets, after every route."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/docs/assets", StaticFiles(directory=_docs_assets()), name="docs-assets")
