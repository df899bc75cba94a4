"""Leases follow the store's clock, not the local wall clock: a clock step changes nothing.

Real worker processes; the wall clock of one process is shifted by an hour with libfaketime
(the Debian ``faketime`` package; skipped where it is missing), leaving its monotonic clock
alone, as a real clock step (``date -s``, NTP, a resumed VM) does. Before, a worker whose clock
jumped forward reaped a live job within a second, and with the clock stepped back a killed
worker's job stayed ``running`` for the hour (``recover`` said "failed 0"). Promise:
docs/RELIABILITY.md ("clock step").
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from processkit import LEASE, Factory

pytestmark = pytest.mark.slow

LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")


def shifted(offset: str) -> dict[str, str]:
    """The environment that runs a process with its wall clock moved by ``offset``."""
    if not LIBFAKETIME.exists():
        pytest.skip("libfaketime is not installed (apt install faketime)")
    return {
        "LD_PRELOAD": str(LIBFAKETIME),
        "FAKETIME": offset,
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",  # a clock step moves the wall clock only
    }


def test_a_worker_whose_clock_jumps_forward_an_hour_reaps_no_live_job(factory: Factory) -> None:
    pause = {"STAGEKIT_TREND_ANALYSIS": "pause"}
    live = factory.worker(**pause)
    job_id = factory.generate()
    factory.wait_inside("trend_analysis")
    ahead = factory.worker(**shifted("+1h"), **pause)
    waiting = factory.vidgen("status", str(job_id), "--json", **shifted("+1h"))
    assert json.loads(waiting.out)["status"] == "running"
    time.sleep(4 * LEASE)  # many beats and reaps of the worker an hour ahead
    assert factory.status(job_id) == "running", factory.job(job_id)
    recovered = factory.vidgen("recover", "--json", **shifted("+1h"))
    assert json.loads(recovered.out)["failed_lost_job_ids"] == []
    (factory.home / "release-trend_analysis").touch()
    factory.wait_status(job_id, "completed")
    assert factory.job(job_id)["error_message"] is None
    assert factory.runs(job_id)["trend_analysis"] == 1
    assert live.alive() and ahead.alive()


def test_a_killed_workers_job_is_reaped_within_the_lease_after_the_clock_went_back(
    factory: Factory,
) -> None:
    doomed = factory.worker(STAGEKIT_TREND_ANALYSIS="pause")
    job_id = factory.generate()
    factory.wait_inside("trend_analysis")
    doomed.kill_group()
    killed = time.monotonic()

    def reaped() -> bool:
        proc = factory.vidgen("recover", "--json", **shifted("-1h"))
        assert proc.popen.returncode == 0, proc.err
        return job_id in json.loads(proc.out)["failed_lost_job_ids"]

    # The dead worker's beat is stale after 3 beats and its lease runs out after one lease.
    factory.wait_for(reaped, LEASE + 15, "recover (clock an hour back) to reap the job")
    assert time.monotonic() - killed < LEASE + 15
    assert factory.job(job_id)["error_message"] == "worker lost during trend_analysis"
