"""Range errors on the file routes answer the API's JSON error body, like every other error
(they were a text/plain 400 and an empty 416)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import CliResult
from vidgen.api.app import create_app

Cli = Callable[..., CliResult]


@pytest.fixture
def client(home: Path) -> Iterator[TestClient]:
    with TestClient(create_app(), raise_server_exceptions=False) as test_client:
        yield test_client


def test_a_range_the_file_cannot_satisfy_is_a_json_error(
    client: TestClient,
    cli: Cli,
    stagekit: Path,
    drain: Callable[[], int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STAGEKIT_COMPOSITION", "tinyvideo")
    monkeypatch.setenv("STAGEKIT_REVIEW", "real")
    cli("generate", "--theme", "tiny")
    drain()
    video = cli("videos", "--json").json()["videos"][0]
    url = f"/api/videos/{video['id']}/files/video"
    size = Path(video["video_path"]).stat().st_size

    outside = client.get(url, headers={"range": f"bytes={size + 10}-{size + 20}"})
    assert outside.status_code == 416
    assert outside.headers["content-type"] == "application/json"
    assert outside.headers["content-range"] == f"bytes */{size}"
    assert f"outside the file ({size} bytes)" in outside.json()["detail"]

    for bad in ("lines=1-2", "bytes=", "bytes=20-10"):
        malformed = client.get(url, headers={"range": bad})
        assert malformed.status_code == 400, bad
        assert malformed.headers["content-type"] == "application/json"
        assert "bad Range header" in malformed.json()["detail"]

    part = client.get(url, headers={"range": "bytes=0-9"})
    assert part.status_code == 206 and len(part.content) == 10
