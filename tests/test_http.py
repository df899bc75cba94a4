"""The HTTP twins: same service, same JSON bytes as ``--json``, contract status codes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import SAMPLE_CONFIG, CliResult
from vidgen.api.app import create_app

Cli = Callable[..., CliResult]


@pytest.fixture
def client(home: Path) -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        yield test_client


def test_generate_accepts_an_empty_body(client: TestClient, cli: Cli) -> None:
    response = client.post("/api/generate")
    assert response.status_code == 200
    body = response.json()
    assert body["job_id"] == 1 and body["status"] == "queued"
    assert body["poll_url"] == "/api/jobs/1"
    assert body["message"] == "Pipeline execution started"
    assert cli("status", "1", "--json").json()["theme"] == "Product Demo"


def test_generate_with_theme_and_confined_config(client: TestClient, settings) -> None:  # type: ignore[no-untyped-def]
    settings.themes_root.mkdir(parents=True)
    (settings.themes_root / "demo.yml").write_text(SAMPLE_CONFIG.read_text())
    response = client.post("/api/generate", json={"theme": "Running", "config_path": "demo.yml"})
    assert response.status_code == 200, response.text
    job = client.get("/api/jobs/1").json()
    assert job["theme"] == "Running"
    outside = client.post("/api/generate", json={"config_path": str(SAMPLE_CONFIG)})
    assert outside.status_code == 422
    assert "outside the themes folder" in outside.json()["detail"]


def test_every_command_and_route_return_the_same_json(
    client: TestClient,
    cli: Cli,
    stagekit: Path,
    drain,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("STAGEKIT_COMPOSITION", "fatal")
    cli("generate", "--theme", "first")
    drain()
    monkeypatch.delenv("STAGEKIT_COMPOSITION")
    cli("generate", "--theme", "second")

    pairs = [
        (("status", "1", "--json"), ("GET", "/api/jobs/1")),
        (("status", "2", "--json"), ("GET", "/api/jobs/2")),
        (("jobs", "--json"), ("GET", "/api/jobs")),
        (("jobs", "--status", "failed", "--json"), ("GET", "/api/jobs?status=failed")),
        (
            ("jobs", "--limit", "1", "--offset", "1", "--json"),
            ("GET", "/api/jobs?limit=1&offset=1"),
        ),
        (("videos", "--json"), ("GET", "/api/videos")),
    ]
    for args, (method, url) in pairs:
        result = cli(*args)
        response = client.request(method, url)
        assert result.code == 0 and response.status_code == 200
        assert result.out.strip() == response.text, (args, url)

    retry_http = client.post("/api/jobs/1/retry")
    assert retry_http.status_code == 200
    body = retry_http.json()
    assert body["resume_from"] == "composition"
    assert body["skipping_stages"] == ["trend_collection", "trend_analysis", "content_generation"]
    drain()
    # Both retry twins produce the same document shape for the same job state.
    monkeypatch.setenv("STAGEKIT_REVIEW", "fatal")
    cli("generate", "--theme", "third")
    cli("generate", "--theme", "fourth")
    drain()
    via_cli = cli("retry", "3", "--json").json()
    via_http = client.post("/api/jobs/4/retry").json()
    for doc in (via_cli, via_http):
        doc.pop("job_id"), doc.pop("task_id"), doc.pop("message")
    assert via_cli == via_http


def test_errors_map_to_contract_status_codes(client: TestClient, cli: Cli) -> None:
    cli("generate")
    missing = client.get("/api/jobs/999")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Job 999 not found"}
    assert client.post("/api/jobs/999/retry").status_code == 404
    refused = client.post("/api/jobs/1/retry")
    assert refused.status_code == 400
    assert refused.json()["detail"] == (
        "Cannot retry job with status 'pending'. Only 'failed' jobs can be retried."
    )
    assert client.get("/api/jobs?status=bogus").status_code == 422
    assert client.get("/api/jobs?limit=0").status_code == 422
    assert client.get("/api/jobs/abc").status_code == 422


def test_health_and_openapi(client: TestClient) -> None:
    health = client.get("/api/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    schema = client.get("/openapi.json").json()
    for path in ("/api/generate", "/api/jobs", "/api/jobs/{job_id}", "/api/jobs/{job_id}/retry"):
        assert path in schema["paths"]
    assert client.get("/docs").status_code == 200
