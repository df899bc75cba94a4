"""Issue 11 (items 7, 8, 9, 12): inputs and settings that used to crash, hang or lose jobs.

Each one is now a one-line error before anything is recorded: a config_path component over
255 bytes over HTTP (was a 500), an undecodable --theme and ``~nosuchuser`` in --config (were
tracebacks), an in-memory store URL (jobs vanished), absurd lease/timeout values, and files
named by the config that are missing, folders or FIFOs (a FIFO in ``images:`` blocked the stage
until its time limit on every attempt). Also: "worker lost during initialization" names the
stage it was about to run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from conftest import SAMPLE_CONFIG, CliResult
from test_bad_input import assert_http_error, assert_one_line_error, job_count
from vidgen.api.app import create_app
from vidgen.errors import FatalStageError

Cli = Callable[..., CliResult]


@pytest.fixture
def client(home: Path) -> Iterator[TestClient]:
    with TestClient(create_app(), raise_server_exceptions=False) as test_client:
        yield test_client


def _config(folder: Path, **overrides: Any) -> Path:
    raw = yaml.safe_load(SAMPLE_CONFIG.read_text())
    raw["config"].update(overrides)
    path = folder / "theme.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    return path


# -- item 7: ENAMETOOLONG over HTTP ---------------------------------------------------------


@pytest.mark.parametrize("name", ["x" * 256 + ".yml", "sub/" + "y" * 300, "z" * 255 + "/t.yml"])
def test_http_config_path_with_a_component_over_255_bytes_is_a_4xx(
    client: TestClient, home: Path, name: str
) -> None:
    (home / "themes").mkdir(parents=True, exist_ok=True)
    response = client.post("/api/generate", json={"config_path": name})
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert_http_error(response, response.status_code, "config_path")
    assert job_count(home) == 0


# -- item 8: CLI tracebacks -----------------------------------------------------------------


def _vidgen(home: Path, *args: bytes, **env: str) -> subprocess.CompletedProcess[bytes]:
    """A real process with raw bytes in argv, as a shell passes $'\\xff'."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("VIDGEN_")}
    environ.update(VIDGEN_HOME=str(home), LC_ALL="C.UTF-8", **env)
    return subprocess.run(
        [sys.executable.encode(), b"-m", b"vidgen.cli.main", *args],
        env=environ,
        capture_output=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ((b"generate", b"--theme", b"\xff\xfe bad"), "theme is not valid UTF-8 text (byte 0xff"),
        ((b"generate", b"--config", b"~nosuchuser/x.yml"), "no user 'nosuchuser'"),
        ((b"generate", b"--config", b"/tmp/\xff.yml"), "config path is not valid UTF-8"),
    ],
)
def test_undecodable_or_unexpandable_arguments_are_one_line_usage_errors(
    home: Path, args: tuple[bytes, ...], needle: str
) -> None:
    proc = _vidgen(home, *args)
    err = proc.stderr.decode(errors="replace").strip()
    assert proc.returncode == 2, (proc.returncode, err)
    assert len(err.splitlines()) == 1 and err.startswith("Error: "), err
    assert needle in err, err
    assert "Traceback" not in err
    assert job_count(home) == 0


def test_unexpandable_vidgen_config_is_named(cli: Cli, home: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("VIDGEN_CONFIG", "~nosuchuser/theme.yml")
    assert_one_line_error(cli("generate"), (2,), "no user 'nosuchuser'")
    assert job_count(home) == 0


# -- item 9 and the floors: settings --------------------------------------------------------


@pytest.mark.parametrize(
    ("var", "value", "needle"),
    [
        ("VIDGEN_DATABASE_URL", "sqlite:///", "in-memory SQLite database"),
        ("VIDGEN_DATABASE_URL", "sqlite://", "in-memory SQLite database"),
        ("VIDGEN_DATABASE_URL", "sqlite:///:memory:", "in-memory SQLite database"),
        ("VIDGEN_DATABASE_URL", "sqlite+pysqlite:///:memory:", "in-memory"),
        ("VIDGEN_DATABASE_URL", "sqlite:///file:jobs?mode=memory&uri=true", "in-memory"),
        ("VIDGEN_DATABASE_URL", "sqlite:///file::memory:?cache=shared", "in-memory"),
        ("VIDGEN_LEASE_SECONDS", "1e-300", "it must be at least 1 s"),
        ("VIDGEN_LEASE_SECONDS", "0.5", "it must be at least 1 s"),
        ("VIDGEN_BUSY_TIMEOUT", "1e-9", "it must be at least 0.1 s"),
        ("VIDGEN_STAGE_TIMEOUT", "0.01", "it must be at least 1 s"),
        ("VIDGEN_STAGE_TIMEOUT", "1e9", "it must be at most 86400 s"),
    ],
)
@pytest.mark.parametrize("command", ["generate", "jobs", "worker"])
def test_settings_that_lose_jobs_or_make_no_sense_are_refused(
    cli: Cli, home: Path, monkeypatch: Any, var: str, value: str, needle: str, command: str
) -> None:
    monkeypatch.setenv(var, value)
    result = cli(command)
    assert_one_line_error(result, (2,), needle, var)
    assert job_count(home) == 0


def test_the_smallest_allowed_values_and_file_urls_still_work(
    cli: Cli, home: Path, monkeypatch: Any, tmp_path: Path
) -> None:
    monkeypatch.setenv("VIDGEN_LEASE_SECONDS", "1.5")  # what the process tests use
    monkeypatch.setenv("VIDGEN_BUSY_TIMEOUT", "0.1")
    monkeypatch.setenv("VIDGEN_STAGE_TIMEOUT", "1")
    monkeypatch.setenv("VIDGEN_DATABASE_URL", f"sqlite:///{tmp_path / 'memory.db'}")
    assert cli("generate").code == 0
    assert cli("jobs", "--json").json()["count"] == 1


# -- item 12: files the config names --------------------------------------------------------


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


@pytest.mark.parametrize(
    ("kind", "field", "reason"),
    [
        ("missing", "config.music.path", "file not found"),
        ("folder", "config.music.path", "is a folder, not a file"),
        ("fifo", "config.music.path", "is a FIFO (named pipe), not a regular file"),
        ("missing", "config.images[1]", "file not found"),
        ("folder", "config.images[1]", "is a folder, not a file"),
        ("fifo", "config.images[1]", "is a FIFO (named pipe), not a regular file"),
    ],
)
def test_files_named_by_the_config_are_checked_at_generate_without_opening(
    cli: Cli, home: Path, tmp_path: Path, kind: str, field: str, reason: str
) -> None:
    good = tmp_path / "good.png"
    good.write_bytes(b"\x89PNG\r\n\x1a\n")
    bad = tmp_path / "bad.media"
    if kind == "folder":
        bad.mkdir()
    elif kind == "fifo":
        _fifo(bad)
    if field.startswith("config.music"):
        path = _config(tmp_path, music={"path": str(bad)})
    else:
        path = _config(tmp_path, providers={"visuals": "images"}, images=[str(good), str(bad)])
    started = time.monotonic()
    result = cli("generate", "--config", str(path))
    assert time.monotonic() - started < 10  # a FIFO is never opened (that would block)
    assert_one_line_error(result, (2,), f"{path}: {field}: {bad}: {reason}")
    assert job_count(home) == 0


def test_a_fifo_that_appears_after_generate_fails_the_stage_at_once(tmp_path: Path) -> None:
    """Checked again in the stage, before opening: no thread stuck until the time limit."""
    from vidgen.media.visuals import ClipSpec, ImageKenBurns

    fifo = _fifo(tmp_path / "photo.jpg")
    spec = ClipSpec(
        index=0, duration=1.0, width=90, height=160, fps=10, style="cinematic",
        keywords=[], seed=1,
    )  # fmt: skip
    box: dict[str, BaseException] = {}

    def render() -> None:
        try:
            ImageKenBurns([fifo]).render(spec, tmp_path / "clip.mp4")
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=render, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "the stage blocked on the FIFO"
    assert isinstance(box.get("error"), FatalStageError)
    assert "is a FIFO (named pipe)" in str(box["error"])


# -- "worker lost during initialization" ------------------------------------------------------


def test_a_worker_lost_before_its_first_stage_names_that_stage(
    cli: Cli, settings: Any, store: Any
) -> None:
    from datetime import timedelta

    from vidgen.store.beats import reap_expired_leases
    from vidgen.store.models import Job, utcnow

    assert cli("generate").code == 0
    with store.write() as session:  # claimed, then killed before its first checkpoint
        job = session.get(Job, 1)
        job.status, job.lease_owner = "running", "dead-worker"
        job.lease_expires_at = utcnow() - timedelta(seconds=1)
        session.add(job)
    assert reap_expired_leases(store) == [1]
    status = cli("status", "1", "--json").json()
    assert status["error_message"] == "worker lost during initialization, before its first stage"
