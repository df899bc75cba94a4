"""Issue 11 (item 6): queue.db truncated under a running worker.

Before: the worker kept answering from its open connection while the messages were gone (the
jobs stayed pending > 90 s), and every new ``generate`` waited out the 30 s busy timeout to
fail with a misleading "database is locked". Now the damage is seen from the files' sizes and
headers at once: ``generate`` says so in one line, the worker replaces the file within one beat
and re-enqueues every pending job from the store. Scenarios: docs/RELIABILITY.md.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from processkit import Factory
from vidgen.stages import PIPELINE_STAGES

pytestmark = pytest.mark.slow


def _truncate(queue: Path) -> None:
    """What the outside trials did: the queue file and its write-ahead log cut to 0 bytes,
    leaving the shared index (held open by the worker) counting frames that are gone."""
    os.truncate(queue, 0)
    os.truncate(f"{queue}-wal", 0)


def _job_count(factory: Factory) -> int:
    return int(factory._query("SELECT count(*) FROM job")[0][0])


def test_queue_truncated_under_a_running_worker_loses_no_job(factory: Factory) -> None:
    # A lease longer than the freeze below, so the frozen worker keeps its running job.
    factory.env.update(VIDGEN_LEASE_SECONDS="20", STAGEKIT_TREND_COLLECTION="pause")
    worker = factory.worker("--verbose")
    job_ids = [factory.generate() for _ in range(3)]
    factory.wait_inside("trend_collection")  # job 1 runs; jobs 2 and 3 wait in the queue
    queue = factory.home / "queue.db"
    os.kill(worker.pid, signal.SIGSTOP)  # frozen, so generate meets the damage, not the repair
    try:
        _truncate(queue)
        started = time.monotonic()
        refused = factory.vidgen("generate", timeout=60)
        took = time.monotonic() - started
    finally:
        os.kill(worker.pid, signal.SIGCONT)
    # At once (a process start, not the 30 s busy timeout) and in one line, nothing recorded.
    assert refused.popen.returncode == 1, (refused.out, refused.err)
    lines = refused.err.strip().splitlines()
    assert len(lines) == 1, refused.err
    assert "is damaged" in lines[0] and "locked" not in lines[0], lines[0]
    assert "write-ahead log was truncated" in lines[0]
    assert took < 20, took
    assert _job_count(factory) == 3

    # The worker replaces the file within a beat and re-enqueues the pending jobs.
    factory.wait_for(
        lambda: "was damaged" in worker.out + worker.err, 30, "the worker to repair the queue"
    )
    assert list(factory.home.glob("queue.db.corrupt-*"))  # kept for inspection
    later = factory.generate()
    (factory.home / "release-trend_collection").touch()
    for job_id in [*job_ids, later]:
        factory.wait_status(job_id, "completed", timeout=90)
        assert factory.runs(job_id) == Counter(PIPELINE_STAGES), job_id
    assert worker.alive()
    said = worker.out + worker.err
    assert "Traceback" not in said
    assert sum("was damaged" in line for line in said.splitlines()) == 1  # one line, once


def test_recover_repairs_a_truncated_queue_at_once(factory: Factory) -> None:
    job_ids = [factory.generate() for _ in range(2)]
    queue = factory.home / "queue.db"
    # A process holding the queue open, as a worker would, then gone: its index stays behind.
    holder = factory.spawn(
        "worker", VIDGEN_STAGE_PACKAGE="stagekit", STAGEKIT_TREND_COLLECTION="pause"
    )
    factory.wait_inside("trend_collection", timeout=60)
    _truncate(queue)
    holder.kill_group()
    started = time.monotonic()
    recover = factory.vidgen("recover", "--json", timeout=60)
    assert time.monotonic() - started < 20
    assert recover.popen.returncode == 0, recover.err
    assert '"queue_reset":true' in recover.out
    assert "Traceback" not in recover.err
    factory.worker()
    factory.wait_status(job_ids[1], "completed", timeout=90)


def test_the_queue_keeps_no_task_results(factory: Factory) -> None:
    """A job's outcome lives in the job store; the queue only carries messages. (Huey's result
    store wrote every task's return value into queue.db: a row per job, never read.)"""
    import sqlite3

    factory.worker()
    job_ids = [factory.generate() for _ in range(2)]
    for job_id in job_ids:
        factory.wait_status(job_id, "completed", timeout=90)
    with sqlite3.connect(factory.home / "queue.db") as queue:
        assert queue.execute("SELECT count(*) FROM kv").fetchone() == (0,)
        assert queue.execute("SELECT count(*) FROM task").fetchone() == (0,)
