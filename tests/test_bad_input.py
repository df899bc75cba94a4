# ruff: noqa: RUF001  (Hebrew and Arabic test text is on purpose)
"""Issue 5: every command and route against bad input.

Each bad value must give one line naming the value and the fix, exit code 1 or 2 (HTTP 4xx:
404 unknown ids, 400 refused, 422 invalid input), no traceback, and no job recorded.
Valid but awkward themes (quotes, ``%``, ``:``, backslashes, newlines, emoji, right-to-left
text) must be accepted as they are and reach the video untouched by ffmpeg or a shell.
The contract cases already in test_cli_jobs.py (status/retry ids, jobs limits, the basic bad
config files) are not repeated here.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from conftest import SAMPLE_CONFIG, CliResult
from vidgen.api.app import create_app

Cli = Callable[..., CliResult]
HUGE = "9" * 30


def job_count(home: Path) -> int:
    """Jobs in the store, read with sqlite3 so a broken VIDGEN_* setting cannot hide them."""
    db = home / "vidgen.db"
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        return conn.execute("SELECT COUNT(*) FROM job").fetchone()[0] if "job" in tables else 0


def assert_one_line_error(result: CliResult, codes: tuple[int, ...], *needles: str) -> None:
    assert result.code in codes, (result.code, result.out, result.err)
    err = result.err.strip()
    assert err.startswith("Error: "), result.err
    assert len(err.splitlines()) == 1, result.err
    assert "Traceback" not in result.out + result.err
    for needle in needles:
        assert needle in err, (needle, err)


@pytest.fixture
def client(home: Path) -> Iterator[TestClient]:
    # raise_server_exceptions=False: a crash must show up as the 500 a client would get.
    with TestClient(create_app(), raise_server_exceptions=False) as test_client:
        yield test_client


def assert_http_error(response: Any, status: int, needle: str = "") -> None:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    detail = response.json()["detail"]
    text = detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False)
    assert needle in text, (needle, text)
    assert "Traceback" not in response.text


def sample() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(SAMPLE_CONFIG.read_text())
    return raw


def with_config(**overrides: Any) -> bytes:
    raw = sample()
    raw["config"].update(overrides)
    return yaml.safe_dump(raw, allow_unicode=True).encode()


# -- ids, limits, offsets, statuses through the CLI ---------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        # ids that are not numbers: a usage error naming the argument
        (("status", "1.5"), 2, "Invalid value for 'ID'"),
        (("status", "0x10"), 2, "Invalid value for 'ID'"),
        (("status", ""), 2, "Invalid value for 'ID'"),
        (("status", "1.5", "--watch"), 2, "Invalid value for 'ID'"),
        (("retry", "1e3"), 2, "Invalid value for 'ID'"),
        (("approve", "abc"), 2, "Invalid value for 'JOB_ID'"),
        (("reject", "abc", "--reason", "blurry"), 2, "Invalid value for 'JOB_ID'"),
        (("approve", "--video-id", "abc"), 2, "Invalid value for '--video-id'"),
        (("approve",), 2, "name the job"),
        (("approve", "3", "--video-id", "3"), 2, "not both"),
        # a sign is not part of an id (vidgen.ids): a usage error too
        (("retry", "--", "-1"), 2, "'-1' is not an id"),
        (("approve", "--", "-2"), 2, "'-2' is not an id"),
        (("approve", "--video-id", "-2"), 2, "'-2' is not an id"),
        # unknown, zero and huge ids: not found, exit 1
        (("status", "5", "--watch"), 1, "Job 5 not found"),
        (("status", "5", "--json"), 1, "Job 5 not found"),
        (("retry", "0"), 1, "Job 0 not found"),
        (("retry", HUGE), 1, f"Job {HUGE} not found"),
        (("approve", "7"), 1, "7 not found"),
        (("approve", "0"), 1, "Job 0 not found"),
        (("approve", HUGE), 1, f"Job {HUGE} not found"),
        (("approve", "--video-id", "0"), 1, "Video 0 not found"),
        (("approve", "--video-id", HUGE), 1, f"Video {HUGE} not found"),
        (("reject", "7", "--reason", "blurry"), 1, "7 not found"),
        (("reject", HUGE, "--reason", "blurry"), 1, f"Job {HUGE} not found"),
        (("reject", "--video-id", HUGE, "--reason", "x"), 1, f"Video {HUGE} not found"),
        (("reject", "7"), 2, "Missing option '--reason'"),
        (("reject", "7", "--reason", "   "), 2, "needs a reason"),
        # limits and offsets
        (("jobs", "--offset", HUGE), 2, f"offset must be between 0 and 1000000000 (got {HUGE})"),
        (("jobs", "--offset", "x"), 2, "Invalid value for '--offset'"),
        (("jobs", "--limit", "1.5"), 2, "Invalid value for '--limit'"),
        (("videos", "--limit", "0"), 2, "limit must be between 1 and 1000 (got 0)"),
        (("videos", "--limit", "-1"), 2, "limit must be between 1 and 1000 (got -1)"),
        (("videos", "--limit", HUGE), 2, "limit must be between 1 and 1000"),
        (("videos", "--limit", "many"), 2, "Invalid value for '--limit'"),
        # statuses
        (("jobs", "--status", ""), 2, "unknown status ''"),
        (("jobs", "--status", "FAILED"), 2, "use one of pending, running, completed, failed"),
        (("jobs", "--status", "pending_review"), 2, "unknown status 'pending_review'"),
        (("videos", "--status", "failed"), 2, "unknown video status 'failed'"),
        (("videos", "--status", ""), 2, "use one of: pending_review, approved, rejected"),
        # themes that are not valid
        (("generate", "--theme", "   "), 2, "theme is empty"),
        (("generate", "--theme", "a\x1bb"), 2, "control character '\\x1b'"),
        # worker and serve flags
        (("worker", "--workers", "0"), 2, "Invalid value for '--workers'"),
        (("worker", "--workers", "65"), 2, "less than or equal to 64"),
        (("worker", "--workers", "-1"), 2, "Invalid value for '--workers'"),
        (("worker", "--workers", "two"), 2, "Invalid value for '--workers'"),
        (("worker", "--threads", "2"), 2, "No such option: --threads"),
        (("serve", "--port", "0"), 2, "Invalid value for '--port'"),
        (("serve", "--port", "65536"), 2, "Invalid value for '--port'"),
        (("serve", "--port", "http"), 2, "Invalid value for '--port'"),
        (("serve", "--host", ""), 2, "--host is empty"),
        (("serve", "--host", "0.0.0.0"), 2, "refusing to listen on 0.0.0.0 without VIDGEN_API"),
        (("serve", "--host", "::"), 2, "without VIDGEN_API_TOKEN"),
        (("serve", "--host", "192.168.1.10"), 2, "or bind to 127.0.0.1"),
        (("recover", "--force"), 2, "No such option: --force"),
    ],
)
def test_cli_rejects_bad_values_in_one_line(
    cli: Cli, home: Path, args: tuple[str, ...], code: int, needle: str
) -> None:
    result = cli(*args)
    assert_one_line_error(result, (code,), needle)
    assert job_count(home) == 0


def test_bad_values_do_not_touch_existing_jobs(cli: Cli, home: Path) -> None:
    assert cli("generate").code == 0
    for args in (("retry", "2"), ("retry", "1"), ("status", "2"), ("generate", "--theme", "")):
        assert cli(*args).code in (1, 2)
    assert job_count(home) == 1
    assert cli("status", "1", "--json").json()["status"] == "pending"


# -- configs --------------------------------------------------------------------------------


def _deep(levels: int) -> bytes:
    return ("[" * levels + "]" * levels).encode()


def _alias_flood() -> bytes:
    refs = ", ".join(["*a"] * 150)
    return f"anchor: &a x\nmany: [{refs}]\n".encode()


def _dup_key() -> bytes:
    return SAMPLE_CONFIG.read_bytes() + b"\nconfig:\n  theme: second\n"


CONFIG_CASES: list[tuple[str, bytes | None, str]] = [
    # (id, file content or None for a special file made by make_config, expected text)
    ("empty", b"", "expected a mapping with 'config:'"),
    ("only-a-comment", b"# nothing here\n", "expected a mapping"),
    ("scalar", b"just text\n", "expected a mapping"),
    ("latin-1", "config:\n  theme: caf\u00e9\n".encode("latin-1"), "not UTF-8 text"),
    ("utf-16", "config: {}\n".encode("utf-16"), "not UTF-8 text"),
    ("tabs", b"config:\n\ttheme: x\n", "invalid YAML at line 2"),
    ("two-documents", SAMPLE_CONFIG.read_bytes() + b"\n---\n{}\n", "invalid YAML at line"),
    ("python-tag", b"!!python/object/apply:os.system ['true']\n", "could not determine"),
    ("alias-flood", _alias_flood(), "more than 100 YAML aliases"),
    ("deep-nesting", _deep(100_000), "nested more than 50 levels deep"),
    ("huge-integer", b"config:\n  scenes: " + b"9" * 5000 + b"\n", "cannot read a value"),
    ("bad-date", b"config:\n  theme: 2024-13-45\n", "cannot read a value"),
    ("duplicate-key", _dup_key(), "duplicate key 'config'"),
    ("config-is-a-list", b"config: [1, 2]\ncontent_references: [{title: x}]\n", "config: must be"),
    ("references-a-string", b"config: {}\ncontent_references: nope\n", "content_references"),
    ("no-references", b"config: {}\ncontent_references: []\n", "content_references"),
    ("rate-a-word", with_config(voice={"rate": "fast"}), "config.voice.rate"),
    ("duration-too-short", with_config(video_duration_seconds=5), "greater than or equal to 6"),
    ("duration-too-long", with_config(video_duration_seconds=181), "less than or equal to 180"),
    ("duration-negative", with_config(video_duration_seconds=-20), "video_duration_seconds"),
    ("duration-nan", with_config(video_duration_seconds=float("nan")), "video_duration_seconds"),
    ("duration-inf", with_config(video_duration_seconds=float("inf")), "video_duration_seconds"),
    ("duration-bool", with_config(video_duration_seconds=[20]), "video_duration_seconds"),
    ("scenes-too-few", with_config(scenes=2), "config.scenes"),
    ("thumbnail-negative", with_config(thumbnail_time=-1), "config.thumbnail_time"),
    ("platform-unknown", with_config(target_platform="myspace"), "config.target_platform"),
    ("theme-nul", with_config(theme="a\x00b"), "control character"),
    ("theme-too-long", with_config(theme="x" * 201), "config.theme"),
    ("images-without-files", with_config(providers={"visuals": "images"}), "lists no files"),
    ("50MB", None, "more than the 1000000 allowed"),
    ("directory", None, "not a regular file"),
    ("fifo", None, "not a regular file"),
    ("missing", None, "config file not found"),
    ("under-a-file", None, "config file not found"),
]

CONFIG_IDS = [case[0] for case in CONFIG_CASES]


def make_config(folder: Path, case: str, content: bytes | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{case}.yml"
    if content is not None:
        path.write_bytes(content)
    elif case == "50MB":
        with path.open("wb") as handle:  # sparse: 50 MB by size, no time spent writing
            handle.write(b"config:\n")
            handle.truncate(50 * 1024 * 1024)
    elif case == "directory":
        path.mkdir()
    elif case == "fifo":
        os.mkfifo(path)
    elif case == "under-a-file":
        (folder / "plain").write_text("x")
        path = folder / "plain" / "theme.yml"
    return path


@pytest.mark.parametrize(("case", "content", "needle"), CONFIG_CASES, ids=CONFIG_IDS)
def test_cli_rejects_bad_config(
    cli: Cli, home: Path, tmp_path: Path, case: str, content: bytes | None, needle: str
) -> None:
    path = make_config(tmp_path / "configs", case, content)
    result = cli("generate", "--config", str(path))
    assert_one_line_error(result, (2,), str(path), needle)
    assert job_count(home) == 0


@pytest.mark.parametrize(("case", "content", "needle"), CONFIG_CASES, ids=CONFIG_IDS)
def test_http_rejects_bad_config(
    client: TestClient, home: Path, case: str, content: bytes | None, needle: str
) -> None:
    path = make_config(home / "themes", case, content)
    name = str(path.relative_to(home / "themes"))
    response = client.post("/api/generate", json={"config_path": name})
    if case in ("directory", "fifo", "missing", "under-a-file"):
        needle = f"config_path {name!r} is not a file in the themes folder"
    assert_http_error(response, 422, needle)
    assert job_count(home) == 0


def test_env_config_that_is_bad_is_reported_at_generate(
    cli: Cli, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_config(tmp_path, "duration-too-long", with_config(video_duration_seconds=900))
    monkeypatch.setenv("VIDGEN_CONFIG", str(path))
    assert_one_line_error(cli("generate"), (2,), str(path), "video_duration_seconds")
    monkeypatch.setenv("VIDGEN_CONFIG", str(tmp_path))
    assert_one_line_error(cli("generate"), (2,), "not a regular file")
    assert job_count(home) == 0


def test_unreadable_config_chmod_000(cli: Cli, home: Path, tmp_path: Path) -> None:
    path = tmp_path / "secret.yml"
    path.write_bytes(SAMPLE_CONFIG.read_bytes())
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as root: chmod 000 does not stop root from reading")
        result = cli("generate", "--config", str(path))
    finally:
        path.chmod(0o644)
    assert_one_line_error(result, (2,), str(path), "permission denied")
    assert job_count(home) == 0


def test_unreadable_config_permission_error(
    cli: Cli, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same path as chmod 000 for an ordinary user, reached even when tests run as root."""
    path = tmp_path / "secret.yml"
    path.write_bytes(SAMPLE_CONFIG.read_bytes())
    real_read = Path.read_bytes

    def deny(self: Path) -> bytes:
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", deny)
    assert_one_line_error(cli("generate", "--config", str(path)), (2,), "permission denied")
    monkeypatch.setattr(
        Path, "read_bytes", lambda self: (_ for _ in ()).throw(OSError(5, "Input/output error"))
    )
    assert_one_line_error(
        cli("generate", "--config", str(path)), (2,), "cannot read the config file"
    )
    assert job_count(home) == 0


# -- environment variables -------------------------------------------------------------------


def _file(tmp_path: Path) -> str:
    path = tmp_path / "a-file"
    path.write_text("not a folder")
    return str(path)


ENV_CASES: list[tuple[str, Callable[[Path], str], str]] = [
    # (variable, bad value, expected text) -- one or more per Settings field
    ("VIDGEN_HOME", _file, "is a file, not a folder"),
    ("VIDGEN_HOME", lambda t: _file(t) + "/home", "cannot open the job store"),
    ("VIDGEN_DATABASE_URL", lambda t: "not a url", "VIDGEN_DATABASE_URL='not a url' cannot"),
    ("VIDGEN_DATABASE_URL", lambda t: "nosuchdb://x/y", "cannot be used"),
    ("VIDGEN_DATABASE_URL", lambda t: f"sqlite:///{t}", "cannot open the job store"),
    ("VIDGEN_OUTPUT_DIR", _file, "VIDGEN_OUTPUT_DIR="),
    ("VIDGEN_THEMES_DIR", _file, "VIDGEN_THEMES_DIR="),
    ("VIDGEN_PROFILE", lambda t: "4k", "VIDGEN_PROFILE='4k' is invalid: Input should be 'full'"),
    ("VIDGEN_STAGE_ATTEMPTS", lambda t: "0", "VIDGEN_STAGE_ATTEMPTS='0' is invalid"),
    ("VIDGEN_STAGE_ATTEMPTS", lambda t: "21", "less than or equal to 20"),
    ("VIDGEN_STAGE_ATTEMPTS", lambda t: "2.5", "VIDGEN_STAGE_ATTEMPTS='2.5' is invalid"),
    ("VIDGEN_BACKOFF_BASE", lambda t: "-1", "VIDGEN_BACKOFF_BASE='-1' is invalid"),
    ("VIDGEN_BACKOFF_BASE", lambda t: "nan", "VIDGEN_BACKOFF_BASE='nan' is invalid"),
    ("VIDGEN_BACKOFF_MAX", lambda t: "inf", "VIDGEN_BACKOFF_MAX='inf' is invalid"),
    ("VIDGEN_STAGE_TIMEOUT", lambda t: "0", "VIDGEN_STAGE_TIMEOUT='0' is invalid"),
    ("VIDGEN_STAGE_TIMEOUT", lambda t: "1h", "VIDGEN_STAGE_TIMEOUT='1h' is invalid"),
    ("VIDGEN_LEASE_SECONDS", lambda t: "-5", "VIDGEN_LEASE_SECONDS='-5' is invalid"),
    ("VIDGEN_BUSY_TIMEOUT", lambda t: "forever", "VIDGEN_BUSY_TIMEOUT='forever' is invalid"),
    ("VIDGEN_API_TOKEN", lambda t: "two words", "VIDGEN_API_TOKEN=(hidden) is invalid"),
    ("VIDGEN_API_TOKEN", lambda t: "t\u00f6ken", "printable ASCII"),
    ("VIDGEN_STAGE_PACKAGE", lambda t: "../evil", "a dotted Python package name"),
]


@pytest.mark.parametrize(
    ("var", "value", "needle"), ENV_CASES, ids=[f"{v}-{i}" for i, (v, _, _) in enumerate(ENV_CASES)]
)
@pytest.mark.parametrize("command", ["generate", "jobs", "status", "recover", "worker", "serve"])
def test_bad_environment_variable_is_named(
    cli: Cli,
    home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    var: str,
    value: Callable[[Path], str],
    needle: str,
    command: str,
) -> None:
    monkeypatch.setenv(var, value(tmp_path))
    with socket.socket() as busy:  # should serve get past its checks, it fails, not serves
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        args = {"status": ("status", "1"), "serve": ("serve", "--port", port)}.get(
            command, (command,)
        )
        result = cli(*args)
    assert_one_line_error(result, (2,), needle)
    if "token" not in needle.lower():
        assert var in result.err or "VIDGEN_HOME" in result.err
    assert "two words" not in result.err  # a token is never echoed
    assert job_count(home) == 0


@pytest.mark.parametrize(
    ("var", "value", "needle"),
    [
        ("VIDGEN_STAGE_PACKAGE", "nosuch.stages", "VIDGEN_STAGE_PACKAGE='nosuch.stages' cannot be"),
        ("VIDGEN_QUEUE_URL", "ftp://queue", "VIDGEN_QUEUE_URL='ftp://queue' is not supported"),
        ("VIDGEN_CONFIG", "/nonexistent/theme.yml", "VIDGEN_CONFIG=/nonexistent/theme.yml: no"),
    ],
)
def test_bad_environment_variable_refuses_generate(
    cli: Cli, home: Path, monkeypatch: pytest.MonkeyPatch, var: str, value: str, needle: str
) -> None:
    """Settings only generate uses: checked there, and the job is not left behind."""
    monkeypatch.setenv(var, value)
    assert_one_line_error(cli("generate"), (2,), needle)
    assert job_count(home) == 0


@pytest.mark.parametrize("command", ["recover", "worker"])
def test_bad_queue_url_stops_recover_and_worker(
    cli: Cli, home: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.setenv("VIDGEN_QUEUE_URL", "amqp://rabbit")
    assert_one_line_error(cli(command), (2,), "VIDGEN_QUEUE_URL='amqp://rabbit' is not supported")


def test_config_path_too_long_for_the_os(cli: Cli, home: Path, tmp_path: Path) -> None:
    path = tmp_path / ("x" * 300) / "theme.yml"
    assert_one_line_error(cli("generate", "--config", str(path)), (2,), "cannot read the config")
    assert job_count(home) == 0


def test_http_with_bad_environment_answers_503_not_500(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIDGEN_STAGE_ATTEMPTS", "zero")
    for method, url in ROUTES:
        response = client.request(method, url)
        assert_http_error(response, 503, "VIDGEN_STAGE_ATTEMPTS='zero' is invalid")


# -- HTTP routes ------------------------------------------------------------------------------

ROUTES = [
    ("GET", "/api/health"),
    ("POST", "/api/generate"),
    ("GET", "/api/jobs"),
    ("GET", "/api/jobs/1"),
    ("GET", "/api/jobs/1/detail"),
    ("POST", "/api/jobs/1/retry"),
    ("GET", "/api/videos"),
    ("POST", "/api/videos/1/approve"),
    ("POST", "/api/recover"),
]

HTTP_CASES: list[tuple[str, str, Any, int, str]] = [
    # ids that are not numbers: FastAPI's 422 naming the parameter
    ("GET", "/api/jobs/abc", None, 422, "job_id"),
    ("GET", "/api/jobs/1.5", None, 422, "job_id"),
    ("GET", "/api/jobs/%00", None, 422, "job_id"),
    ("GET", "/api/jobs/%FF", None, 422, "job_id"),
    ("GET", "/api/jobs/abc/detail", None, 422, "job_id"),
    ("POST", "/api/jobs/1e3/retry", None, 422, "job_id"),
    ("POST", "/api/videos/x/approve", None, 422, "video_id"),
    ("POST", "/api/videos/x/reject", {"reason": "blurry"}, 422, "video_id"),
    # a sign is not part of an id (vidgen.ids): 422 like any other spelling
    ("GET", "/api/jobs/-1", None, 422, "'-1' is not an id"),
    ("GET", f"/api/jobs/-{HUGE}/detail", None, 422, "is not an id"),
    ("POST", "/api/videos/-5/reject", {"reason": "blurry"}, 422, "'-5' is not an id"),
    # unknown, zero, huge ids: 404
    ("GET", "/api/jobs/5", None, 404, "Job 5 not found"),
    ("GET", "/api/jobs/0", None, 404, "Job 0 not found"),
    ("GET", f"/api/jobs/{HUGE}", None, 404, f"Job {HUGE} not found"),
    ("GET", "/api/jobs/9223372036854775807", None, 404, "not found"),
    ("GET", "/api/jobs/9223372036854775808", None, 404, "not found"),
    ("GET", "/api/jobs/5/detail", None, 404, "Job 5 not found"),
    ("POST", "/api/jobs/5/retry", None, 404, "Job 5 not found"),
    ("POST", "/api/jobs/0/retry", None, 404, "Job 0 not found"),
    ("POST", f"/api/jobs/{HUGE}/retry", None, 404, "not found"),
    ("POST", "/api/videos/5/approve", None, 404, "5 not found"),
    ("POST", "/api/videos/0/approve", None, 404, "Video 0 not found"),
    ("POST", f"/api/videos/{HUGE}/approve", None, 404, "not found"),
    ("POST", "/api/videos/5/reject", {"reason": "blurry"}, 404, "5 not found"),
    # refused / invalid bodies on reject
    ("POST", "/api/videos/5/reject", None, 422, "reason"),
    ("POST", "/api/videos/5/reject", {"reason": ""}, 422, "reason"),
    ("POST", "/api/videos/5/reject", {"reason": "   "}, 422, "needs a reason"),
    ("POST", "/api/videos/5/reject", {"reason": "x" * 2001}, 422, "reason"),
    ("POST", "/api/videos/5/reject", {"reason": 5}, 422, "reason"),
    # limits, offsets, statuses
    ("GET", "/api/jobs?limit=0", None, 422, "limit"),
    ("GET", "/api/jobs?limit=-1", None, 422, "limit"),
    ("GET", f"/api/jobs?limit={HUGE}", None, 422, "limit"),
    ("GET", "/api/jobs?limit=ten", None, 422, "limit"),
    ("GET", "/api/jobs?offset=-1", None, 422, "offset"),
    ("GET", f"/api/jobs?offset={HUGE}", None, 422, "offset"),
    ("GET", "/api/jobs?offset=1.5", None, 422, "offset"),
    ("GET", "/api/jobs?status=bogus", None, 422, "unknown status 'bogus'"),
    ("GET", "/api/jobs?status=", None, 422, "unknown status ''"),
    ("GET", "/api/jobs?status=%00", None, 422, "unknown status"),
    ("GET", "/api/jobs?status=%ED%A0%80", None, 422, "unknown status"),
    ("GET", "/api/jobs?status=" + "x" * 21, None, 422, "status"),
    ("GET", "/api/videos?limit=0", None, 422, "limit"),
    ("GET", f"/api/videos?limit={HUGE}", None, 422, "limit"),
    ("GET", "/api/videos?status=failed", None, 422, "unknown video status 'failed'"),
    # generate bodies
    ("POST", "/api/generate", [], 422, "body"),
    ("POST", "/api/generate", "theme", 422, "body"),
    ("POST", "/api/generate", 5, 422, "body"),
    ("POST", "/api/generate", {"theme": 5}, 422, "theme"),
    ("POST", "/api/generate", {"theme": ["a"]}, 422, "theme"),
    ("POST", "/api/generate", {"theme": ""}, 422, "theme is empty"),
    ("POST", "/api/generate", {"theme": " \n "}, 422, "theme is empty"),
    ("POST", "/api/generate", {"theme": "a\x00b"}, 422, "control character"),
    ("POST", "/api/generate", {"theme": "x" * 201}, 422, "at most 200 characters"),
    ("POST", "/api/generate", {"theem": "typo"}, 422, "theem"),
    ("POST", "/api/generate", {"config_path": 5}, 422, "config_path"),
    ("POST", "/api/generate", {"config_path": "a\x00b"}, 422, "NUL"),
    ("POST", "/api/generate", {"config_path": "x" * 5000}, 422, "config_path"),
    ("POST", "/api/generate", {"config_path": "nosuch.yml"}, 422, "not a file in the themes"),
    ("POST", "/api/generate", {"config_path": "a/" * 2000}, 422, "config_path"),
]


@pytest.mark.parametrize(
    ("method", "url", "body", "status", "needle"),
    HTTP_CASES,
    ids=[f"{m} {u[:50]} {json.dumps(b)[:30]}" for m, u, b, _, _ in HTTP_CASES],
)
def test_http_rejects_bad_values_with_4xx_json(
    client: TestClient, home: Path, method: str, url: str, body: Any, status: int, needle: str
) -> None:
    kwargs: dict[str, Any] = {} if body is None else {"json": body}
    response = client.request(method, url, **kwargs)
    assert_http_error(response, status, needle)
    assert job_count(home) == 0


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"{not json", 400),
        (b'{"theme": "caf\xe9"}', 400),  # not UTF-8: Starlette's own 400
        (b'{"theme": "\\ud800"}', 422),  # a lone surrogate used to crash the 422 into a 500
        (b'{"theme": "\\ud83d"}', 422),
        (b'{"theme": "ok"', 400),
        (b"null", 200),  # "empty body allowed"
        (b"", 200),
    ],
)
def test_http_generate_survives_malformed_json(
    client: TestClient, home: Path, content: bytes, status: int
) -> None:
    response = client.post(
        "/api/generate", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == status, response.text
    assert "detail" in response.json() or status == 200
    if status == 400:
        assert response.json()["detail"].startswith("request body is not")  # UTF-8 / valid JSON
    assert job_count(home) == (1 if status == 200 else 0)


def test_http_retry_refused_and_unknown(client: TestClient, cli: Cli, home: Path) -> None:
    assert cli("generate").code == 0
    refused = client.post("/api/jobs/1/retry")
    assert_http_error(
        refused, 400, "Cannot retry job with status 'pending'. Only 'failed' jobs can be retried."
    )
    assert_http_error(client.post("/api/jobs/2/retry"), 404, "Job 2 not found")
    assert job_count(home) == 1
    assert client.get("/api/jobs/1").json()["status"] == "pending"


# -- valid but awkward themes ----------------------------------------------------------------

TRICKY_THEMES = [
    'He said "hello"',
    "It's Bob's",
    "100% off %s %n %{pts} %%",
    "Time 10:30 key:value C:",
    "C:\\Users\\me \\n \\\\ \\",
    "two\nlines\tand a tab",
    "Emoji 🚀🎬👍🏽 ❤️",
    "שלום עולם",
    "مرحبا بالعالم",
    "Sale שלום 2024 مرحبا!",
    "$(rm -rf /) `id` ; | & > x",
    "{theme} {0} [x] <b>",
]


@pytest.mark.parametrize("theme", TRICKY_THEMES)
def test_tricky_themes_are_accepted_verbatim(
    cli: Cli,
    client: TestClient,
    tmp_path: Path,
    theme: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A theme nothing covers is refused at generate: this config has a reference tagged with it.
    raw = sample()
    raw["content_references"][0]["tags"] = [theme]
    config = tmp_path / "tricky-theme.yml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("VIDGEN_CONFIG", str(config))
    result = cli("generate", "--theme", theme, "--json")
    assert result.code == 0, result.err
    assert cli("status", "1", "--json").json()["theme"] == theme
    response = client.post("/api/generate", json={"theme": theme})
    assert response.status_code == 200, response.text
    assert client.get("/api/jobs/2").json()["theme"] == theme
    listed = cli("jobs", "--json").json()
    assert [job["theme"] for job in listed["jobs"]] == [theme, theme]
    assert cli("jobs").code == 0  # the table renders it too


TRICKY_THEME = 'It\'s "50%": C:\\path\\ 10:30\nשלום 🚀 مرحبا $(id) `id` %{pts}'
TRICKY_POINT = 'Open C:\\new at 10:30 "now" 100% 🚀 שלום'
TRICKY_TITLE = 'Say "hi" 100% \\o/ مرحبا'


def test_tricky_text_reaches_the_video_through_real_stages(
    cli: Cli, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A preview run with the real stages: plan, overlays and log hold the text as given, the
    job completes, and no ffmpeg argument (nor any shell) ever sees the text."""
    raw = sample()
    # Long enough to say the talking point whole: scripts drop sentences, they never cut one.
    raw["config"].update(video_duration_seconds=15, thumbnail_time=0.5)
    raw["content_references"] = [
        {
            "title": TRICKY_TITLE,
            "description": "",
            "talking_points": [TRICKY_POINT],
            "tags": [TRICKY_THEME],  # the theme picks this reference
        }
    ]
    config = tmp_path / "tricky.yml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")

    calls: list[tuple[Any, bool]] = []
    real_popen = subprocess.Popen

    class SpyPopen(real_popen):  # type: ignore[misc,valid-type]
        def __init__(self, args: Any, *rest: Any, **kwargs: Any) -> None:
            calls.append((args, bool(kwargs.get("shell"))))
            super().__init__(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", SpyPopen)
    result = cli("generate", "--theme", TRICKY_THEME, "--config", str(config), "--wait")
    assert result.code == 0, (result.out, result.err)
    status = cli("status", "1", "--json").json()
    assert status["status"] == "completed" and status["theme"] == TRICKY_THEME

    assert calls, "ffmpeg was never run"
    pieces = ["10:30", "שלום", "مرحبا", "50%", "$(id)", "\\o/", "%{pts}", "🚀", '"now"']
    for args, shell in calls:
        assert not shell and not isinstance(args, str | bytes), args
        joined = "\x00".join(map(str, args))
        assert not [p for p in pieces if p in joined], args

    job_dir = home / "jobs" / "1"
    plan_doc = json.loads(next(job_dir.glob("content_generation/attempt-*/plan.json")).read_text())
    plan = plan_doc["plan"]
    # Said verbatim: whole, or (if the voice ran long and the script was shortened) its start.
    texts = [scene["narration"] for scene in plan["scenes"]]
    assert any(TRICKY_POINT.startswith(text.rstrip(".")[:20]) for text in texts), texts
    assert plan["title"].startswith(TRICKY_TITLE)
    assert all("\n" not in tag and " " not in tag for tag in plan["hashtags"])
    # The rendered layers are intermediates, removed after composing; the log lists each
    # scene's pictures.
    assert not list(job_dir.glob("composition/attempt-*/overlays"))

    logs = list((home / "output" / "review").glob("job-1-*.json"))
    assert len(logs) == 1
    log = json.loads(logs[0].read_text(encoding="utf-8"))
    pictured = {a["scene"] for a in log["assets"] if a["kind"] == "illustration"}
    assert sorted(pictured) == list(range(len(texts)))
    assert log["theme"] == TRICKY_THEME
    assert log["config"]["config"]["theme"] == TRICKY_THEME
    assert log["plan"]["scenes"] == plan["scenes"]
    video = logs[0].with_suffix(".mp4")
    assert video.is_file() and video.stat().st_size > 10_000
    assert video.name.isascii()  # the file name is a slug, whatever the text
