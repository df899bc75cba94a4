"""Fencing: a runner writes for its job only while it holds the job's lease (owner + epoch).

A live worker whose store stayed write-locked longer than its lease keeps its job (no reaper
fails it: not its own beat thread, not another worker right after the lock); a runner whose
lease really was taken -- the job reaped, then claimed again -- gets ``LeaseLost`` on every
kind of write and leaves no publication behind.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from conftest import CliResult
from conftest import new_job as _new_job
from processkit import Factory
from vidgen.errors import LeaseLost
from vidgen.pipeline.runner import JobRunner
from vidgen.settings import load_settings
from vidgen.stages.base import StageContext, StageFunction, StageResult, load_stage
from vidgen.statuses import CheckpointStatus, JobStatus
from vidgen.store import Store, checkpoints, videos
from vidgen.store import jobs as job_rows
from vidgen.store.beats import reap_expired_leases
from vidgen.store.leases import Lease
from vidgen.store.models import Job, Video, utcnow

Cli = Callable[..., CliResult]


def _expire(store: Store, job_id: int) -> None:
    with store.write() as session:
        job = session.get(Job, job_id)
        assert job is not None
        job.lease_expires_at = utcnow() - timedelta(seconds=1)
        session.add(job)


def _review_files(home: Path) -> list[str]:
    review = home / "output" / "review"
    return sorted(p.name for p in review.iterdir()) if review.exists() else []


# -- a store locked past the lease does not cost a live worker its job ---------------------------


@pytest.mark.slow
def test_a_store_locked_longer_than_the_lease_does_not_fail_a_live_workers_job(
    factory: Factory,
) -> None:
    lease = 3.0
    env = {
        "VIDGEN_LEASE_SECONDS": str(lease),
        # Writers give up on the lock and retry (as with a lock longer than the busy timeout).
        "VIDGEN_BUSY_TIMEOUT": "0.5",
        "STAGEKIT_TREND_ANALYSIS": "pause",
        "STAGEKIT_COMPOSITION": "fakevideo",
        "STAGEKIT_REVIEW": "real",
    }
    factory.env.update(env)
    # Two workers: one runs the job, the other reaps expired leases of workers it thinks dead.
    factory.worker()
    factory.worker()
    job_id = factory.generate()
    factory.wait_inside("trend_analysis", timeout=30)
    conn = sqlite3.connect(factory.home / "vidgen.db", timeout=30, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")  # every writer in both workers now waits on this
        (factory.home / "release-trend_analysis").touch()  # the stage ends during the lock
        time.sleep(lease + 2.5)  # the job's lease runs out while nobody can write
        expired = conn.execute(
            "SELECT lease_expires_at < strftime('%Y-%m-%d %H:%M:%f', 'now') FROM job WHERE id = ?",
            (job_id,),
        ).fetchone()[0]
        assert expired == 1
    finally:
        conn.execute("ROLLBACK")
        conn.close()
    factory.wait_for(
        lambda: factory.status(job_id) in ("completed", "failed"), 40, "the job to end"
    )
    job = factory.job(job_id)
    assert job["status"] == "completed", job["error_message"]
    assert [c["status"] for c in factory.checkpoints(job_id)].count("running") == 0
    rows = factory._query("SELECT status FROM video WHERE job_id = ?", job_id)
    assert [row["status"] for row in rows] == ["pending_review"]
    assert "Refused" not in factory.all_output()
    assert "lease lost" not in factory.all_output()


# -- a runner whose lease was taken writes nothing ---------------------------------------------


def _taken(cli: Cli, store: Store) -> tuple[int, Lease, checkpoints.Attempt]:
    """A job claimed by runner 1, which started a checkpoint; then reaped (runner 1 looked
    dead), retried and claimed by runner 2. Returns (job, runner 1's lease, its checkpoint)."""
    job_id = _new_job(cli)
    _job, old = job_rows.claim(store, job_id, "runner-1", 60)
    attempt = checkpoints.start(store, old, "composition")
    _expire(store, job_id)
    assert reap_expired_leases(store) == [job_id]  # runner-1 has no beat row: taken for dead
    assert cli("retry", str(job_id)).code == 0
    _job, new = job_rows.claim(store, job_id, "runner-2", 60)
    assert new.epoch == old.epoch + 1
    return job_id, old, attempt


def test_every_write_of_a_runner_whose_lease_was_taken_is_refused(
    cli: Cli, store: Store, tmp_path: Path
) -> None:
    _every_write_refused(cli, store, tmp_path)


@pytest.mark.slow
def test_every_write_of_a_runner_whose_lease_was_taken_is_refused_on_postgresql(
    cli: Cli, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vidgen.store import get_store, reset_stores

    monkeypatch.setenv("VIDGEN_DATABASE_URL", database_url)
    reset_stores()
    try:
        _every_write_refused(cli, get_store(load_settings()), tmp_path)
    finally:
        reset_stores()


def _every_write_refused(cli: Cli, store: Store, tmp_path: Path) -> None:
    job_id, old, attempt = _taken(cli, store)
    # The reap closed runner 1's attempt in the same transaction.
    (closed,) = checkpoints.for_job(store, job_id)
    assert (closed.status, closed.error) == ("failed", "worker lost during composition")
    writes: dict[str, Callable[[], object]] = {
        "checkpoint start": lambda: checkpoints.start(store, old, "review"),
        "checkpoint complete": lambda: checkpoints.complete(
            store, old, attempt, 1.0, {}, {}, 0.0, finish_job=True
        ),
        "checkpoint fail": lambda: checkpoints.fail(store, old, attempt, 1.0, "x", None),
        "job complete": lambda: job_rows.complete(store, old),
        "job fail": lambda: job_rows.fail(store, old, "composition", "x"),
        "job requeue": lambda: job_rows.requeue(store, old, None),
        "job cancel": lambda: job_rows.finish_cancel(store, old, "composition"),
    }
    published: list[object] = []
    files = (tmp_path / "v.mp4", tmp_path / "v.jpg", tmp_path / "v.json")
    writes["video filing"] = lambda: videos.file_for_review(
        store,
        old,
        plan_id=None,
        title="t",
        files=files,
        duration_seconds=1.0,
        before_commit=published.append,
    )

    def set_stage() -> None:
        with store.write() as session:
            job_rows.set_stage(session, old, "review")

    writes["set stage"] = set_stage
    for kind, write in writes.items():
        with pytest.raises(LeaseLost):
            write()
            pytest.fail(f"{kind} was recorded for a lease that is gone")
    assert job_rows.renew_lease(store, old, 60) is False
    assert published == []  # the filing never got as far as publishing
    # Runner 2's job is untouched: still running under its own lease, one attempt closed.
    job = job_rows.get(store, job_id)
    assert job is not None
    assert (job.status, job.lease_owner, job.lease_epoch) == ("running", "runner-2", 2)
    assert [c.status for c in checkpoints.for_job(store, job_id)] == ["failed"]
    assert videos.for_job(store, job_id) is None


def test_a_lease_lost_during_review_leaves_no_publication_and_no_row(
    cli: Cli, stagekit: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's case: the job is reaped after review filed its video, before the runner
    recorded the checkpoint. The runner stops, takes the publication back, writes nothing."""
    monkeypatch.setenv("STAGEKIT_COMPOSITION", "fakevideo")
    monkeypatch.setenv("STAGEKIT_REVIEW", "real")
    job_id = _new_job(cli)

    def loader(name: str) -> StageFunction:
        stage = load_stage(name, "stagekit")
        if name != "review":
            return stage

        def review_then_reaped(ctx: StageContext) -> StageResult:
            result = stage(ctx)
            assert videos.for_job(store, job_id) is not None  # filed and published
            assert _review_files(stagekit)
            _expire(store, job_id)
            assert reap_expired_leases(store) == [job_id]  # declared lost meanwhile
            return result

        return review_then_reaped

    runner = JobRunner(job_id, load_settings(), owner="gone-runner", stage_loader=loader)
    assert runner.run() is None  # it stopped: the job is not its to complete
    job = job_rows.get(store, job_id)
    assert job is not None
    assert (job.status, job.error_message) == ("failed", "worker lost during review")
    assert videos.for_job(store, job_id) is None
    assert _review_files(stagekit) == []  # no MP4, JPG, JSON or .srt left
    assert CheckpointStatus.RUNNING.value not in [
        c.status for c in checkpoints.for_job(store, job_id)
    ]
    with store.read() as session:
        assert session.exec(select(Video)).all() == []
    # A retry runs review again and completes the job, with one video.
    assert cli("retry", str(job_id)).code == 0
    assert JobRunner(job_id, load_settings(), stage_loader=loader_plain).run() == (
        JobStatus.COMPLETED
    )
    assert videos.for_job(store, job_id) is not None
    states = checkpoints.latest_states(store, [job_id])[job_id]
    assert set(states.values()) == {"completed"}


def loader_plain(name: str) -> StageFunction:
    return load_stage(name, "stagekit")


def test_a_worker_never_reaps_its_own_job_and_a_live_owner_keeps_it(cli: Cli, store: Store) -> None:
    from vidgen.store import beats

    job_id = _new_job(cli)
    job_rows.claim(store, job_id, "worker-a", 60)
    _expire(store, job_id)
    beats.beat(store, "worker-a", hostname="h", pid=1, queue="q")
    assert reap_expired_leases(store, reaper="worker-a") == []  # its own
    assert reap_expired_leases(store, reaper="worker-b") == []  # its owner beats: alive
    with store.write() as session:  # worker-a stopped beating long ago: dead
        from vidgen.store.models import WorkerBeat

        row = session.get(WorkerBeat, "worker-a")
        assert row is not None
        row.last_seen = utcnow() - timedelta(minutes=5)
        session.add(row)
    assert reap_expired_leases(store, reaper="worker-a") == []  # still never its own
    assert reap_expired_leases(store, reaper="worker-b") == [job_id]


def test_a_reaper_that_waited_for_the_store_reaps_nothing(cli: Cli, store: Store) -> None:
    job_id = _new_job(cli)
    job_rows.claim(store, job_id, "dead", 60)
    _expire(store, job_id)
    stalls: list[bool] = []
    # A patience of zero: any wait for the write lock counts as "the store was busy".
    assert reap_expired_leases(store, patience=-1.0, on_stall=lambda: stalls.append(True)) == []
    assert stalls == [True]
    assert job_rows.get(store, job_id).status == "running"  # type: ignore[union-attr]
    assert reap_expired_leases(store) == [job_id]


def test_a_reaper_waits_a_grace_after_the_store_answers_again(
    cli: Cli, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vidgen.pipeline.heartbeat import Reaper

    monkeypatch.setenv("VIDGEN_LEASE_SECONDS", "1")  # heartbeat and beat 0.25 s: grace 0.75 s
    settings = load_settings()
    job_id = _new_job(cli)
    job_rows.claim(store, job_id, "dead", 60)
    _expire(store, job_id)
    reaper = Reaper(store, settings, "worker-b")
    reaper.trouble()  # its beat was refused by a locked store
    assert reaper.reap() == []
    time.sleep(0.5)
    reaper.waited(0.01)  # the store answers again: the owners' chance to renew starts now
    time.sleep(0.5)
    assert reaper.reap() == []  # 1 s after the trouble, but only 0.5 s after the store is back
    time.sleep(0.4)
    assert reaper.reap() == [job_id]
