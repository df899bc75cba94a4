"""A token protects a server other machines can reach only if it cannot be guessed.

``VIDGEN_API_TOKEN=Z`` passed the non-loopback gate and was found in 58 requests, with no limit
on wrong tokens. Now a non-loopback ``serve`` needs a token of at least 16 characters, and
after 5 wrong tokens from one address every further one makes that address wait twice as long
(HTTP 429 with ``Retry-After``), over the bearer header and the login form alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import CliResult
from test_http_security import free_port
from vidgen.api.app import create_app
from vidgen.web.security import WrongTokens

Cli = Callable[..., CliResult]
TOKEN = "a-long-enough-token-0123"


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    return calls


@pytest.mark.parametrize("token", ["Z", "short-token-15c"])
def test_a_short_token_does_not_open_a_non_loopback_server(
    cli: Cli, served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    monkeypatch.setenv("VIDGEN_API_TOKEN", token)
    result = cli("serve", "--host", "0.0.0.0", "--port", str(free_port()))
    assert result.code == 2 and served == []
    err = result.err.strip()
    assert len(err.splitlines()) == 1 and "at least 16" in err and token not in err
    assert cli("serve", "--port", str(free_port())).code == 0  # loopback: any token
    monkeypatch.setenv("VIDGEN_API_TOKEN", TOKEN)
    assert cli("serve", "--host", "0.0.0.0", "--port", str(free_port())).code == 0


@pytest.fixture
def locked(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("VIDGEN_API_TOKEN", TOKEN)
    with TestClient(create_app()) as client:
        yield client


def test_wrong_bearer_tokens_back_off_and_the_right_one_works_after_the_wait(
    locked: TestClient,
) -> None:
    for guess in range(WrongTokens.FREE):
        wrong = locked.get("/api/jobs", headers={"Authorization": f"Bearer guess-{guess}"})
        assert wrong.status_code == 401
    assert locked.get("/api/jobs", headers={"Authorization": "Bearer guess-5"}).status_code == 401
    # Now the address waits (1 s, then 2 s, …), even with the right token.
    blocked = locked.get("/api/jobs", headers={"Authorization": f"Bearer {TOKEN}"})
    assert blocked.status_code == 429 and blocked.headers["retry-after"] == "1"
    assert "too many wrong tokens" in blocked.json()["detail"]
    assert locked.get("/api/health").status_code == 200  # public routes stay open
    time.sleep(1.1)
    assert locked.get("/api/jobs", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    # The right token cleared the count: five more free guesses.
    for _ in range(WrongTokens.FREE):
        assert locked.get("/api/jobs", headers={"Authorization": "Bearer x"}).status_code == 401


def test_wrong_tokens_on_the_login_form_back_off_too(locked: TestClient) -> None:
    form = {"content-type": "application/x-www-form-urlencoded"}
    for _ in range(WrongTokens.FREE + 1):
        assert locked.post("/login", content=b"token=nope", headers=form).status_code == 401
    answer = locked.post("/login", content=f"token={TOKEN}".encode(), headers=form)
    assert answer.status_code == 429 and "retry-after" in answer.headers


def test_the_wait_doubles_up_to_a_minute() -> None:
    waits = WrongTokens()
    seen = []
    for _ in range(WrongTokens.FREE + 9):
        waits.wrong("203.0.113.9")
        seen.append(round(waits.wait("203.0.113.9")))
    assert seen[: WrongTokens.FREE] == [0] * WrongTokens.FREE
    assert seen[WrongTokens.FREE :] == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert waits.wait("198.51.100.1") == 0  # other addresses are not affected
