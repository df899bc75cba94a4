"""Issue 11 (items 3, 4): no job is left ``pending`` with nobody to run it.

Before: a ``retry`` the queue refused (Redis down, queue.db locked) left the job ``pending``;
every later retry was refused and a live worker never ran it (only ``recover`` or a worker
restart did); a ``generate``/``retry`` SIGKILLed between its store write and its enqueue left a
pending job with no message, again until ``recover``.

Now the store is the outbox: every worker looks every ``RECONCILE_SECONDS`` for jobs pending
longer than ``RECONCILE_GRACE_SECONDS`` with no queue message and queues them (one
compare-and-set in the store per job, so several workers queue it once), within
``RECONCILE_BOUND_SECONDS``; the atomic claim still makes a duplicate message a no-op. A retry
the queue refuses is put back to ``failed`` (its error restored) and says so; a generate the
queue refuses records nothing and says so; a ``--from-stage`` retry stays pending for the
reconcile and says that. Scenarios: docs/RELIABILITY.md, rows 14-17.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import CliResult
from processkit import TESTS, Factory, Proc, RedisServer
from vidgen.api.app import create_app
from vidgen.errors import QueueDamaged, QueueUnavailable
from vidgen.pipeline import queue
from vidgen.pipeline.recovery import RECONCILE_BOUND_SECONDS, requeue_orphans
from vidgen.settings import Settings
from vidgen.stages import PIPELINE_STAGES
from vidgen.store import Store, events, jobs
from vidgen.store.models import Job, utcnow

Cli = Callable[..., CliResult]


def _failed_job(store: Store, error: str = "trend_analysis failed: boom") -> int:
    job_id = jobs.create(store, "default", "theme.yml")
    _job, lease = jobs.claim(store, job_id, "w1", 60)
    jobs.fail(store, lease, "trend_analysis", error)
    return job_id


def _age(store: Store, job_id: int, seconds: float) -> None:
    """Make the job look pending for ``seconds`` already (instead of sleeping that long)."""
    with store.write() as session:
        job = session.get(Job, job_id)
        assert job is not None
        job.updated_at = utcnow() - timedelta(seconds=seconds)
        session.add(job)


def _queue_refuses(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """The queue refuses every enqueue (as with Redis down) until the returned call."""
    working = queue.enqueue_job

    def refuse(settings: Settings, job_id: int) -> str:
        raise QueueUnavailable(
            f"the queue redis://127.0.0.1:1/0 could not take job {job_id} (Connection refused); "
            "check that the server is running and reachable, or fix VIDGEN_QUEUE_URL"
        )

    monkeypatch.setattr(queue, "enqueue_job", refuse)
    return lambda: monkeypatch.setattr(queue, "enqueue_job", working)


def _kinds(store: Store, job_id: int) -> list[str]:
    return [event.kind for event in events.events_for_job(store, job_id)]


# -- the service layer: what a refused enqueue leaves behind ----------------------------------


def test_a_retry_the_queue_refuses_is_put_back_failed_and_says_so(
    cli: Cli, store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = _failed_job(store)
    queue_back = _queue_refuses(monkeypatch)
    refused = cli("retry", str(job_id))
    assert refused.code == 1, refused
    err = refused.err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert f"could not take job {job_id} (Connection refused)" in err
    assert err.endswith(f"job {job_id} is still failed: run 'vidgen retry {job_id}' again"), err
    job = jobs.get(store, job_id)
    assert job is not None
    assert (job.status, job.stage) == ("failed", "trend_analysis")
    assert job.error_message == "trend_analysis failed: boom"  # as before the retry
    assert _kinds(store, job_id)[-2:] == ["job_retried", "retry_not_queued"]

    # The HTTP twin says the same, as a 503 (the one error mapping in the shim).
    with TestClient(create_app()) as client:
        response = client.post(f"/api/jobs/{job_id}/retry")
    assert response.status_code == 503, response.text
    assert response.json()["detail"] == err.removeprefix("Error: ")

    queue_back()  # the same command now works
    queued = cli("retry", str(job_id), "--json")
    assert queued.code == 0, queued.err
    assert queue.queued_job_ids(settings) == {job_id}
    assert jobs.get(store, job_id).status == "pending"  # type: ignore[union-attr]


def test_a_damaged_queue_is_a_503_over_http_too() -> None:
    from vidgen.api.app import status_for

    assert status_for(QueueDamaged("the queue file … is damaged: …")) == 503
    assert status_for(QueueUnavailable("the queue … could not take job 1")) == 503


def test_a_generate_the_queue_refuses_records_nothing_and_says_so(
    cli: Cli, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _queue_refuses(monkeypatch)
    refused = cli("generate")
    assert refused.code == 1, refused
    err = refused.err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.endswith("job 1 not recorded: run the command again"), err
    assert jobs.count(store, None) == 0


def test_a_from_stage_retry_the_queue_refuses_stays_pending_for_the_reconcile(
    cli: Cli, store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = _failed_job(store)
    queue_back = _queue_refuses(monkeypatch)
    refused = cli("retry", str(job_id), "--from-stage", "trend_collection")
    assert refused.code == 1, refused
    assert refused.err.strip().endswith(
        f"job {job_id} is pending: a running worker queues it within "
        f"{RECONCILE_BOUND_SECONDS} s of the queue being reachable (vidgen status {job_id})"
    ), refused.err
    assert jobs.get(store, job_id).status == "pending"  # type: ignore[union-attr]
    queue_back()
    assert requeue_orphans(settings, "w2") == []  # still within the grace
    _age(store, job_id, 6)
    assert requeue_orphans(settings, "w2") == [job_id]
    assert queue.queued_job_ids(settings) == {job_id}
    assert _kinds(store, job_id)[-1] == "job_reenqueued"


# -- the reconcile ------------------------------------------------------------------------------


def test_the_reconcile_queues_only_pending_jobs_without_a_message(
    store: Store, settings: Settings
) -> None:
    # `_fresh` was just recorded: within the grace its own enqueue is not duplicated.
    lost, queued, _fresh, taken, failed = (jobs.create(store, "t", "c.yml") for _ in range(5))
    queue.enqueue_job(settings, queued)
    _job, lease = jobs.claim(store, failed, "w1", 60)
    jobs.fail(store, lease, "review", "x")
    for job_id in (lost, queued, taken, failed):
        _age(store, job_id, 60)
    # `taken`: this worker dequeued its message and has not claimed it yet.
    assert requeue_orphans(settings, "w2", running_here={taken}) == [lost]
    assert sorted(queue.queued_job_ids(settings)) == [lost, queued]
    assert jobs.get(store, lost).task_id  # type: ignore[union-attr]
    # Once queued it is left alone: the next look (any worker's) finds its message.
    _age(store, lost, 60)
    assert requeue_orphans(settings, "w3") == [taken]  # now nobody holds it
    assert requeue_orphans(settings, "w3") == []


def test_two_workers_reconciling_at_once_queue_a_job_once(store: Store) -> None:
    job_id = jobs.create(store, "t", "c.yml")
    _age(store, job_id, 60)
    cutoff = utcnow() - timedelta(seconds=5)
    assert jobs.take_for_requeue(store, job_id, cutoff, "w1")
    assert not jobs.take_for_requeue(store, job_id, cutoff, "w2")
    assert not jobs.take_for_requeue(store, job_id, utcnow() - timedelta(seconds=5), "w2")


def test_a_message_for_a_removed_job_is_dropped_quietly(home: Path, settings: Settings) -> None:
    # A generate whose enqueue failed removes its job; a worker may have queued it meanwhile.
    assert queue._run_job_task(999) is None


# -- real processes -----------------------------------------------------------------------------


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[Factory]:
    made = Factory(tmp_path / "install")
    try:
        yield made
    finally:
        made.cleanup()


def _faultkit_env(factory: Factory) -> dict[str, str]:
    """The env of a process that SIGKILLs itself after its store write, before its enqueue."""
    path = os.pathsep.join([str(TESTS / "faultkit"), factory.env["PYTHONPATH"]])
    return {"PYTHONPATH": path, "FAULTKIT_KILL_BEFORE_ENQUEUE": "1"}


def _started(factory: Factory, worker: Proc) -> None:
    factory.wait_for(lambda: "Stop with Ctrl-C" in worker.out + worker.err, 30, "worker start")


def _last_job_id(factory: Factory) -> int:
    return int(factory._query("SELECT max(id) FROM job")[0][0])


def _one_line(proc: Proc, code: int, *needles: str) -> str:
    assert proc.popen.returncode == code, (proc.out, proc.err)
    err = proc.err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


@pytest.mark.slow
def test_generate_and_retry_killed_before_the_enqueue_are_run_by_a_live_worker(
    factory: Factory,
) -> None:
    # A job that failed once (one attempt per stage here), then a worker without faults.
    first = factory.worker(VIDGEN_STAGE_ATTEMPTS="1", STAGEKIT_TREND_ANALYSIS="fail:1")
    failed = factory.generate()
    factory.wait_status(failed, "failed", timeout=60)
    first.kill_group()
    worker = factory.worker()
    _started(factory, worker)

    retry = factory.vidgen("retry", str(failed), **_faultkit_env(factory))
    generate = factory.vidgen("generate", **_faultkit_env(factory))
    killed = time.monotonic()
    assert (retry.popen.returncode, generate.popen.returncode) == (-9, -9)
    new = _last_job_id(factory)
    assert new == failed + 1
    # Both recorded, neither queued: the limbo the outside trials found.
    assert factory.status(failed) == factory.status(new) == "pending"
    assert factory.queued_messages() == 0

    for job_id in (failed, new):
        factory.wait_status(job_id, "completed", timeout=RECONCILE_BOUND_SECONDS + 30)
    # Queued within the bound (the stages then take well under a second each).
    claimed = time.monotonic() - killed
    assert claimed < RECONCILE_BOUND_SECONDS + 10, claimed
    assert factory.runs(new) == Counter(PIPELINE_STAGES)
    # The retry resumed: trend_collection ran once, trend_analysis twice (failed, then passed).
    assert factory.runs(failed) == Counter({**Counter(PIPELINE_STAGES), "trend_analysis": 2})
    said = worker.out + worker.err
    assert sum("without a queue message; queued it again" in line
               for line in said.splitlines()) == 2, said  # fmt: skip
    assert "Traceback" not in said
    logs = json.loads(factory.vidgen("logs", str(new), "--json").out)["events"]
    assert [event["kind"] for event in logs][:2] == ["job_reenqueued", "job_claimed"]


@pytest.mark.slow
def test_a_retry_while_the_queue_file_is_locked_is_put_back_and_works_later(
    factory: Factory,
) -> None:
    first = factory.worker(VIDGEN_STAGE_ATTEMPTS="1", STAGEKIT_TREND_ANALYSIS="fail:1")
    job_id = factory.generate()
    factory.wait_status(job_id, "failed", timeout=60)
    first.kill_group()
    error = factory.job(job_id)["error_message"]

    holder = sqlite3.connect(factory.home / "queue.db", timeout=30)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        refused = factory.vidgen("retry", str(job_id), VIDGEN_BUSY_TIMEOUT="1")
    finally:
        holder.rollback()
        holder.close()
    _one_line(
        refused,
        1,
        f"could not take job {job_id} (database is locked)",
        "another process held the queue file past VIDGEN_BUSY_TIMEOUT",
        f"job {job_id} is still failed: run 'vidgen retry {job_id}' again",
    )
    assert (factory.status(job_id), factory.job(job_id)["error_message"]) == ("failed", error)

    factory.retry(job_id)  # the queue is free again: the same command works
    factory.worker()
    factory.wait_status(job_id, "completed", timeout=60)


@pytest.mark.slow
def test_redis_down_during_retry_then_back(tmp_path: Path, redis: RedisServer) -> None:
    factory = Factory(tmp_path / "install")
    factory.env["VIDGEN_QUEUE_URL"] = redis.url
    try:
        worker = factory.worker(VIDGEN_STAGE_ATTEMPTS="1", STAGEKIT_TREND_ANALYSIS="fail:1")
        job_id = factory.generate()
        factory.wait_status(job_id, "failed", timeout=60)

        redis.kill()
        refused = factory.vidgen("retry", str(job_id))
        _one_line(
            refused,
            1,
            f"the queue {redis.url} could not take job {job_id}",
            f"job {job_id} is still failed: run 'vidgen retry {job_id}' again",
        )
        assert factory.status(job_id) == "failed"
        # A --from-stage retry has set its stages aside: it stays pending for the reconcile.
        pending = factory.vidgen("retry", str(job_id), "--from-stage", "trend_collection")
        _one_line(pending, 1, f"job {job_id} is pending: a running worker queues it within")
        assert factory.status(job_id) == "pending"
        redis.start()  # empty: the message was never written
        back = time.monotonic()
        factory.wait_status(job_id, "completed", timeout=RECONCILE_BOUND_SECONDS + 30)
        assert time.monotonic() - back < RECONCILE_BOUND_SECONDS + 10
        assert worker.alive()
        # From trend_collection: every stage ran again once (trend_analysis once more after
        # its scripted failure).
        assert factory.runs(job_id) == Counter({**Counter(PIPELINE_STAGES), "trend_collection": 2,
                                                "trend_analysis": 2})  # fmt: skip
    finally:
        factory.cleanup()
