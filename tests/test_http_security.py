"""The HTTP shim's guard rails: loopback by default, a token for anything else, bearer auth on
every route but /api/health, config_path confined to the themes folder, bounded bodies."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from conftest import SAMPLE_CONFIG, CliResult
from vidgen.api.app import create_app
from vidgen.web.responses import MAX_BODY_BYTES
from vidgen.web.security import is_public

Cli = Callable[..., CliResult]
TOKEN = "s3cret-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def client(home: Path) -> Iterator[TestClient]:
    with TestClient(create_app(), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Replace uvicorn.run: record what `vidgen serve` would bind instead of serving."""
    import uvicorn

    calls: list[dict[str, Any]] = []
    keep = ("host", "port", "log_level")  # not the protocol class (tests/test_slow_clients.py)
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({k: kw[k] for k in keep}))
    return calls


# -- where serve listens ---------------------------------------------------------------------


def test_serve_binds_loopback_by_default(cli: Cli, served: list[dict[str, Any]]) -> None:
    port = free_port()
    assert cli("serve", "--port", str(port)).code == 0
    assert served == [{"host": "127.0.0.1", "port": port, "log_level": "info"}]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.0.0.2", "::1"])
def test_loopback_hosts_need_no_token(cli: Cli, served: list[dict[str, Any]], host: str) -> None:
    result = cli("serve", "--host", host, "--port", str(free_port()))
    if result.code != 0 and "not an address of this machine" in result.err:
        pytest.skip(f"{host} is not available on this machine")
    assert result.code == 0, result.err
    assert served[0]["host"] == host


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.1", "example.com", "::ffff:127.0.0.1"]
)
def test_non_loopback_host_is_refused_without_a_token(
    cli: Cli, served: list[dict[str, Any]], host: str
) -> None:
    result = cli("serve", "--host", host)
    assert result.code == 2
    assert result.err.strip() == (
        f"Error: refusing to listen on {host} without VIDGEN_API_TOKEN: set a token "
        "(clients then send Authorization: Bearer <token>) or bind to 127.0.0.1"
    )
    assert served == []


def test_non_loopback_host_is_allowed_with_a_token(
    cli: Cli, served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIDGEN_API_TOKEN", TOKEN)
    port = free_port()
    assert cli("serve", "--host", "0.0.0.0", "--port", str(port)).code == 0
    assert served == [{"host": "0.0.0.0", "port": port, "log_level": "info"}]


def test_serve_reports_a_busy_port_and_a_foreign_host(
    cli: Cli, served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli("serve", "--port", str(port))
    assert result.code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.err and "--port" in result.err
    monkeypatch.setenv("VIDGEN_API_TOKEN", TOKEN)
    result = cli("serve", "--host", "no-such-host.invalid")
    assert result.code == 2 and "cannot use --host 'no-such-host.invalid'" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert served == []


# -- bearer token ----------------------------------------------------------------------------


def _all_paths(client: TestClient) -> list[tuple[str, str]]:
    """Every route the app has (API, dashboard, /docs, /openapi.json...) but the public login
    form and static files (tested in test_dashboard_http.py), with a concrete path."""
    out = []
    for route in client.app.routes:  # type: ignore[attr-defined]
        path = route.path.replace("{job_id}", "1").replace("{video_id}", "1")
        path = path.replace("{kind}", "video")
        if is_public(path) and path != "/api/health":
            continue
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            if method != "HEAD":
                out.append((method, path))
    return out


def test_token_guards_every_route_but_health(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIDGEN_API_TOKEN", TOKEN)
    # Hundreds of wrong tokens from one address: the back-off (tests/test_token_guessing.py)
    # would answer 429; this test is about which routes are guarded.
    from vidgen.web.security import WrongTokens

    monkeypatch.setattr(WrongTokens, "FREE", 10**9)
    paths = _all_paths(client)
    assert {p for _, p in paths} >= {
        "/api/generate",
        "/api/jobs",
        "/api/jobs/1",
        "/api/jobs/1/detail",
        "/api/jobs/1/retry",
        "/api/videos",
        "/api/videos/1/approve",
        "/api/videos/1/reject",
        "/api/recover",
        "/api/health",
        "/docs",
        "/openapi.json",
        "/",
        "/jobs/1",
        "/api/dashboard/jobs",
        "/api/dashboard/jobs/1",
        "/api/videos/1/files/video",
    }
    bad_headers: list[dict[str, str]] = [
        {},
        {"Authorization": TOKEN},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
        {"Authorization": "Bearer "},
        {"X-API-Token": TOKEN},
    ]
    for method, path in [*paths, ("GET", "/no/such/route"), ("GET", "/api/health/")]:
        if path == "/api/health":
            continue
        for headers in bad_headers:
            response = client.request(method, path, headers=headers)
            assert response.status_code == 401, (method, path, headers, response.text)
            assert response.headers["www-authenticate"] == "Bearer"
            assert "Authorization: Bearer <token>" in response.json()["detail"]
        query = client.request(method, f"{path}?token={TOKEN}&access_token={TOKEN}")
        assert query.status_code == 401
    assert client.get("/api/health").status_code == 200
    assert client.get("/api/health", headers={"Authorization": "Bearer wrong"}).status_code == 200


def test_right_token_opens_every_route(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDGEN_API_TOKEN", TOKEN)
    for method, path in _all_paths(client):
        response = client.request(method, path, headers=AUTH)
        assert response.status_code not in (401, 500), (method, path, response.text)
    assert client.get("/openapi.json", headers=AUTH).json()["info"]["title"] == "vidgen"
    assert "swagger" in client.get("/docs", headers=AUTH).text.lower()
    lower = {"Authorization": f"bearer {TOKEN}"}
    assert client.get("/api/jobs", headers=lower).status_code == 200  # scheme is case-blind


def test_without_a_token_nothing_asks_for_one(client: TestClient) -> None:
    assert client.get("/api/jobs").status_code == 200
    assert client.get("/openapi.json").status_code == 200


def test_health_shows_no_password(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDGEN_API_TOKEN", TOKEN)
    monkeypatch.setenv("VIDGEN_QUEUE_URL", "redis://:hunter2@queue.example:6379/0")
    body = client.get("/api/health").json()
    assert "hunter2" not in json.dumps(body)
    assert body["queue"] == "redis://:***@queue.example:6379/0"


# -- config_path confinement -----------------------------------------------------------------


@pytest.fixture
def themes(home: Path) -> Path:
    folder = home / "themes"
    (folder / "nested").mkdir(parents=True)
    (folder / "ok.yml").write_text(SAMPLE_CONFIG.read_text())
    (folder / "nested" / "deep.yml").write_text(SAMPLE_CONFIG.read_text())
    return folder


def _generate(client: TestClient, config_path: str) -> httpx.Response:
    return client.post("/api/generate", json={"config_path": config_path})


@pytest.mark.parametrize(
    "name", ["ok.yml", "./ok.yml", "nested/deep.yml", "nested/../ok.yml", "nested//deep.yml"]
)
def test_relative_names_inside_the_themes_folder_work(
    client: TestClient, themes: Path, name: str
) -> None:
    response = _generate(client, name)
    assert response.status_code == 200, response.text
    detail = client.get("/api/jobs/1/detail").json()
    assert Path(detail["config_path"]).resolve().parent in (themes, themes / "nested")


def test_absolute_path_inside_the_themes_folder_works(client: TestClient, themes: Path) -> None:
    assert _generate(client, str(themes / "nested" / "deep.yml")).status_code == 200


def test_links_that_stay_inside_work(client: TestClient, themes: Path) -> None:
    (themes / "alias.yml").symlink_to(themes / "ok.yml")
    (themes / "linked-dir").symlink_to(themes / "nested")
    assert _generate(client, "alias.yml").status_code == 200
    assert _generate(client, "linked-dir/deep.yml").status_code == 200


def test_escapes_are_refused(client: TestClient, themes: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "evil.yml").write_text(SAMPLE_CONFIG.read_text())
    sibling = themes.parent / "themes-evil"  # shares the prefix "themes"
    sibling.mkdir()
    (sibling / "evil.yml").write_text(SAMPLE_CONFIG.read_text())
    (themes / "link.yml").symlink_to(outside / "evil.yml")
    (themes / "linkdir").symlink_to(outside)
    (themes / "relative-link.yml").symlink_to("../../outside/evil.yml")
    (themes / "loop.yml").symlink_to("loop.yml")
    refused = {
        "../outside/evil.yml": "outside the themes folder",
        "../themes-evil/evil.yml": "outside the themes folder",
        "nested/../../themes-evil/evil.yml": "outside the themes folder",
        "../../../../../../../../etc/passwd": "outside the themes folder",
        str(outside / "evil.yml"): "outside the themes folder",
        str(sibling / "evil.yml"): "outside the themes folder",
        "/etc/passwd": "outside the themes folder",
        str(SAMPLE_CONFIG): "outside the themes folder",
        "link.yml": "outside the themes folder",
        "linkdir/evil.yml": "outside the themes folder",
        "relative-link.yml": "outside the themes folder",
        "loop.yml": "cannot be resolved",
        "~/../../etc/passwd": "outside the themes folder",
        "~/.ssh/id_rsa": "not a file in the themes folder",  # no ~ expansion
        "nested": "not a file in the themes folder",
        ".": "not a file in the themes folder",
    }
    for name, needle in refused.items():
        response = _generate(client, name)
        assert response.status_code == 422, (name, response.text)
        assert needle in response.json()["detail"], (name, response.json())
    assert client.get("/api/jobs").json()["count"] == 0


def test_custom_themes_dir_is_the_only_root(
    client: TestClient, themes: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    custom = tmp_path / "my-themes"
    custom.mkdir()
    (custom / "mine.yml").write_text(SAMPLE_CONFIG.read_text())
    monkeypatch.setenv("VIDGEN_THEMES_DIR", str(custom))
    assert _generate(client, "mine.yml").status_code == 200
    default_one = _generate(client, "ok.yml")  # exists only in <home>/themes now
    assert default_one.status_code == 422
    assert str(custom) in default_one.json()["detail"]
    assert _generate(client, str(themes / "ok.yml")).status_code == 422


def test_cli_config_is_not_confined(cli: Cli, tmp_path: Path) -> None:
    """Confinement is for HTTP callers; the local user may point --config anywhere."""
    path = tmp_path / "anywhere.yml"
    path.write_text(SAMPLE_CONFIG.read_text())
    assert cli("generate", "--config", str(path)).code == 0


# -- body size -------------------------------------------------------------------------------


def _big_json(size: int) -> bytes:
    body = b'{"theme": "Running"' + b" " * size + b"}"  # a theme the sample covers
    return body


def _chunks(data: bytes, size: int = 4096) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/generate"),
        ("POST", "/api/videos/1/reject"),
        ("POST", "/api/recover"),
        ("POST", "/api/jobs/1/retry"),
        ("GET", "/api/jobs"),
    ],
)
def test_oversized_bodies_get_413(client: TestClient, home: Path, method: str, path: str) -> None:
    big = _big_json(MAX_BODY_BYTES + 1)
    headers = {"content-type": "application/json"}
    declared = client.request(method, path, content=big, headers=headers)
    assert declared.status_code == 413, declared.text
    assert "larger than 65536 bytes" in declared.json()["detail"]
    chunked = client.request(method, path, content=_chunks(big), headers=headers)
    assert chunked.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in chunked.request.headers
    assert chunked.status_code == 413, chunked.text
    assert client.get("/api/jobs").json()["count"] == 0


def test_lying_content_length_is_refused(client: TestClient) -> None:
    response = client.post(
        "/api/generate", content=b"{}", headers={"content-length": "abc", "content-type": "x"}
    )
    assert response.status_code == 400


def test_bodies_up_to_the_limit_are_read(client: TestClient) -> None:
    body = _big_json(MAX_BODY_BYTES - 20)
    assert len(body) <= MAX_BODY_BYTES
    headers = {"content-type": "application/json"}
    assert client.post("/api/generate", content=body, headers=headers).status_code == 200
    chunked = client.post("/api/generate", content=_chunks(body), headers=headers)
    assert chunked.status_code == 200, chunked.text
    assert client.get("/api/jobs").json()["count"] == 2


# -- a real server ---------------------------------------------------------------------------


def test_real_vidgen_serve_process(home: Path, tmp_path: Path) -> None:
    import yaml

    # The default config, with a reference the test's theme names (a theme nothing covers is
    # refused at generate).
    config = yaml.safe_load(SAMPLE_CONFIG.read_text())
    config["content_references"].append(
        {"title": "Live sale", "description": "A sale.", "talking_points": ["Half off."],
         "tags": ['über 50% "live" 🚀']}
    )  # fmt: skip
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.yml").write_text(yaml.safe_dump(config, allow_unicode=True))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDGEN_")}
    env.update(VIDGEN_HOME=str(home), VIDGEN_API_TOKEN=TOKEN, VIDGEN_PROFILE="preview")
    log = (tmp_path / "serve.log").open("w+")
    proc = subprocess.Popen(
        [str(VENV_BIN / "vidgen"), "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "vidgen serve did not come up"
            time.sleep(0.1)
        with httpx.Client(base_url=base, timeout=10) as http:
            assert http.get("/api/jobs").status_code == 401
            assert http.get("/openapi.json").status_code == 401
            http.headers.update(AUTH)
            created = http.post("/api/generate", json={"theme": 'über 50% "live" 🚀'})
            assert created.status_code == 200, created.text
            job_id = created.json()["job_id"]
            status = http.get(f"/api/jobs/{job_id}").json()
            assert status["theme"] == 'über 50% "live" 🚀' and status["status"] == "pending"
            assert http.get("/api/jobs/999").status_code == 404
            assert http.get("/api/jobs/abc").status_code == 422
            assert http.get("/api/jobs?limit=0").status_code == 422
            assert http.post(f"/api/jobs/{job_id}/retry").status_code == 400
            big = _big_json(MAX_BODY_BYTES + 1)
            json_type = {"content-type": "application/json"}
            assert http.post("/api/generate", content=big, headers=json_type).status_code == 413
            streamed = http.post("/api/generate", content=_chunks(big), headers=json_type)
            assert streamed.status_code == 413
            assert http.get("/api/jobs").json()["count"] == 1
        # Listening on loopback only: the log says so.
        assert f"Uvicorn running on http://127.0.0.1:{port}" in (tmp_path / "serve.log").read_text()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
