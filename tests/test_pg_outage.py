"""A PostgreSQL store stopped for 20 s under running workers: nothing fails, nothing is dropped.

Real worker processes on a real PostgreSQL server of this test's own (the ``pgserver`` wheel,
dev extra), stopped with ``pg_ctl stop -m fast`` (every connection is cut) and started again on
the same socket. During the outage two jobs' stages finish (their checkpoints must wait for the
store), and an idle worker slot takes a queue message (its claim must put it back). The
outage (20 s) is shorter than the lease (30 s): every job completes, each stage runs once, no
job is "worker lost", and no worker logs a traceback. Promise: docs/RELIABILITY.md ("store
server down N s").
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from processkit import Factory

pytestmark = pytest.mark.slow

OUTAGE_SECONDS = 20
LEASE_SECONDS = 30


class OwnServer:
    """A PostgreSQL server this test may stop and start (the session's shared one must stay
    up for the other tests)."""

    def __init__(self, folder: Path) -> None:
        pgserver = pytest.importorskip("pgserver", reason="the dev extra installs pgserver")
        from pgserver._commands import pg_ctl

        self.pg_ctl = pg_ctl
        self.server: Any = pgserver.get_server(folder, cleanup_mode="stop")
        info = self.server.get_postmaster_info()
        self.socket_dir = info.socket_dir
        self.server.psql("CREATE DATABASE vidgen_outage;")
        uri = self.server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)
        self.url = uri.replace("/postgres?", "/vidgen_outage?", 1)

    def _reachable(self) -> None:
        # pg_ctl runs as the server's own user when the tests run as root: let it traverse
        # the temp folders again (pytest makes them private).
        from pgserver.utils import ensure_prefix_permissions

        if self.server.system_user is not None:
            ensure_prefix_permissions(self.server.pgdata)

    def stop(self) -> None:
        self._reachable()
        self.pg_ctl(
            ["-w", "-m", "fast", "stop"], pgdata=self.server.pgdata, user=self.server.system_user
        )

    def start(self) -> None:
        self._reachable()
        args = ["-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}"]
        args += ["-l", str(self.server.log), "start"]
        self.pg_ctl(args, pgdata=self.server.pgdata, user=self.server.system_user, timeout=30)

    def cleanup(self) -> None:
        self._reachable()
        self.server.cleanup()


@pytest.fixture
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnServer]:
    server = OwnServer(tmp_path_factory.mktemp("pg-outage"))
    try:
        yield server
    finally:
        server.cleanup()


def _enqueue(factory: Factory, job_id: int) -> None:
    """Put a message for ``job_id`` in the home's queue file (only the queue is touched)."""
    code = (
        "from vidgen.settings import load_settings; from vidgen.pipeline.queue import "
        f"enqueue_job; enqueue_job(load_settings(), {job_id})"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=factory.env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


def test_a_20_s_postgresql_outage_mid_job_fails_nothing_and_drops_no_message(
    factory: Factory, own_server: OwnServer
) -> None:
    factory.env.update(
        VIDGEN_DATABASE_URL=own_server.url,
        VIDGEN_LEASE_SECONDS=str(LEASE_SECONDS),
        STAGEKIT_CONTENT_GENERATION="pause",
    )
    first = factory.worker()
    one = factory.generate()
    factory.wait_inside("content_generation")
    second = factory.worker("--workers", "2")  # one slot takes job 2, the other stays idle
    two = factory.generate()
    factory.wait_for(lambda: factory.status(two) == "running", 30, "job 2 to start")
    # Job 3 is recorded but its `generate` died before the enqueue: no message yet.
    three = _generate_killed_before_enqueue(factory)

    own_server.stop()
    stopped = time.monotonic()
    time.sleep(3)
    (factory.home / "release-content_generation").touch()  # both stages end in the outage
    _enqueue(factory, three)  # the idle slot takes it while the store is down
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))
    own_server.start()

    for job_id in (one, two, three):
        factory.wait_status(job_id, "completed", timeout=LEASE_SECONDS + 60)
    for job_id in (one, two, three):
        job = factory.job(job_id)
        assert job["error_message"] is None, job
        assert set(factory.runs(job_id).values()) == {1}, factory.runs(job_id)
    for worker in (first, second):
        assert worker.alive()
        log = worker.out + worker.err
        assert "Traceback" not in log, log[-3000:]
        assert "worker lost" not in log
    logs = first.out + first.err + second.out + second.err
    assert "is unreachable" in logs and "is reachable again" in logs


def _generate_killed_before_enqueue(factory: Factory) -> int:
    faultkit = Path(__file__).parent / "faultkit"
    proc = factory.vidgen(
        "generate",
        PYTHONPATH=f"{faultkit}:{factory.env['PYTHONPATH']}",
        FAULTKIT_KILL_BEFORE_ENQUEUE="1",
    )
    assert proc.popen.returncode == -9, (proc.out, proc.err)
    rows = factory._query("SELECT max(id) AS newest FROM job")
    return int(rows[0]["newest"])
