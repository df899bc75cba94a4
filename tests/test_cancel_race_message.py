"""``cancel`` on a running job promises only what holds: a job in its last step may complete
before its worker sees the request, and the message says so.

An outside trial cancelled jobs in their last second: the job then completed (the outcome was
recorded once, consistently) while ``cancel`` had said its worker "stops it within seconds".
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import CliResult, new_job
from vidgen.store import Store, jobs

Cli = Callable[..., CliResult]


def test_cancel_says_a_running_job_may_complete_first_and_then_it_has(
    cli: Cli, stagekit: Path, store: Store
) -> None:
    job_id = new_job(cli)
    _job, lease = jobs.claim(store, job_id, "worker-in-its-last-step", 60)
    asked = cli("cancel", str(job_id), "--json")
    assert asked.code == 0, asked.err
    body = asked.json()
    assert body["status"] == "running" and body["cancel_requested"] is True
    assert "stops it within seconds unless it completes first" in body["message"]
    plain = cli("cancel", str(job_id))  # asked again, for people: the same honest line
    assert plain.code == 0 and "unless it completes first" in plain.out
    # The worker finishes the last stage before it sees the request: the job completes.
    jobs.complete(store, lease)
    status = cli("status", str(job_id), "--json").json()
    assert status["status"] == "completed"
    refused = cli("cancel", str(job_id))
    assert refused.code == 1 and "already completed" in refused.err
    kinds = [event["kind"] for event in cli("logs", str(job_id), "--json").json()["events"]]
    assert "cancel_requested" in kinds
