"""``Checkpoint`` rows: one per stage attempt, the only module that writes them.

An attempt is started (``start``: the row, and the job's current stage, in one transaction), then
either ``fail``-ed or ``complete``-d. The latest row of a stage tells that stage's state
(``latest`` / ``latest_states``); a job's cost is the sum of its completed attempts
(``total_cost``).

``start``, ``fail`` and ``complete`` are the runner's writes: each holds the runner's ``Lease``
in its transaction (``vidgen.store.leases``), so a runner that lost its job records nothing.
When a job leaves ``running`` its still-running attempts are closed by that move, in its own
transaction (``jobs.transition``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from vidgen.clock import utcnow
from vidgen.statuses import RunnerEvent
from vidgen.store import events, jobs
from vidgen.store.engine import Store
from vidgen.store.leases import Lease
from vidgen.store.models import Checkpoint, CheckpointStatus, new_id, table

_CP = table(Checkpoint).c
# The runner's per-attempt statements, built once (see jobs._FENCE).
_ATTEMPTS = (
    core_select(func.count())
    .select_from(table(Checkpoint))
    .where(_CP.job_id == bindparam("cp_job"), _CP.stage == bindparam("cp_stage"))
)
_INSERT = insert(table(Checkpoint))
_FINISH = update(table(Checkpoint)).where(
    _CP.id == bindparam("cp_id"),
    _CP.job_id == bindparam("cp_job"),
    _CP.status == CheckpointStatus.RUNNING.value,
)


@dataclass(frozen=True)
class Attempt:
    """A started attempt: its checkpoint row, its stage and its number (1, 2, ...)."""

    id: int
    stage: str
    number: int


def start(store: Store, lease: Lease, stage: str) -> Attempt:
    """A ``running`` checkpoint for the next attempt of ``stage``.

    Records ``stage_started``; ``fail`` and ``complete`` record ``stage_failed`` (message: the
    error) and ``stage_completed`` (data: duration_seconds, cost), each in the same transaction.
    """
    job_id = lease.job_id
    with store.write() as session:
        jobs.set_stage(session, lease, stage)  # first: LeaseLost, nothing added
        conn = session.connection()
        attempt = conn.execute(_ATTEMPTS, {"cp_job": job_id, "cp_stage": stage}).scalar_one() + 1
        result = conn.execute(
            _INSERT,
            {
                "job_id": job_id,
                "stage": stage,
                "attempt": attempt,
                "status": CheckpointStatus.RUNNING.value,
                "started_at": utcnow(),
                "outputs": {},
                "files": {},
                "cost": 0.0,
            },
        )
        events.add(session, job_id, RunnerEvent.STAGE_STARTED, stage=stage, attempt=attempt)
        return Attempt(new_id(result), stage, attempt)


def _finish(session: Session, lease: Lease, attempt: Attempt, **values: Any) -> None:
    """The running ``attempt`` of the leased job takes ``values``; the job's ``updated_at``
    moves with it (the job changed)."""
    jobs.touch(session, lease)  # first: LeaseLost, nothing changed
    params = {"cp_id": attempt.id, "cp_job": lease.job_id, "finished_at": utcnow(), **values}
    finished = session.connection().execute(_FINISH, params)
    assert finished.rowcount == 1, f"checkpoint {attempt.id} is not a running attempt of the job"


def fail(
    store: Store,
    lease: Lease,
    attempt: Attempt,
    duration: float,
    error: str,
    traceback: str | None,
    data: dict[str, Any] | None = None,
) -> None:
    """The attempt failed; ``data`` goes on its ``stage_failed`` event (e.g. ffmpeg's stderr)."""
    with store.write() as session:
        _finish(
            session,
            lease,
            attempt,
            status=CheckpointStatus.FAILED.value,
            duration_seconds=round(duration, 3),
            error=error,
            traceback=traceback,
        )
        events.add(
            session,
            lease.job_id,
            RunnerEvent.STAGE_FAILED,
            stage=attempt.stage,
            attempt=attempt.number,
            message=error,
            data=data,
        )


def complete(
    store: Store,
    lease: Lease,
    attempt: Attempt,
    duration: float,
    outputs: dict[str, Any],
    files: dict[str, Any],
    cost: float,
    *,
    finish_job: bool = False,
) -> None:
    """The attempt completed; with ``finish_job`` (the last stage) the job completes in the
    same transaction, so no lease can be lost between the two."""
    duration = round(duration, 3)
    with store.write() as session:
        _finish(
            session,
            lease,
            attempt,
            status=CheckpointStatus.COMPLETED.value,
            duration_seconds=duration,
            outputs=outputs,
            files=files,
            cost=cost,
        )
        events.add(
            session,
            lease.job_id,
            RunnerEvent.STAGE_COMPLETED,
            stage=attempt.stage,
            attempt=attempt.number,
            data={"duration_seconds": duration, "cost": cost},
        )
        if finish_job:  # the checkpoint is no longer running when the job completes
            jobs.complete_in(session, lease)


def retry_from(store: Store, job_id: int, stages: list[str]) -> None:
    """``retry --from-stage``: the job goes back to pending (failed or completed) and the
    latest completed attempts of ``stages`` become ``superseded``, so they run again; one
    transaction. Their files stay until the new attempts replace them."""
    with store.write() as session:
        jobs.retry_in(session, job_id, from_stage=stages[0])
        session.execute(
            update(Checkpoint)
            .where(
                col(Checkpoint.job_id) == job_id,
                col(Checkpoint.stage).in_(stages),
                col(Checkpoint.status) == CheckpointStatus.COMPLETED.value,
            )
            .values(status=CheckpointStatus.SUPERSEDED.value)
        )


def for_job(store: Store, job_id: int) -> list[Checkpoint]:
    """Every attempt of the job, in the order they started."""
    with store.read() as session:
        return list(
            session.exec(
                select(Checkpoint).where(Checkpoint.job_id == job_id).order_by(col(Checkpoint.id))
            ).all()
        )


def _latest_per_stage(rows: Iterable[Any]) -> dict[int, dict[str, Any]]:
    """The one definition of "latest": rows in id order, each stage keeps its last row.

    ``rows`` have ``job_id`` and ``stage`` (whole checkpoints or selected columns).
    """
    latest: dict[int, dict[str, Any]] = defaultdict(dict)
    for row in rows:
        latest[row.job_id][row.stage] = row
    return latest


def latest(store: Store, job_id: int) -> dict[str, Checkpoint]:
    """Each stage's latest checkpoint of the job."""
    return dict(_latest_per_stage(for_job(store, job_id))[job_id])


def latest_states(store: Store, job_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """For each job, each stage's latest checkpoint status (reads only three columns)."""
    ids = list(job_ids)
    if not ids:
        return {}
    with store.read() as session:
        rows = session.exec(
            select(Checkpoint.job_id, Checkpoint.stage, Checkpoint.status)
            .where(col(Checkpoint.job_id).in_(ids))
            .order_by(col(Checkpoint.id))
        ).all()
    latest_rows = _latest_per_stage(rows)
    return {
        job_id: {stage: row.status for stage, row in latest_rows.get(job_id, {}).items()}
        for job_id in ids
    }


def total_cost(store: Store, job_id: int) -> float:
    """What the job has cost so far: the sum over its completed attempts (superseded ones
    included: that money was spent)."""
    spent = [CheckpointStatus.COMPLETED.value, CheckpointStatus.SUPERSEDED.value]
    with store.read() as session:
        value = session.exec(
            select(func.coalesce(func.sum(Checkpoint.cost), 0.0)).where(
                Checkpoint.job_id == job_id,
                col(Checkpoint.status).in_(spent),
            )
        ).one()
    return float(value)


def spent_since(store: Store, since: datetime) -> float:
    """Provider spend recorded by attempts that finished at or after ``since`` (all jobs)."""
    with store.read() as session:
        value = session.exec(
            select(func.coalesce(func.sum(Checkpoint.cost), 0.0)).where(
                col(Checkpoint.finished_at) >= since
            )
        ).one()
    return float(value)


def total_costs(store: Store, job_ids: Iterable[int]) -> dict[int, float]:
    """``total_cost`` for many jobs in one query (jobs with no completed attempt cost 0)."""
    ids = list(job_ids)
    if not ids:
        return {}
    with store.read() as session:
        rows = session.exec(
            select(Checkpoint.job_id, func.sum(Checkpoint.cost))
            .where(
                col(Checkpoint.job_id).in_(ids),
                Checkpoint.status == CheckpointStatus.COMPLETED.value,
            )
            .group_by(col(Checkpoint.job_id))
        ).all()
    found = {job_id: float(cost or 0.0) for job_id, cost in rows}
    return {job_id: found.get(job_id, 0.0) for job_id in ids}
