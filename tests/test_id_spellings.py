"""Job, video and publication ids are digits only, on every command and route that takes one.

An outside trial found ``vidgen status 1.0`` showing job 1 and ``1_0`` naming job 10: Python's
``int()`` and pydantic's lax integers read ``1_0``, `` 1``, ``+1`` and non-ASCII digits. Every
such spelling is now a usage error (exit 2, one line; ``{"detail"}`` on stdout with ``--json``)
and an HTTP 422 with the JSON error body.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import CliResult, new_job
from vidgen.api.app import create_app

Cli = Callable[..., CliResult]

# Not "-1": the CLI reads it as an option (the HTTP cases below include it).
BAD_IDS = ["1.0", "1_0", " 1", "+1", "\u0661", "1 ", "0x1", "1e0", "\uff11"]

# Every command that takes an id, with {} where the id goes.
COMMANDS = [
    ("status", "{}"),
    ("status", "{}", "--watch"),
    ("logs", "{}"),
    ("cancel", "{}"),
    ("retry", "{}"),
    ("retry", "{}", "--from-stage", "composition", "--dry-run"),
    ("approve", "{}"),
    ("approve", "--video-id", "{}"),
    ("reject", "{}", "--reason", "no"),
    ("reject", "--video-id", "{}", "--reason", "no"),
    ("publish", "{}", "--to", "youtube"),
    ("publications", "cancel", "{}"),
]


def _with(args: tuple[str, ...], value: str) -> list[str]:
    return [value if part == "{}" else part for part in args]


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_commands_refuse_an_id_that_is_not_plain_digits(
    cli: Cli, args: tuple[str, ...], bad: str
) -> None:
    result = cli(*_with(args, bad))
    assert result.code == 2, (result.out, result.err)
    assert f"{bad!r} is not an id: write it in digits only" in result.err
    assert len(result.err.strip().splitlines()) == 1, result.err
    # With --json the same line arrives as the HTTP error body on stdout.
    as_json = cli(*_with(args, bad), "--json")
    assert as_json.code == 2
    assert "is not an id" in as_json.json()["detail"]


def test_the_job_a_bad_spelling_used_to_name_is_left_alone(cli: Cli) -> None:
    job_id = new_job(cli)
    assert job_id == 1
    for bad in ("1.0", " 1", "+1", "\u0661"):
        assert cli("cancel", bad).code == 2
    assert cli("status", "1", "--json").json()["status"] == "pending"
    # Plain digits, leading zeros included, still name the job.
    assert cli("status", "01", "--json").json()["id"] == 1
    assert cli("cancel", "1", "--json").json()["status"] == "cancelled"
    # A well-formed id of no job is "not found" (exit 1), not a usage error.
    missing = cli("status", "99999999999999999999999")
    assert missing.code == 1 and "not found" in missing.err


@pytest.fixture
def client(home: Path) -> Iterator[TestClient]:
    with TestClient(create_app(), raise_server_exceptions=False) as test_client:
        yield test_client


def _id_routes(client: TestClient) -> list[tuple[str, str]]:
    """(method, path template) of every route with an id in its path, from the app itself."""
    found: list[tuple[str, str]] = []
    for route in client.app.routes:  # type: ignore[attr-defined]
        path = getattr(route, "path", "")
        if any(name in path for name in ("{job_id}", "{video_id}", "{pub_id}")):
            for method in sorted(getattr(route, "methods", set()) - {"HEAD"}):
                found.append((method, path))
    return found


def test_every_route_with_an_id_is_covered(client: TestClient) -> None:
    routes = _id_routes(client)
    # Job, video and publication routes, the dashboard's page and read models included.
    assert ("GET", "/api/jobs/{job_id}") in routes
    assert ("POST", "/api/publications/{pub_id}/cancel") in routes
    assert ("GET", "/api/videos/{video_id}/files/{kind}") in routes
    assert ("GET", "/jobs/{job_id}") in routes
    assert len(routes) >= 15, routes


@pytest.mark.parametrize("bad", ["1.0", "1_0", "%201", "+1", "%D9%A1", "-1", "1e0"])
def test_routes_refuse_an_id_that_is_not_plain_digits(client: TestClient, bad: str) -> None:
    bodies = {"reject": {"reason": "no"}, "publish": {"to": "youtube"}}
    new = client.post("/api/generate", json={})
    assert new.status_code == 200, new.text
    for method, template in _id_routes(client):
        path = (
            template.replace("{job_id}", bad)
            .replace("{video_id}", bad)
            .replace("{pub_id}", bad)
            .replace("{kind}", "video")
        )
        body = next((b for word, b in bodies.items() if path.endswith(word)), None)
        answer = client.request(method, path, json=body)
        assert answer.status_code == 422, (method, path, answer.text)
        assert answer.headers["content-type"] == "application/json"
        detail = answer.json()["detail"]
        assert "is not an id: write it in digits only" in detail, detail
        assert "\n" not in detail
    assert client.get("/api/jobs/1").json()["status"] == "pending"


def test_a_log_cursor_is_an_id_too(client: TestClient) -> None:
    assert client.post("/api/generate", json={}).status_code == 200
    assert client.get("/api/jobs/1/logs?after=0").status_code == 200
    for bad in ("1.0", "1_0", "+1", "%201"):
        answer = client.get(f"/api/jobs/1/logs?after={bad}")
        assert answer.status_code == 422, answer.text
        assert "is not an id" in json.loads(answer.text)["detail"]
