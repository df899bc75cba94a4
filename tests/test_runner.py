"""The runner's promises: checkpoints, retries with backoff, time limits, leases, races."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from conftest import CliResult
from conftest import new_job as _new_job
from conftest import run_job as _run
from stagekit import runs_log
from vidgen import service
from vidgen.errors import LeaseLost, NotFound, Refused
from vidgen.pipeline.execute import SHUTDOWN
from vidgen.pipeline.retries import backoff_delay
from vidgen.pipeline.runner import JobRunner
from vidgen.settings import load_settings
from vidgen.store import Store
from vidgen.store import jobs as job_rows
from vidgen.store.beats import reap_expired_leases
from vidgen.store.leases import Lease
from vidgen.store.models import Checkpoint, Job, JobStatus, utcnow

Cli = Callable[..., CliResult]


def test_backoff_is_exponential_capped_and_jittered() -> None:
    rng = random.Random(7)
    delays = [backoff_delay(attempt, 2.0, 10.0, rng) for attempt in range(1, 6)]
    nominal = [2.0, 4.0, 8.0, 10.0, 10.0]
    for delay, expected in zip(delays, nominal, strict=True):
        assert expected / 2 <= delay <= expected
    assert len({round(d, 6) for d in delays}) == 5  # jitter: no two the same
    again = [backoff_delay(a, 2.0, 10.0, random.Random(7)) for a in range(1, 2)]
    assert again[0] == delays[0]  # deterministic for a seeded generator


def test_retries_wait_between_attempts(
    cli: Cli, stagekit: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGEKIT_TREND_COLLECTION", "fail:2")
    monkeypatch.setenv("VIDGEN_BACKOFF_BASE", "0.2")
    monkeypatch.setenv("VIDGEN_BACKOFF_MAX", "1")
    job_id = _new_job(cli)
    started = time.monotonic()
    assert _run(job_id) == JobStatus.COMPLETED
    # two backoffs: >= 0.1 (half of 0.2) and >= 0.2 (half of 0.4)
    assert time.monotonic() - started >= 0.3


def test_fatal_error_fails_at_once_without_retrying(
    cli: Cli, stagekit: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGEKIT_TREND_ANALYSIS", "fatal")
    job_id = _new_job(cli)
    assert _run(job_id) == JobStatus.FAILED
    assert [r for r in runs_log(stagekit) if r[0] == "trend_analysis"] == [
        ("trend_analysis", job_id, 1)
    ]
    with store.read() as session:
        job = session.get(Job, job_id)
        checkpoint = session.exec(
            select(Checkpoint).where(Checkpoint.stage == "trend_analysis")
        ).one()
    assert job is not None and job.stage == "trend_analysis"
    assert job.error_message == "trend_analysis failed: trend_analysis cannot work with this config"
    assert checkpoint.traceback is not None and "FatalStageError" in checkpoint.traceback


def test_attempt_limit_is_configurable(
    cli: Cli, stagekit: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGEKIT_REVIEW", "fail:10")
    monkeypatch.setenv("VIDGEN_STAGE_ATTEMPTS", "5")
    job_id = _new_job(cli)
    assert _run(job_id) == JobStatus.FAILED
    assert len([r for r in runs_log(stagekit) if r[0] == "review"]) == 5


def test_hung_stage_hits_its_time_limit(
    cli: Cli, stagekit: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGEKIT_TREND_COLLECTION", "hang")
    monkeypatch.setenv("VIDGEN_STAGE_TIMEOUT", "1")  # the smallest allowed
    monkeypatch.setenv("VIDGEN_STAGE_ATTEMPTS", "2")
    monkeypatch.setattr("vidgen.pipeline.execute.CANCEL_GRACE", 0.1)
    job_id = _new_job(cli)
    started = time.monotonic()
    assert _run(job_id) == JobStatus.FAILED
    assert time.monotonic() - started < 5
    status = cli("status", str(job_id), "--json").json()
    assert "exceeded its time limit of 1 s" in status["error_message"]


def test_resume_reuses_outputs_and_reruns_a_stage_whose_files_changed(
    cli: Cli, stagekit: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGEKIT_REVIEW", "fatal")
    job_id = _new_job(cli)
    assert _run(job_id) == JobStatus.FAILED
    monkeypatch.delenv("STAGEKIT_REVIEW")
    # Corrupt what trend_analysis left behind: it and everything after it must run again.
    analysis_file = stagekit / "jobs" / str(job_id) / "trend_analysis" / "attempt-1"
    (analysis_file / "trend_analysis.txt").write_text("tampered")
    cli("retry", str(job_id))
    assert _run(job_id) == JobStatus.COMPLETED
    counts = {}
    for stage, _, _ in runs_log(stagekit):
        counts[stage] = counts.get(stage, 0) + 1
    assert counts == {
        "trend_collection": 1,
        "trend_analysis": 2,
        "content_generation": 2,
        "composition": 2,
        "review": 2,
    }
    with store.read() as session:
        review = session.exec(
            select(Checkpoint).where(Checkpoint.stage == "review", Checkpoint.status == "completed")
        ).one()
    assert review.outputs["saw"] == sorted(
        ["trend_collection", "trend_analysis", "content_generation", "composition"]
    )


def test_missing_checkpoint_file_is_rerun_not_crashed(
    cli: Cli, stagekit: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGEKIT_COMPOSITION", "fatal")
    job_id = _new_job(cli)
    _run(job_id)
    monkeypatch.delenv("STAGEKIT_COMPOSITION")
    target = stagekit / "jobs" / str(job_id) / "content_generation" / "attempt-1"
    (target / "content_generation.txt").unlink()
    cli("retry", str(job_id))
    assert _run(job_id) == JobStatus.COMPLETED
    assert [r[0] for r in runs_log(stagekit)].count("content_generation") == 2


def test_transitions_refuse_moves_that_are_not_allowed(cli: Cli, store: Store) -> None:
    job_id = _new_job(cli)
    with pytest.raises(LeaseLost):
        job_rows.complete(store, Lease(job_id, "nobody", 0))
    with pytest.raises(Refused):
        job_rows.retry(store, job_id)
    with pytest.raises(NotFound):
        job_rows.claim(store, 999, "w", 10)
    _job, lease = job_rows.claim(store, job_id, "w1", 10)
    assert lease == Lease(job_id, "w1", 1)
    with pytest.raises(Refused):
        job_rows.claim(store, job_id, "w2", 10)  # a job never runs twice at once
    with pytest.raises(LeaseLost):
        job_rows.fail(store, Lease(job_id, "w2", 1), "review", "x")  # not the lease holder


def test_two_runners_for_one_job_run_it_once(cli: Cli, stagekit: Path) -> None:
    job_id = _new_job(cli)
    results: list[JobStatus | None] = []
    threads = [threading.Thread(target=lambda: results.append(_run(job_id))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(str(r) for r in results) == sorted(["completed", "None", "None", "None"])
    assert len(runs_log(stagekit)) == 5


def test_retry_race_queues_exactly_once(
    cli: Cli, stagekit: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGEKIT_TREND_COLLECTION", "fatal")
    job_id = _new_job(cli)
    _run(job_id)
    settings = load_settings()
    barrier = threading.Barrier(10)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            service.retry(settings, job_id)
            outcomes.append("queued")
        except Refused as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=attempt) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("queued") == 1
    refusal = "Cannot retry job with status 'pending'. Only 'failed' jobs can be retried."
    assert outcomes.count(refusal) == 9


def test_expired_lease_fails_the_job_naming_the_stage(cli: Cli, store: Store) -> None:
    job_id = _new_job(cli)
    job_rows.claim(store, job_id, "dead-worker", 60)
    with store.write() as session:
        session.add(Checkpoint(job_id=job_id, stage="composition", attempt=1))
        job = session.get(Job, job_id)
        assert job is not None
        job.stage = "composition"
        session.add(job)
    assert reap_expired_leases(store) == []  # lease still valid
    with store.write() as session:
        job = session.get(Job, job_id)
        assert job is not None
        job.lease_expires_at = utcnow() - timedelta(seconds=1)
        session.add(job)
    assert reap_expired_leases(store) == [job_id]
    status = cli("status", str(job_id), "--json").json()
    assert status["status"] == "failed"
    assert status["error_message"] == "worker lost during composition"
    assert cli("retry", str(job_id)).code == 0


def test_heartbeat_keeps_a_long_stage_alive(
    cli: Cli, stagekit: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIDGEN_LEASE_SECONDS", "1")  # the smallest allowed
    monkeypatch.setenv("STAGEKIT_TREND_COLLECTION", "sleep:3")
    job_id = _new_job(cli)
    reaped: list[int] = []
    runner = threading.Thread(target=lambda: _run(job_id))
    runner.start()
    while runner.is_alive():
        reaped += reap_expired_leases(store)
        time.sleep(0.05)
    assert reaped == []
    assert cli("status", str(job_id), "--json").json()["status"] == "completed"


def test_shutdown_cancels_the_stage_and_requeues_the_job(
    cli: Cli,
    stagekit: Path,
    drain,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("STAGEKIT_CONTENT_GENERATION", "pause")
    job_id = _new_job(cli)
    thread = threading.Thread(target=lambda: _run(job_id))
    thread.start()
    while not (stagekit / "inside-content_generation").exists():
        time.sleep(0.02)
    SHUTDOWN.set()
    thread.join(10)
    SHUTDOWN.clear()
    status = cli("status", str(job_id), "--json").json()
    assert status["status"] == "pending"
    assert status["completed_stages"] == ["trend_collection", "trend_analysis"]
    (stagekit / "release-content_generation").touch()
    assert drain() >= 1  # the requeued message runs it to the end
    assert cli("status", str(job_id), "--json").json()["status"] == "completed"


def test_stages_see_the_profile_override_and_the_effective_theme(
    cli: Cli, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """VIDGEN_PROFILE and --theme are applied once, by the runner, to the config stages get."""
    assert cli("generate", "--theme", "Travel").code == 0
    assert cli("generate").code == 0
    with store.read() as session:
        themed, plain = session.get(Job, 1), session.get(Job, 2)
    assert themed is not None and plain is not None
    runner = JobRunner(1, load_settings())
    config = runner._load_config(themed)
    assert config.resolution == (360, 640, 30)  # the sample says full; VIDGEN_PROFILE=preview
    assert config.config.theme == "Travel"
    monkeypatch.delenv("VIDGEN_PROFILE")
    config = JobRunner(2, load_settings())._load_config(plain)
    # The profile was recorded when the job was queued: the worker's environment cannot change it.
    assert config.resolution == (360, 640, 30)
    assert config.config.theme == "Product Demo"
