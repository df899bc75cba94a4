"""``vidgen serve`` on a loopback address answers only to loopback ``Host`` names, also when a
name hides behind URL syntax (``evil.example@127.0.0.1`` reads as user ``evil.example`` at
``127.0.0.1`` to a URL parser, and was accepted)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from vidgen.api.app import create_app


@pytest.mark.parametrize(
    "host",
    [
        "evil.example@127.0.0.1",
        "evil.example@127.0.0.1:8000",
        "127.0.0.1/evil.example",
        "127.0.0.1\\\\evil.example",
        "127.0.0.1 evil.example",
        "localhost:8000@evil.example",
    ],
)
def test_a_host_name_hidden_in_url_syntax_is_refused(home: Path, host: str) -> None:
    app = create_app(allowed_hosts=["127.0.0.1", "localhost", "::1"])
    with TestClient(app, base_url="http://127.0.0.1:8000") as local:
        answer = local.get("/api/jobs", headers={"host": host})
        assert answer.status_code == 400, answer.text
        assert "is not this server's name" in answer.json()["detail"]
        assert local.get("/api/jobs", headers={"host": "127.0.0.1:8000"}).status_code == 200
        assert local.get("/api/jobs", headers={"host": "[::1]:8000"}).status_code == 200
