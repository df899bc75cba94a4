"""Dashboard sessions: random per sign-in, kept server-side, expiring, ended by sign-out.

The cookie used to be one HMAC of the token for every sign-in: it never expired, survived
"Sign out", and -- browsers send cookies to every port of a host -- opened any other vidgen
server on the machine that shared the token.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from test_dashboard_http import TOKEN, sign_in
from vidgen.api.app import create_app
from vidgen.settings import load_settings
from vidgen.store import get_store, reset_stores
from vidgen.store.models import WebSession, utcnow
from vidgen.web.security import SESSION_COOKIE


@pytest.fixture
def locked(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("VIDGEN_API_TOKEN", TOKEN)
    with TestClient(create_app()) as client:
        yield client


def test_a_session_expires(locked: TestClient) -> None:
    sign_in(locked)
    assert locked.get("/api/jobs").status_code == 200
    store = get_store(load_settings())
    with store.write() as session:
        session.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert locked.get("/api/jobs").status_code == 401


def test_a_new_token_ends_every_session(
    locked: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(locked)
    monkeypatch.setenv("VIDGEN_API_TOKEN", "a-different-token-now")
    assert locked.get("/api/jobs").status_code == 401


def test_a_session_of_one_server_opens_no_other_server_on_the_host(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIDGEN_API_TOKEN", TOKEN)
    with TestClient(create_app()) as first:
        value = sign_in(first)
    reset_stores()
    monkeypatch.setenv("VIDGEN_HOME", str(tmp_path / "other-home"))  # another server, same token
    with TestClient(create_app()) as other:
        other.cookies.set(SESSION_COOKIE, value)
        assert other.get("/api/jobs").status_code == 401
