"""Fencing: a runner's writes for a job count only while it still holds the job's lease.

``jobs.claim`` hands out a ``Lease`` -- the job, the owner and the lease epoch, which every
claim increments. Every write a runner makes for the job (checkpoints, the job's stage and
status moves, the published video) first fences itself in the same transaction -- on the
runner's hot path a conditional UPDATE of the job row on ``held(lease)`` (``jobs.set_stage``,
``jobs.touch``), elsewhere ``hold``, a locking read: once
the job was failed by a reaper, cancelled or claimed again, the epoch or the owner no longer
match and the write raises ``LeaseLost`` instead of landing. So a runner that
was declared lost (a paused process, a store that stayed locked past the lease) can never
record a checkpoint, publish a video or move a job another run now owns.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_
from sqlmodel import Session, col, select

from vidgen.errors import LeaseLost, NotFound
from vidgen.store.models import Job, JobStatus


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
