"""Fencing: a runner's writes for a job count only while it still holds the job's lease.

``jobs.claim`` hands out a ``Lease`` -- the job, the owner and the lease epoch, which every
claim increments. Every write a runner makes for the job (checkpoints, the job's stage and
status moves, the published video) first fences itself in the same transaction -- ``fence``, a
conditional UPDATE of the job row, on the hot path; ``hold``, a locking read, elsewhere: once
the job was failed by a reaper, cancelled or claimed again, the epoch or the owner no longer
match and the write raises ``LeaseLost`` instead of landing. So a runner that
was declared lost (a paused process, a store that stayed locked past the lease) can never
record a checkpoint, publish a video or move a job another run now owns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, update
from sqlmodel import Session, col, select

from vidgen.errors import LeaseLost, NotFound
from vidgen.store.models import Job, JobStatus, table, utcnow


@dataclass(frozen=True)
class Lease:
    """The right to write for ``job_id``: held while the job is running under ``owner`` at
    ``epoch``."""

    job_id: int
    owner: str
    epoch: int


def held(lease: Lease) -> ColumnElement[bool]:
    """The SQL condition on ``Job`` that is true while ``lease`` is held (for UPDATEs)."""
    return and_(
        col(Job.id) == lease.job_id,
        col(Job.status) == JobStatus.RUNNING.value,
        col(Job.lease_owner) == lease.owner,
        col(Job.lease_epoch) == lease.epoch,
    )


def hold(session: Session, lease: Lease) -> None:
    """Raise ``LeaseLost`` unless the job is still running under ``lease``.

    Call it first in the write transaction it guards. The job row is read ``FOR UPDATE``: on
    PostgreSQL a reaper's UPDATE of the row then waits for this transaction, and this one sees
    a reaper's committed change, so the check and the write cannot interleave with a reap. On
    SQLite the write transaction (BEGIN IMMEDIATE) already excludes every other writer.
    """
    row = session.exec(
        select(Job.status, Job.lease_owner, Job.lease_epoch)
        .where(col(Job.id) == lease.job_id)
        .with_for_update()
    ).first()
    if row is None:
        raise NotFound(f"Job {lease.job_id} not found")
    status, owner, epoch = row
    if status != JobStatus.RUNNING.value or owner != lease.owner or epoch != lease.epoch:
        raise LeaseLost(
            f"job {lease.job_id} is no longer this runner's (now {status}, lease epoch "
            f"{epoch}, ours {lease.epoch}); stopping without writing"
        )


_JOB = table(Job).c
# Built once: the runner fences a write per stage step, and building the statement each time
# cost more than running it. The SET columns come from the parameters of each call.
_FENCE = update(table(Job)).where(
    _JOB.id == bindparam("fence_job"),
    _JOB.status == JobStatus.RUNNING.value,
    _JOB.lease_owner == bindparam("fence_owner"),
    _JOB.lease_epoch == bindparam("fence_epoch"),
)


def fence(session: Session, lease: Lease, **values: Any) -> None:
    """Set ``values`` (and ``updated_at``) on the job while ``lease`` is held, else raise
    ``LeaseLost`` with nothing changed; first in the write transaction it guards.

    One statement, the check and the write together: on PostgreSQL the UPDATE takes the row
    lock (a reaper's UPDATE waits for this transaction, or this one re-checks the row a
    reaper committed), on SQLite the write transaction already excludes every other writer.
    """
    params = {
        "fence_job": lease.job_id,
        "fence_owner": lease.owner,
        "fence_epoch": lease.epoch,
        "updated_at": utcnow(),
        **values,
    }
    result = session.connection().execute(_FENCE, params)
    if result.rowcount != 1:
        hold(session, lease)  # says why: LeaseLost (status, epoch) or NotFound
        raise LeaseLost(f"job {lease.job_id} is no longer this runner's; stopping without writing")
