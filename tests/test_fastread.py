"""The read commands' fast path (``vidgen.store.fastread``) answers exactly as the SQLAlchemy
path does, never creates or changes a store, and keeps ``vidgen status ID [--json]`` and
``vidgen jobs`` free of SQLAlchemy.

Both paths are the service's own (``job_status``, ``job_detail``, ``list_jobs``): the
SQLAlchemy one is taken by making ``fastread.connect`` decline, the fast one by making the
SQLAlchemy store unreachable, so neither can silently stand in for the other.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from vidgen import service
from vidgen.errors import InvalidInput, NotFound
from vidgen.schemas import render_json
from vidgen.settings import Settings, load_settings
from vidgen.stages import PIPELINE_STAGES
from vidgen.store import Store, engine, fastread, reset_stores
from vidgen.store.engine import SCHEMA_VERSION
from vidgen.store.models import Checkpoint, Job, Publication, Video

PUBLICATIONS = [
    [],
    [("youtube", "published"), ("tiktok", "scheduled")],
    [("tiktok", "failed"), ("youtube", "cancelled")],
]
T0 = datetime(2026, 12, 4, 20, 0, 0, tzinfo=UTC)  # microsecond 0: isoformat drops the fraction


def _fill(store: Store) -> list[int]:
    """Jobs of every shape a status body shows: each status, none to all stages completed, a
    stage completed then failed on a later attempt, superseded and running attempts, missing
    and odd text fields, and created_at ties (ordered by id)."""
    ids: list[int] = []
    shapes: list[dict[str, Any]] = [
        {"status": "pending", "stage": "initialization"},
        {"status": "running", "stage": "composition", "done": 2, "running": "composition"},
        {"status": "completed", "stage": "review", "done": 5},
        {"status": "failed", "stage": "trend_analysis", "done": 1, "failed": "trend_analysis",
         "error_message": "trend_analysis failed: ffmpeg exited 1\nsecond line"},
        {"status": "cancelled", "stage": None, "theme": "Ünïcode ✓ «theme»", "done": 3},
        {"status": "pending", "stage": "content_generation", "done": 3, "superseded": 2},
        {"status": "failed", "stage": "composition", "done": 3, "redo_failed": "trend_analysis"},
        {"status": "completed", "stage": "review", "done": 5, "tie": True},
        {"status": "completed", "stage": "review", "done": 5, "tie": True},
        {"status": "pending", "stage": "initialization", "micro": 0},
    ]  # fmt: skip
    for n in range(3):  # enough rows for pages, offsets and totals
        for i, shape in enumerate(shapes):
            k = n * len(shapes) + i
            created = T0 + timedelta(minutes=k, microseconds=k * 7)
            if shape.get("tie"):  # six jobs created in the same microsecond
                created = T0 + timedelta(minutes=15, microseconds=1)
            if shape.get("micro") == 0:
                created = created.replace(microsecond=0)
            with store.write() as session:
                job = Job(
                    status=shape["status"],
                    stage=shape["stage"],
                    theme=shape.get("theme", f"Theme {k}"),
                    config_path="/tmp/x.yml",
                    created_at=created,
                    updated_at=created + timedelta(seconds=k),
                    error_message=shape.get("error_message"),
                )
                session.add(job)
                session.flush()
                assert job.id is not None
                job_id = job.id
                at = created
                cps: list[tuple[str, str]] = []
                cps += [(s, "completed") for s in PIPELINE_STAGES[: shape.get("done", 0)]]
                if "superseded" in shape:
                    cps += [(s, "superseded") for s in PIPELINE_STAGES[shape["superseded"] : 3]]
                if "failed" in shape:
                    cps.append((shape["failed"], "failed"))
                if "redo_failed" in shape:
                    cps.append((shape["redo_failed"], "failed"))  # a later attempt failed
                if "running" in shape:
                    cps.append((shape["running"], "running"))
                for attempt, (stage, state) in enumerate(cps, start=1):
                    at += timedelta(seconds=1, microseconds=attempt * 1001)
                    running = state == "running"
                    session.add(
                        Checkpoint(
                            job_id=job_id, stage=stage, attempt=attempt, status=state,
                            started_at=at, finished_at=None if running else at + timedelta(1.5),
                            duration_seconds=None if running else 1.5 + k / 7,
                            cost=0.0 if running else 0.01 * attempt + k / 3,
                            error=f"{stage} failed: boom {k}" if state == "failed" else None,
                        )
                    )  # fmt: skip
                if shape.get("done") == 5:
                    video = Video(job_id=job_id, video_path=f"/r/job-{job_id}-ü.mp4",
                                  thumbnail_path="/r/t.jpg", log_path="/r/l.json")  # fmt: skip
                    session.add(video)
                    session.flush()
                    assert video.id is not None
                    # Publications of every shape a status shows, up to two per video.
                    for n_pub, (dest, state) in enumerate(PUBLICATIONS[k % 3]):
                        session.add(
                            Publication(
                                video_id=video.id, destination=dest, status=state,
                                scheduled_at=created + timedelta(hours=n_pub, microseconds=k),
                                url=f"https://x.example/{k}" if state == "published" else None,
                                error_message="quota ✓" if state == "failed" else None,
                            )
                        )  # fmt: skip
            ids.append(job_id)
    return ids


@pytest.fixture
def filled(settings: Settings, store: Store) -> list[int]:
    ids = _fill(store)
    reset_stores()  # close SQLAlchemy's connections, as a fresh `vidgen` process finds it
    return ids


def _slow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastread, "connect", lambda settings: None)


def _both(
    monkeypatch: pytest.MonkeyPatch, call: Callable[[], Any]
) -> tuple[str | BaseException, str | BaseException]:
    """(fast, SQLAlchemy) answers of ``call``: the JSON body, or what it raised."""

    def answer() -> str | BaseException:
        try:
            return render_json(call())
        except (NotFound, InvalidInput) as exc:
            return exc

    with monkeypatch.context() as m:
        m.setattr(engine, "get_store", _no_sqlalchemy)
        fast = answer()
    with monkeypatch.context() as m:
        _slow(m)
        slow = answer()
    return fast, slow


def _no_sqlalchemy(settings: Settings) -> Store:
    raise AssertionError("the fast path fell back to SQLAlchemy")


def _same(fast: str | BaseException, slow: str | BaseException) -> None:
    if isinstance(slow, BaseException):
        assert type(fast) is type(slow) and str(fast) == str(slow)
    else:
        assert fast == slow


def test_status_bodies_are_byte_for_byte_those_of_the_sqlalchemy_path(
    filled: list[int], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for job_id in [*filled, 0, -3, max(filled) + 1, 2**63 - 1]:
        fast, slow = _both(monkeypatch, lambda j=job_id: service.job_status(settings, j))
        _same(fast, slow)
    body = _both(monkeypatch, lambda: service.job_status(settings, filled[3]))[0]
    assert isinstance(body, str) and '"completed_stages":["trend_collection"]' in body
    shown = [_both(monkeypatch, lambda j=j: service.job_status(settings, j))[0] for j in filled]
    assert any('"status":"published","scheduled_at":' in str(b) for b in shown)
    assert any('"error_message":"quota ✓"' in str(b) for b in shown)


def test_job_details_are_byte_for_byte_those_of_the_sqlalchemy_path(
    filled: list[int], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for job_id in [*filled, 0, max(filled) + 1]:
        fast, slow = _both(monkeypatch, lambda j=job_id: service.job_detail(settings, j))
        _same(fast, slow)
    body = _both(monkeypatch, lambda: service.job_detail(settings, filled[2]))[0]
    assert isinstance(body, str) and '"video_path":"/r/job-' in body and '"total_cost":' in body


@pytest.mark.parametrize("status", [None, "pending", "running", "completed", "failed", "cancelled"])
def test_job_lists_with_filters_limits_and_offsets_are_those_of_the_sqlalchemy_path(
    filled: list[int], settings: Settings, monkeypatch: pytest.MonkeyPatch, status: str | None
) -> None:
    for limit, offset in [(20, 0), (1, 0), (3, 2), (7, 5), (1000, 0), (5, 29), (5, 30), (2, 10**9)]:
        page = {"limit": limit, "offset": offset}
        _same(*_both(monkeypatch, lambda p=page: service.list_jobs(settings, status, **p)))
    for bad in [{"limit": 0}, {"limit": 1001}, {"offset": -1}]:
        _same(*_both(monkeypatch, lambda b=bad: service.list_jobs(settings, status, **b)))
    _same(*_both(monkeypatch, lambda: service.list_jobs(settings, "bogus")))


def test_the_fast_path_reads_an_idle_store_read_only_and_leaves_its_files_alone(
    filled: list[int], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Path(settings.db_url.removeprefix("sqlite:///"))
    assert not Path(f"{db}-wal").exists()  # the last SQLAlchemy connection checkpointed it
    before = {p.name: p.stat().st_mtime_ns for p in db.parent.iterdir()}
    monkeypatch.setattr(engine, "get_store", _no_sqlalchemy)
    assert service.list_jobs(settings, None, 1000, 0).total == len(filled)
    assert service.job_status(settings, filled[0]).id == filled[0]
    after = {p.name: p.stat().st_mtime_ns for p in db.parent.iterdir() if p.name in before}
    assert after == before


def test_the_fast_path_never_creates_a_store_and_declines_what_it_was_not_written_for(
    home: Path, tmp_path: Path
) -> None:
    settings = load_settings()
    db = Path(settings.db_url.removeprefix("sqlite:///"))
    assert fastread.connect(settings) is None and not db.exists()
    assert not home.exists() or not any(home.iterdir())

    other = settings.model_copy(update={"database_url": "postgresql://u:p@127.0.0.1:1/none"})
    assert fastread.connect(other) is None  # PostgreSQL keeps the SQLAlchemy path

    not_a_store = tmp_path / "notes.db"
    not_a_store.write_text("not a database\n" * 100)
    as_file = settings.model_copy(update={"database_url": f"sqlite:///{not_a_store}"})
    assert fastread.connect(as_file) is None
    assert not_a_store.read_text() == "not a database\n" * 100

    old = tmp_path / "old.db"
    with sqlite3.connect(old) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    older = settings.model_copy(update={"database_url": f"sqlite:///{old}"})
    assert fastread.connect(older) is None  # the SQLAlchemy path migrates it first


def test_the_fast_path_was_written_for_the_stores_schema_version() -> None:
    # A new schema version: check fastread's SQL against the new tables, then raise this.
    assert fastread.READS_SCHEMA == SCHEMA_VERSION


@pytest.mark.parametrize(
    "args", [["status", "1", "--json"], ["status", "2"], ["jobs"], ["jobs", "--json"]]
)
def test_read_commands_do_not_import_sqlalchemy(
    filled: list[int], settings: Settings, args: list[str]
) -> None:
    code = (
        "import sys\n"
        "from vidgen.cli.main import run\n"
        f"code = run({args!r})\n"
        "print('\\nSQLALCHEMY' if 'sqlalchemy' in sys.modules else '\\nLIGHT', code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.strip().splitlines()[-1] == "LIGHT 0", done.stdout + done.stderr
