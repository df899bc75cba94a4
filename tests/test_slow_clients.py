"""A real ``vidgen serve`` cuts off slow clients and reads no body before the token is checked.

An outside trial held connections open for ever by sending nothing, or a request's headers or
body a byte at a time (uvicorn times out only idle keep-alive connections), and made the server
read bodies of clients without the token (the size limit ran before the token check). Raw
sockets against a real server process, as such a client would be.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from test_http_security import VENV_BIN, free_port

TOKEN = "slow-client-token-0123456789"
TIMEOUT = 1.0  # vidgen serve --request-timeout


@pytest.fixture
def server(home: Path, tmp_path: Path) -> Iterator[int]:
    """A ``vidgen serve --request-timeout 1`` with a token; yields its port."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDGEN_")}
    env.update(VIDGEN_HOME=str(home), VIDGEN_API_TOKEN=TOKEN, VIDGEN_PROFILE="preview")
    log_path = tmp_path / "serve.log"
    with log_path.open("w+") as log:
        proc = subprocess.Popen(
            [str(VENV_BIN / "vidgen"), "serve", "--port", str(port), "--request-timeout", "1"],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/api/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "vidgen serve did not come up"
                time.sleep(0.1)
            yield port
            assert proc.poll() is None, log_path.read_text()
            assert "Traceback" not in log_path.read_text()
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    return sock


def _read_all(sock: socket.socket, limit: float = 10) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and how long that took."""
    started = time.monotonic()
    sock.settimeout(limit)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data, time.monotonic() - started


def _dribble(sock: socket.socket, data: bytes, gap: float = 0.25) -> float:
    """Send ``data`` a byte at a time; the seconds until the server stopped taking it."""
    started = time.monotonic()
    for byte in data:
        try:
            sock.sendall(bytes([byte]))
        except OSError:  # the server closed the connection: as intended
            break
        time.sleep(gap)
        if time.monotonic() - started > 10 * TIMEOUT:
            break
    return time.monotonic() - started


def _status_and_detail(raw: bytes) -> tuple[int, str, bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    detail = json.loads(body)["detail"] if body else ""
    return status, detail, head.lower()


def test_a_client_that_sends_nothing_is_disconnected(server: int) -> None:
    idle = [_connect(server) for _ in range(20)]
    for sock in idle:
        data, took = _read_all(sock)
        assert data == b"" and took < 4 * TIMEOUT + 2, took
        sock.close()
    assert httpx.get(f"http://127.0.0.1:{server}/api/health").status_code == 200


def test_headers_sent_a_byte_at_a_time_get_408(server: int) -> None:
    request = (
        b"GET /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + f"Authorization: Bearer {TOKEN}\r\n".encode()
        + b"X-Padding: "
        + b"x" * 200
        + b"\r\n\r\n"
    )
    with _connect(server) as sock:
        spent = _dribble(sock, request)
        raw, _ = _read_all(sock)
    # ~250 bytes at 4 a second would take a minute: cut off after the timeout.
    assert spent < 4 * TIMEOUT + 2, spent
    status, detail, head = _status_and_detail(raw)
    assert status == 408 and b"connection: close" in head
    assert detail.startswith("request headers not received within 1 s")


def test_a_body_sent_a_byte_at_a_time_gets_408(server: int) -> None:
    body = json.dumps({"theme": "Running"}).encode() + b" " * 200
    head = (
        b"POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {TOKEN}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    )
    with _connect(server) as sock:
        sock.sendall(head)
        spent = _dribble(sock, body)
        raw, _ = _read_all(sock)
    assert spent < 4 * TIMEOUT + 2, spent
    status, detail, response_head = _status_and_detail(raw)
    assert status == 408 and b"connection: close" in response_head
    assert detail == "request body not received within 1 s: send it at once"
    jobs = httpx.get(
        f"http://127.0.0.1:{server}/api/jobs", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert jobs.json()["count"] == 0  # nothing half-read was queued


@pytest.mark.parametrize(
    "length_header",
    [b"Content-Length: 50000", b"Content-Length: 900000000", b"Transfer-Encoding: chunked"],
)
def test_without_the_token_no_body_is_read(server: int, length_header: bytes) -> None:
    """401 as soon as the headers are in, whatever body is announced, and the connection is
    closed instead of reading it (before, the server read up to 64 KiB, or answered 413)."""
    with _connect(server) as sock:
        sock.sendall(
            b"POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + b"Content-Type: application/json\r\n"
            + length_header
            + b"\r\n\r\n"
        )
        raw, took = _read_all(sock)
    assert took < TIMEOUT / 2, took  # not the body deadline: no body was waited for
    status, detail, head = _status_and_detail(raw)
    assert status == 401 and "bearer token" in detail
    assert b"connection: close" in head


def test_with_the_token_the_size_limit_still_holds(server: int) -> None:
    with _connect(server) as sock:
        sock.sendall(
            b"POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + f"Authorization: Bearer {TOKEN}\r\nContent-Length: 900000000\r\n\r\n".encode()
        )
        raw, took = _read_all(sock)
    assert took < TIMEOUT / 2, took
    status, detail, head = _status_and_detail(raw)
    assert status == 413 and "larger than 65536 bytes" in detail
    assert b"connection: close" in head


def test_prompt_clients_keep_their_connection(server: int) -> None:
    """The deadlines cut off slow clients only: a keep-alive client that pauses between
    requests, and one whose request takes longer than the timeout to answer, are served."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{server}", headers=auth) as http:
        assert http.post("/api/generate", json={"theme": "Running"}).status_code == 200
        time.sleep(TIMEOUT * 0.6)
        assert http.get("/api/jobs").json()["count"] == 1
        time.sleep(TIMEOUT * 0.6)
        assert http.get("/api/jobs/1").json()["status"] == "pending"
