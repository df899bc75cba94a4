"""A key given twice in an HTTP JSON body is refused, naming it, like the YAML loaders do.

Python's ``json`` keeps the last of two equal keys, so ``{"theme": "a", "theme": "b"}`` queued
a job for "b" without a word (an outside trial's finding; ``generate --batch`` files already
refused it). Every JSON body goes through the same check, before any route runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from vidgen.api.app import create_app

JSON = {"content-type": "application/json"}


@pytest.fixture
def client(home: Path) -> Iterator[TestClient]:
    with TestClient(create_app(), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("path", "body", "key"),
    [
        ("/api/generate", b'{"theme": "Running", "theme": "Desk lamp"}', "theme"),
        ("/api/generate", b'{"theme": "Running", "skip_if_queued": true, "skip_if_queued": 0}',
         "skip_if_queued"),
        ("/api/generate/batch", b'[{"theme": "Running"}, {"theme": "a", "theme": "b"}]', "theme"),
        ("/api/generate/batch", b'[{"theme": "Running", "config": "x.yml", "config": "y.yml"}]',
         "config"),
        ("/api/jobs/1/retry", b'{"from_stage": "composition", "from_stage": "review"}',
         "from_stage"),
        ("/api/jobs/1/reject", b'{"reason": "blurry", "reason": "fine"}', "reason"),
        ("/api/prune", b'{"older_than": "7d", "dry_run": true, "dry_run": false}', "dry_run"),
        ("/api/videos/1/publish", b'{"to": "youtube", "to": "tiktok"}', "to"),
    ],
)  # fmt: skip
def test_a_key_given_twice_is_refused_naming_it(
    client: TestClient, path: str, body: bytes, key: str
) -> None:
    answer = client.post(path, content=body, headers=JSON)
    assert answer.status_code == 422, answer.text
    assert answer.json() == {
        "detail": f"duplicate key '{key}' in the JSON body: send each field once"
    }
    assert client.get("/api/jobs").json()["total"] == 0  # nothing was queued


def test_without_a_content_type_the_body_is_still_checked(client: TestClient) -> None:
    answer = client.post("/api/generate", content=b'{"theme": "a", "theme": "b"}')
    assert answer.status_code == 422 and "'theme'" in answer.json()["detail"]


def test_the_same_key_in_different_objects_is_fine(client: TestClient) -> None:
    body = b'[{"theme": "Running"}, {"theme": "Running"}]'
    answer = client.post("/api/generate/batch", content=body, headers=JSON)
    assert answer.status_code == 200, answer.text
    assert answer.json()["count"] == 2


def test_other_bodies_keep_their_own_errors(client: TestClient) -> None:
    # Not JSON: FastAPI's 400 as before; a form (the login page) is not read as JSON.
    assert client.post("/api/generate", content=b'{"theme": ', headers=JSON).status_code == 400
    deep = client.post("/api/generate", content=b"[" * 5000 + b"]" * 5000, headers=JSON)
    assert deep.status_code in (400, 422) and "detail" in deep.json()
    form = client.post(
        "/login",
        content=b"token=a&token=b",
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert form.status_code == 303
