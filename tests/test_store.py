"""The store package: named runner events, derived cost, the video's one-way decision, and an
older database opened by this version."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import CliResult
from conftest import new_job as _new_job
from vidgen import service
from vidgen.errors import Refused
from vidgen.files import Moves
from vidgen.pipeline import signals as pipeline_events
from vidgen.pipeline.runner import JobRunner
from vidgen.settings import load_settings
from vidgen.statuses import JobStatus, RunnerEvent, VideoStatus
from vidgen.store import Store, checkpoints, jobs, reset_stores, videos
from vidgen.store.engine import SCHEMA_VERSION
from vidgen.store.events import events_for_job, record_event
from vidgen.store.models import Event, Video

Cli = Callable[..., CliResult]


def _run_heard_by(cli: Cli, listener: Callable[[Event], None]) -> int:
    """A new job run to completion here while ``listener`` hears the runner's events."""
    pipeline_events.subscribe(listener)
    try:
        job_id = _new_job(cli)
        assert JobRunner(job_id, load_settings()).run() == JobStatus.COMPLETED
    finally:
        pipeline_events.unsubscribe(listener)
    return job_id


def test_a_job_records_its_named_events_in_order_and_listeners_hear_them(
    cli: Cli, stagekit: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGEKIT_TREND_ANALYSIS", "fail:1")
    monkeypatch.setenv("VIDGEN_BACKOFF_BASE", "0.01")
    heard: list[Event] = []
    job_id = _run_heard_by(cli, heard.append)
    rows = events_for_job(store, job_id)
    kinds = [(row.kind, row.stage, row.attempt) for row in rows]
    assert kinds == [
        (RunnerEvent.JOB_CLAIMED, None, None),
        (RunnerEvent.STAGE_STARTED, "trend_collection", 1),
        (RunnerEvent.STAGE_COMPLETED, "trend_collection", 1),
        (RunnerEvent.STAGE_STARTED, "trend_analysis", 1),
        (RunnerEvent.STAGE_FAILED, "trend_analysis", 1),
        (RunnerEvent.BACKOFF, "trend_analysis", 1),
        (RunnerEvent.STAGE_STARTED, "trend_analysis", 2),
        (RunnerEvent.STAGE_COMPLETED, "trend_analysis", 2),
        *[
            (kind, stage, 1)
            for stage in ("content_generation", "composition", "review")
            for kind in (RunnerEvent.STAGE_STARTED, RunnerEvent.STAGE_COMPLETED)
        ],
        (RunnerEvent.JOB_COMPLETED, None, None),
    ]
    assert [row.id for row in heard] == [row.id for row in rows]
    failed = rows[4]
    assert failed.message  # the attempt's one-line error
    assert rows[5].data["delay"] > 0
    # --follow reads only what came after the last event it saw
    assert events_for_job(store, job_id, after_id=rows[-2].id) == [rows[-1]]


def test_listeners_hear_events_of_other_writers_in_order_and_as_stored(
    cli: Cli, stagekit: Path, store: Store
) -> None:
    """This process's events reach listeners without a read-back; one written in between by
    someone else (here: another connection, as `vidgen cancel` in another process would)
    makes the runner read the store instead, so nothing is missed or reordered."""
    db = load_settings().home / "vidgen.db"
    heard: list[Event] = []

    def listen(row: Event) -> None:
        heard.append(row)
        if row.kind == RunnerEvent.STAGE_STARTED and row.stage == "trend_analysis":
            with sqlite3.connect(db) as other:
                other.execute(
                    "INSERT INTO event (job_id, at, kind, message, data) VALUES (?, ?, ?, ?, ?)",
                    (row.job_id, "2026-01-01 00:00:00", "cancel_requested", "foreign", "{}"),
                )

    job_id = _run_heard_by(cli, listen)
    rows = events_for_job(store, job_id)
    assert "foreign" in [row.message for row in rows]
    assert [row.model_dump() for row in heard] == [row.model_dump() for row in rows]


def test_a_retry_records_the_stages_it_skips(
    cli: Cli, stagekit: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGEKIT_COMPOSITION", "fatal")
    job_id = _new_job(cli)
    assert JobRunner(job_id, load_settings()).run() == JobStatus.FAILED
    assert events_for_job(store, job_id)[-1].kind == RunnerEvent.JOB_FAILED
    last = events_for_job(store, job_id)[-1].id
    monkeypatch.delenv("STAGEKIT_COMPOSITION")
    cli("retry", str(job_id))
    assert JobRunner(job_id, load_settings()).run() == JobStatus.COMPLETED
    after = [(row.kind, row.stage) for row in events_for_job(store, job_id, after_id=last)]
    assert after[:5] == [
        (RunnerEvent.JOB_RETRIED, None),  # vidgen retry, in the job's history too
        (RunnerEvent.JOB_CLAIMED, None),
        (RunnerEvent.STAGE_SKIPPED, "trend_collection"),
        (RunnerEvent.STAGE_SKIPPED, "trend_analysis"),
        (RunnerEvent.STAGE_SKIPPED, "content_generation"),
    ]


def test_record_event_keeps_its_fields(cli: Cli, store: Store) -> None:
    job_id = _new_job(cli)
    row = record_event(
        store, job_id, RunnerEvent.BACKOFF, stage="s", attempt=2, message="m", data={"delay": 1.5}
    )
    (stored,) = events_for_job(store, job_id)
    assert (stored.id, stored.kind, stored.stage, stored.attempt) == (row.id, "backoff", "s", 2)
    assert (stored.message, stored.data) == ("m", {"delay": 1.5})
    assert stored.at.tzinfo is not None


def test_the_job_cost_is_the_sum_of_its_completed_attempts(cli: Cli, store: Store) -> None:
    job_id = _new_job(cli)
    _job, lease = jobs.claim(store, job_id, "w", 60)
    first = checkpoints.start(store, lease, "trend_collection")
    checkpoints.complete(store, lease, first, 0.1, {}, {}, 0.25)
    failed = checkpoints.start(store, lease, "trend_analysis")
    checkpoints.fail(store, lease, failed, 0.1, "boom", None)
    again = checkpoints.start(store, lease, "trend_analysis")
    checkpoints.complete(store, lease, again, 0.1, {}, {}, 0.5)
    assert again.number == 2
    assert checkpoints.total_cost(store, job_id) == pytest.approx(0.75)
    assert service.job_detail(load_settings(), job_id).total_cost == pytest.approx(0.75)
    assert checkpoints.latest_states(store, [job_id]) == {
        job_id: {"trend_collection": "completed", "trend_analysis": "completed"}
    }


def test_a_video_is_decided_once(cli: Cli, store: Store, tmp_path: Path) -> None:
    job_id = _new_job(cli)
    _job, lease = jobs.claim(store, job_id, "w", 60)
    files = (tmp_path / "v.mp4", tmp_path / "v.jpg", tmp_path / "v.json")
    video, decided, stale = videos.file_for_review(
        store,
        lease,
        plan_id=None,
        title="t",
        files=files,
        duration_seconds=1.0,
        before_commit=lambda row: None,
    )
    assert decided is None and stale == [] and video.id is not None
    moved = (tmp_path / "a.mp4", tmp_path / "a.jpg", tmp_path / "a.json")
    done = videos.decide(
        store, video.id, VideoStatus.APPROVED, None, lambda row, now: (moved, Moves())
    )
    assert (done.status, done.video_path, done.reviewed_at is not None) == (
        "approved",
        str(moved[0]),
        True,
    )
    with pytest.raises(Refused, match="already approved"):
        videos.decide(
            store, video.id, VideoStatus.REJECTED, "no", lambda row, now: (moved, Moves())
        )
    # A filing for an already decided job changes nothing.
    again, decided, _ = videos.file_for_review(
        store,
        lease,
        plan_id=None,
        title="t2",
        files=files,
        duration_seconds=2.0,
        before_commit=lambda row: None,
    )
    assert decided is not None and again.title == "t"


def test_a_version_1_database_is_upgraded_in_place(home: Path) -> None:
    """Databases made before the event table had two more NOT NULL job columns."""
    settings = load_settings()
    db = Path(settings.db_url.removeprefix("sqlite:///"))
    db.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE job (id INTEGER PRIMARY KEY, status VARCHAR NOT NULL, stage VARCHAR, "
            "theme VARCHAR NOT NULL, config_path VARCHAR, created_at DATETIME NOT NULL, "
            "updated_at DATETIME NOT NULL, error_message VARCHAR, task_id VARCHAR, "
            "lease_owner VARCHAR, lease_expires_at DATETIME, attempts_started INTEGER NOT NULL, "
            "total_cost FLOAT NOT NULL)"
        )
        conn.execute(
            "INSERT INTO job VALUES (1, 'failed', 'review', 'old', NULL, '2026-01-01 00:00:00', "
            "'2026-01-01 00:00:00', 'x', NULL, NULL, NULL, 5, 0.5)"
        )
        conn.execute("PRAGMA user_version = 1")
    reset_stores()
    from vidgen.store import get_store

    store = get_store(settings)
    new_id = jobs.create(store, "new", "/tmp/x.yml")
    assert new_id == 2
    old = jobs.get(store, 1)
    assert old is not None and old.theme == "old" and old.status == "failed"
    record_event(store, new_id, RunnerEvent.JOB_CLAIMED)
    assert len(events_for_job(store, new_id)) == 1
    with store.read() as session:
        assert session.get(Video, 1) is None


def test_a_version_5_database_gains_the_counting_index(home: Path) -> None:
    """v6 added ix_job_count; counting all jobs goes through it (the narrowest index)."""
    settings = load_settings()
    from vidgen.store import get_store

    get_store(settings)
    reset_stores()
    db = Path(settings.db_url.removeprefix("sqlite:///"))
    with sqlite3.connect(db) as conn:
        conn.execute("DROP INDEX ix_job_count")
        conn.execute("PRAGMA user_version = 5")
    store = get_store(settings)
    jobs.create(store, "after", "/tmp/x.yml")
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        plan = conn.execute("EXPLAIN QUERY PLAN SELECT count(*) FROM job").fetchall()
    assert "ix_job_count" in str(plan)
    assert jobs.count(store, None) == 1


def test_a_version_4_database_gains_the_lease_epoch(home: Path) -> None:
    """v5 added job.lease_epoch (fencing): existing jobs start at epoch 0, a claim makes it 1."""
    settings = load_settings()
    from vidgen.store import get_store

    store = get_store(settings)
    done = jobs.create(store, "old-done", "/tmp/x.yml")
    waiting = jobs.create(store, "old-pending", "/tmp/x.yml")
    reset_stores()
    db = Path(settings.db_url.removeprefix("sqlite:///"))
    with sqlite3.connect(db) as conn:  # what vidgen 4 left: no lease_epoch column
        conn.execute("ALTER TABLE job DROP COLUMN lease_epoch")
        conn.execute("UPDATE job SET status = 'completed' WHERE id = ?", (done,))
        conn.execute("PRAGMA user_version = 4")
    store = get_store(settings)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    old = jobs.get(store, done)
    assert old is not None and (old.status, old.lease_epoch) == ("completed", 0)
    _job, lease = jobs.claim(store, waiting, "w", 60)
    assert lease.epoch == 1
    jobs.complete(store, lease)
    assert jobs.get(store, waiting).status == "completed"  # type: ignore[union-attr]
