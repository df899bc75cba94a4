"""The dashboard's server side without a browser: one-line errors, offline docs, the session
cookie and its CSRF guard, the Host check, and files served only by video id."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import CliResult
from vidgen.api.app import create_app
from vidgen.web.security import CSRF_HEADER, SESSION_COOKIE

Cli = Callable[..., CliResult]
TOKEN = "dash-token-for-tests"
JSON = {"content-type": "application/json"}


@pytest.fixture
def client(home: Path) -> Iterator[TestClient]:
    with TestClient(create_app(), raise_server_exceptions=False) as test_client:
        yield test_client


def one_line(response: object, status: int) -> str:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/json"  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert list(body) == ["detail"] and isinstance(body["detail"], str), body
    assert "\n" not in body["detail"] and body["detail"].strip() == body["detail"]
    detail: str = body["detail"]
    return detail


# -- errors ----------------------------------------------------------------------------------


def test_validation_errors_are_one_line_naming_the_value(client: TestClient) -> None:
    assert one_line(client.get("/api/jobs?limit=0"), 422) == (
        "limit=0: Input should be greater than or equal to 1"
    )
    assert one_line(client.get("/api/jobs?offset=1.5"), 422).startswith("offset=1.5: ")
    detail = one_line(client.get("/api/jobs/abc"), 422)
    assert detail == "/api/jobs/abc: job_id 'abc' is not an id: write it in digits only, e.g. 12"
    assert one_line(client.post("/api/generate", json={"theem": "x"}), 422) == (
        'unknown field "theem" in the body: check its spelling'
    )
    assert "is not a JSON object" in one_line(client.post("/api/generate", json=[1]), 422)
    assert "theme" in one_line(client.post("/api/generate", json={"theme": 5}), 422)
    many = one_line(client.post("/api/generate", json={"theme": 5, "config_path": 6}), 422)
    assert many.endswith("(and 1 more problem)")
    missing = one_line(client.post("/api/videos/1/reject", json={}), 422)
    assert "reason" in missing and "missing" in missing


def test_malformed_bodies_are_400(client: TestClient) -> None:
    for raw in (b"{not json", b'{"theme": "ok"', b"[1,"):
        detail = one_line(client.post("/api/generate", content=raw, headers=JSON), 400)
        assert detail.startswith("request body is not valid JSON"), detail
    detail = one_line(
        client.post("/api/generate", content=b'{"theme":"caf\xe9"}', headers=JSON), 400
    )
    assert detail.startswith("request body is not UTF-8 JSON")
    assert client.get("/api/jobs").json()["count"] == 0


def test_http_wording_names_no_cli_flags(client: TestClient, cli: Cli) -> None:
    for response in (
        client.post("/api/generate", json={"theme": "  "}),
        client.post("/api/videos/1/reject", json={"reason": "   "}),
        client.get("/api/jobs?limit=0"),
        client.post("/api/generate", json={"config_path": "nosuch.yml"}),
    ):
        detail = one_line(response, 422)
        assert not re.search(r"(^|\s)--[a-z]", detail), detail
    cli("generate")
    assert "--" not in one_line(client.post("/api/jobs/1/retry"), 400)


def test_unknown_routes_and_methods_are_one_line(client: TestClient) -> None:
    assert one_line(client.get("/api/nope"), 404) == "Not Found"
    assert one_line(client.delete("/api/jobs"), 405) == "Method Not Allowed"


def test_error_bodies_are_documented_as_one_string(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    error = schema["components"]["schemas"]["ErrorResponse"]
    assert error["properties"]["detail"] == {"type": "string", "title": "Detail"}
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    generate = schema["paths"]["/api/generate"]["post"]["responses"]
    assert {"400", "422"} <= set(generate)
    assert "/api/videos/{video_id}/files/{kind}" in schema["paths"]


# -- docs and the page's own files -----------------------------------------------------------


def test_docs_load_only_files_served_here(client: TestClient) -> None:
    assert client.get("/redoc").status_code == 404  # ReDoc would fetch its logo from a CDN
    for page in ("/docs",):
        html = client.get(page).text
        urls = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert urls and all(url.startswith("/") and not url.startswith("//") for url in urls)
        for url in urls:
            asset = client.get(url)
            assert asset.status_code == 200 and len(asset.content) > 100, url
    assert "SwaggerUIBundle" in client.get("/docs/assets/swagger-ui-bundle.js").text
    page = client.get("/")
    assert (
        page.status_code == 200 and "default-src 'self'" in page.headers["content-security-policy"]
    )
    for url in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
        assert client.get(url).status_code == 200, url


def test_dashboard_is_not_imported_by_the_cli(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys, vidgen.cli.main; "
        "print(sorted(m for m in sys.modules "
        "if m.startswith(('vidgen.web', 'fastapi', 'vidgen.api'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


# -- the token, the cookie and cross-site requests -------------------------------------------


@pytest.fixture
def locked(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("VIDGEN_API_TOKEN", TOKEN)
    return client


def sign_in(client: TestClient, token: str = TOKEN) -> str:
    """Sign in through the login form, as the page does; returns the session cookie's value."""
    form = {"content-type": "application/x-www-form-urlencoded"}
    answer = client.post(
        "/login", content=f"token={token}&next=/".encode(), headers=form, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    value = answer.cookies.get(SESSION_COOKIE)
    assert value
    client.cookies.set(SESSION_COOKIE, value)
    return str(value)


def test_browser_is_sent_to_the_login_page(locked: TestClient) -> None:
    html = {"accept": "text/html,application/xhtml+xml"}
    for path in ("/", "/jobs/3", "/docs", "/openapi.json"):
        response = locked.get(path, headers=html, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith(
            "/login?next="
        )
    assert locked.get("/login").status_code == 200
    assert locked.get("/static/app.js").status_code == 200  # the page's code is public
    tab = locked.get("/api/jobs", headers=html, follow_redirects=False)
    assert tab.status_code == 303  # a browser tab, too
    one_line(locked.get("/api/jobs"), 401)  # scripts get the API's answer


def test_login_sets_an_httponly_strict_cookie_of_a_hash(locked: TestClient) -> None:
    form = {"content-type": "application/x-www-form-urlencoded"}
    wrong = locked.post("/login", content=b"token=nope&next=/", headers=form)
    assert wrong.status_code == 401 and "not the token" in wrong.text
    assert SESSION_COOKIE not in wrong.headers.get("set-cookie", "")
    ok = locked.post("/login", content=f"token={TOKEN}&next=/jobs/2".encode(), headers=form,
                     follow_redirects=False)  # fmt: skip
    assert ok.status_code == 303 and ok.headers["location"] == "/jobs/2"
    cookie = ok.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie and "Max-Age=43200" in cookie  # expires in 12 h
    assert TOKEN not in cookie
    # Random per sign-in, not one value for ever: two sign-ins, two sessions.
    assert sign_in(locked) != sign_in(locked)
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        body = f"token={TOKEN}&next={evil}".encode()
        away = locked.post("/login", content=body, headers=form, follow_redirects=False)
        assert away.headers["location"] == "/", evil


def test_logout_ends_the_session(locked: TestClient) -> None:
    value = sign_in(locked)
    assert locked.get("/api/jobs").status_code == 200
    out = locked.post("/logout", follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    cleared = out.headers["set-cookie"]
    assert cleared.startswith(f'{SESSION_COOKIE}=""') and "Max-Age=0" in cleared
    one_line(locked.post("/logout", headers={"origin": "http://evil.example"}), 403)
    # Ended on the server: a copy of the cookie kept from before opens nothing.
    locked.cookies.set(SESSION_COOKIE, value)
    one_line(locked.get("/api/jobs"), 401)


def test_cookie_opens_reads_and_writes_need_the_csrf_header(locked: TestClient, cli: Cli) -> None:
    cli("generate")
    sign_in(locked)
    assert locked.get("/api/jobs").status_code == 200
    assert locked.get("/openapi.json").status_code == 200
    assert "swagger-ui-bundle.js" in locked.get("/docs").text
    refused = one_line(locked.post("/api/generate"), 403)
    assert "X-Vidgen-Csrf: 1" in refused
    assert locked.post("/api/generate", headers={CSRF_HEADER: "1"}).status_code == 200
    locked.cookies.set(SESSION_COOKIE, "a-forged-session-value")
    one_line(locked.get("/api/jobs"), 401)
    # The bearer token still works on its own, without any header of the page's.
    locked.cookies.clear()
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert locked.post("/api/generate", headers=bearer).status_code == 200
    assert cli("jobs", "--json").json()["count"] == 3


@pytest.mark.parametrize("token", [None, TOKEN])
def test_cross_site_writes_are_refused(
    client: TestClient, cli: Cli, monkeypatch: pytest.MonkeyPatch, token: str | None
) -> None:
    if token:
        monkeypatch.setenv("VIDGEN_API_TOKEN", token)
        sign_in(client, token)
    page = {CSRF_HEADER: "1"}
    for headers in (
        {"origin": "http://evil.example"},
        {"origin": "null"},
        {"origin": "http://testserver.evil.example"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
    ):
        detail = one_line(client.post("/api/generate", headers={**page, **headers}), 403)
        assert detail.startswith("cross-site request refused")
    same = {"origin": "http://testserver", "sec-fetch-site": "same-origin", **page}
    assert client.post("/api/generate", headers=same).status_code == 200
    assert cli("jobs", "--json").json()["count"] == 1
    # Reading is harmless (a cross-site page cannot see the answer without CORS).
    assert client.get("/api/jobs", headers={"origin": "http://evil.example"}).status_code == 200


def test_serve_accepts_only_loopback_host_names_without_a_token(home: Path) -> None:
    app = create_app(allowed_hosts=["127.0.0.1", "localhost", "::1"])
    with TestClient(app, base_url="http://127.0.0.1:8000") as local:
        assert local.get("/api/jobs").status_code == 200
        assert local.get("/api/jobs", headers={"host": "localhost:8000"}).status_code == 200
        assert local.get("/api/jobs", headers={"host": "[::1]:8000"}).status_code == 200
        detail = one_line(local.get("/api/jobs", headers={"host": "rebind.evil.example"}), 400)
        assert "rebind.evil.example" in detail


# -- files by video id -------------------------------------------------------------------------


def test_files_are_served_by_video_id_only(
    client: TestClient, cli: Cli, stagekit: Path, drain: Callable[[], int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("STAGEKIT_COMPOSITION", "tinyvideo")
    monkeypatch.setenv("STAGEKIT_REVIEW", "real")
    cli("generate", "--theme", "tiny")
    drain()
    video = cli("videos", "--json").json()["videos"][0]
    whole = client.get(f"/api/videos/{video['id']}/files/video")
    assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.content == Path(video["video_path"]).read_bytes()
    part = client.get(f"/api/videos/{video['id']}/files/video", headers={"range": "bytes=10-99"})
    assert part.status_code == 206 and part.headers["content-type"] == "video/mp4"
    assert part.content == whole.content[10:100]
    assert part.headers["content-range"] == f"bytes 10-99/{len(whole.content)}"
    thumb = client.get(f"/api/videos/{video['id']}/files/thumbnail")
    assert thumb.headers["content-type"] == "image/jpeg" and thumb.content[:2] == b"\xff\xd8"
    one_line(client.get(f"/api/videos/{video['id']}/files/captions"), 404)  # no .srt yet
    Path(video["video_path"]).with_suffix(".srt").write_text(
        "1\n00:00:00,000 --> 00:00:01,000\nHi\n"
    )
    srt = client.get(f"/api/videos/{video['id']}/files/captions")
    assert srt.status_code == 200 and srt.text.endswith("Hi\n")
    assert client.get(f"/api/dashboard/jobs/{video['job_id']}").json()["captions_path"]
    # Nothing but the published files: no kinds of one's own, no paths, no other ids.
    assert one_line(client.get(f"/api/videos/{video['id']}/files/log"), 422).startswith("/api/")
    for url in ("/api/videos/99/files/video", "/api/videos/0/files/video"):
        one_line(client.get(url), 404)
    for url in (
        f"/api/videos/{video['id']}/files/..%2f..%2fvidgen.db",
        f"/api/videos/{video['id']}/files/video/../../../vidgen.db",
        "/static/../../service.py",
        "/static/%2e%2e/routes.py",
    ):
        assert client.get(url).status_code in (404, 422), url
    # After a decision the files move, and the same URL follows them.
    client.post(f"/api/videos/{video['id']}/approve")
    moved = client.get(f"/api/videos/{video['id']}/files/video")
    assert moved.status_code == 200 and moved.content == whole.content


def test_a_row_pointing_outside_the_output_folder_is_not_served(
    client: TestClient, cli: Cli, stagekit: Path, drain: Callable[[], int],
    monkeypatch: pytest.MonkeyPatch, settings: object,
) -> None:  # fmt: skip
    from sqlalchemy import update

    from vidgen.store import get_store
    from vidgen.store.models import Video

    monkeypatch.setenv("STAGEKIT_COMPOSITION", "tinyvideo")
    monkeypatch.setenv("STAGEKIT_REVIEW", "real")
    cli("generate")
    drain()
    secret = stagekit / "vidgen.db"
    with get_store(settings).write() as session:  # type: ignore[arg-type]
        session.execute(update(Video).values(video_path=str(secret)))
    one_line(client.get("/api/videos/1/files/video"), 404)


def test_dashboard_read_models(
    client: TestClient, cli: Cli, stagekit: Path, drain: Callable[[], int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("STAGEKIT_COMPOSITION", "fail:1")
    cli("generate", "--theme", "one")
    drain()
    monkeypatch.setenv("STAGEKIT_COMPOSITION", "fatal")
    cli("generate", "--theme", "two")
    drain()
    cards = client.get("/api/dashboard/jobs").json()
    assert cards["total"] == 2 and [job["theme"] for job in cards["jobs"]] == ["two", "one"]
    assert cards["jobs"][1]["status"] == "completed"
    assert cards["jobs"][1]["total_cost"] == pytest.approx(0.05)
    failed = client.get("/api/dashboard/jobs?status=failed").json()
    assert failed["total"] == 1 and failed["jobs"][0]["video_id"] is None
    page = client.get("/api/dashboard/jobs/1").json()
    composition = [a for a in page["attempts"] if a["stage"] == "composition"]
    assert [a["state"] for a in composition] == ["failed", "completed"]
    assert composition[0]["error"] == "composition scripted failure"
    assert page["job"]["status"] == cli("status", "1", "--json").json()["status"]
    kinds = [event["kind"] for event in page["events"]]
    assert kinds[0] == "job_claimed" and kinds[-1] == "job_completed"
    failed_event = next(e for e in page["events"] if e["kind"] == "stage_failed")
    assert failed_event["stage"] == "composition" and failed_event["attempt"] == 1
    assert "composition scripted failure" in failed_event["message"]
    one_line(client.get("/api/dashboard/jobs/9"), 404)
    one_line(client.get("/api/dashboard/jobs?status=bogus"), 422)


def test_the_page_offers_cancel_and_logs_because_the_server_has_them(home: Path) -> None:
    # The page feature-detects the routes; the shim registers both, so both are offered.
    with TestClient(create_app()) as client:
        assert 'data-features="cancel logs"' in client.get("/").text
        assert 'data-features="cancel logs"' in client.get("/jobs/1").text
