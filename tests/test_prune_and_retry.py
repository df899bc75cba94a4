"""Prune and retry are exclusive per job: prune never deletes the work files of a job that a
retry made pending while the prune ran (it lists ended jobs once and deletes each later)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col

from conftest import CliResult
from vidgen import service
from vidgen.pipeline import retention
from vidgen.settings import Settings
from vidgen.store import Store
from vidgen.store.models import Job, utcnow

Cli = Callable[..., CliResult]


def _failed_old_job(
    cli: Cli, store: Store, drain: Callable[[], int], monkeypatch: pytest.MonkeyPatch
) -> int:
    monkeypatch.setenv("STAGEKIT_CONTENT_GENERATION", "fatal")
    assert cli("generate", "--theme", "old").code == 0
    drain()
    monkeypatch.delenv("STAGEKIT_CONTENT_GENERATION")
    with store.write() as session:
        session.execute(
            update(Job).where(col(Job.id) == 1).values(updated_at=utcnow() - timedelta(days=10))
        )
    return 1


def test_a_retry_during_a_prune_keeps_its_job_files_and_completes(
    cli: Cli,
    store: Store,
    settings: Settings,
    stagekit: Path,
    drain: Callable[[], int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job_id = _failed_old_job(cli, store, drain, monkeypatch)
    job_dir = settings.jobs_dir / str(job_id)
    kept = sorted(p.relative_to(job_dir) for p in job_dir.rglob("*") if p.is_file())
    assert kept  # trend_collection and trend_analysis left their files

    listed = retention.jobs.ended_among
    said: list[str] = []

    def ended_then_retried(*args: Any, **kwargs: Any) -> list[int]:
        # The window the trial hit: prune has listed the ended jobs, then a retry lands.
        found = listed(*args, **kwargs)
        said.append(service.retry(settings, job_id).message)
        return found

    monkeypatch.setattr(retention.jobs, "ended_among", ended_then_retried)
    pruned = cli("prune", "--older-than", "7d", "--json")
    assert pruned.code == 0, pruned.err
    assert pruned.json()["job_ids"] == [] and pruned.json()["files"] == 0
    assert "skipping 2 completed stage(s)" in said[0]
    assert sorted(p.relative_to(job_dir) for p in job_dir.rglob("*") if p.is_file()) == kept

    drain()
    status = cli("status", str(job_id), "--json").json()
    assert status["status"] == "completed", status
    runs = (stagekit / "runs.log").read_text().splitlines()
    assert sum("trend_collection" in line for line in runs) == 1  # reused, not re-run


def test_prune_still_deletes_a_job_that_stays_ended(
    cli: Cli,
    store: Store,
    settings: Settings,
    stagekit: Path,
    drain: Callable[[], int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job_id = _failed_old_job(cli, store, drain, monkeypatch)
    pruned = cli("prune", "--older-than", "7d", "--json").json()
    assert pruned["job_ids"] == [job_id] and pruned["files"] > 0
    assert not (settings.jobs_dir / str(job_id)).exists()
