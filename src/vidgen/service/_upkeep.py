"""Upkeep of the home: ``prune`` old work files, ``recover`` lost jobs and a broken queue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from vidgen.files import Swept
from vidgen.schemas import (
    PruneResponse,
    RecoverResponse,
    iso,
)
from vidgen.service._checks import (
    MAX_LIMIT,
)
from vidgen.service._handles import (
    get_store,
    jobs,
)
from vidgen.settings import Settings
from vidgen.statuses import JobStatus

if TYPE_CHECKING:
    pass


def prune(
    settings: Settings, older_than: str, *, dry_run: bool = False, rejected: bool = False
) -> PruneResponse:
    """``vidgen prune`` / ``POST /api/prune``; the worker runs the same for VIDGEN_PRUNE_AFTER."""
    from vidgen.pipeline import retention

    return retention.prune(
        get_store(settings), settings, older_than, dry_run=dry_run, rejected=rejected
    )


def recover(settings: Settings, *, new_store: bool = False) -> RecoverResponse:
    """Fail jobs whose worker died, repair an unreadable queue, re-enqueue pending jobs.

    ``new_store`` (``vidgen recover --new-store``, the way out a lost store's error names):
    the home forgets the store it used, keeping what is left of a SQLite file aside as
    ``vidgen.db.lost-<time>``, and starts a new, empty one."""
    from vidgen.pipeline.recovery import recover as recover_queue
    from vidgen.schemas import LiveLease
    from vidgen.store.engine import forget_store

    if new_store:
        aside = forget_store(settings)
        result = recover_queue(settings)
        kept = f" (the old store file is kept as {aside})" if aside is not None else ""
        result.message = f"started a new, empty job store{kept}; {result.message}"
        return result
    result = recover_queue(settings)
    # A killed worker's job keeps its lease until it lapses: say so and when, instead of a
    # bare "failed 0 lost job(s)" that leaves the user wondering.
    now = datetime.now(UTC)
    live = []
    for job in jobs.newest(get_store(settings), JobStatus.RUNNING.value, MAX_LIMIT, 0):
        expires = job.lease_expires_at
        if job.id is None or expires is None:
            continue
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        if expires > now:
            live.append(
                LiveLease(
                    job_id=job.id,
                    stage=job.stage,
                    lease_expires_at=iso(expires) or "",
                    seconds_left=round((expires - now).total_seconds(), 1),
                )
            )
    if not live:
        return result
    notes = [
        f"job {lease.job_id} is running ({lease.stage}) with a live lease until "
        f"{lease.lease_expires_at} (in {lease.seconds_left:.0f} s)"
        for lease in live
    ]
    message = (
        f"{result.message}; {'; '.join(notes)}: its worker renews it while alive; if that "
        "worker was killed, run 'vidgen recover' again after then and the job is failed, "
        "ready to retry"
    )
    return result.model_copy(update={"live_leases": live, "message": message})


def sweep_dead_attempts(settings: Settings, *, dry_run: bool = False) -> Swept:
    """Remove temp files and unfinished publications of jobs that are not running (prune)."""
    from vidgen.pipeline.recovery import sweep_dead_attempts as sweep

    return sweep(settings, dry_run=dry_run)
