"""Run one job through ``PIPELINE_STAGES``, checkpointing after each stage.

The runner claims the job (pending -> running) with a lease that a heartbeat thread renews, reuses
the recorded outputs of stages already completed (after checking their files are intact), and
runs the rest. Each stage attempt is a checkpoint row; retryable failures back off exponentially
with jitter; a hung stage hits its time limit; a shutdown cancels the current stage and puts the
job back in the queue. Any other worker finds expired leases (``reap_expired_leases``) and fails
those jobs, so a killed worker never leaves a job ``running`` forever.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from vidgen import transitions
from vidgen.config import ThemeConfig, load_config
from vidgen.errors import (
    FatalStageError,
    InvalidInput,
    Refused,
    StageError,
    StageTimeout,
    StoreBusy,
    VidgenError,
)
from vidgen.files import Swept, file_digest, sweep_temp
from vidgen.models import Checkpoint, CheckpointStatus, Job, JobStatus, utcnow
from vidgen.outage import outage_for
from vidgen.settings import Settings
from vidgen.stages import PIPELINE_STAGES
from vidgen.stages.base import StageContext, StageFunction, StageResult, load_stage
from vidgen.store import Store, get_store, public_url

log = logging.getLogger("vidgen.runner")

# Set by ``vidgen worker`` on SIGINT/SIGTERM: running stages are cancelled and their jobs requeued.
SHUTDOWN = threading.Event()
# Seconds a cancelled stage thread gets to wind down before we stop waiting for it.
CANCEL_GRACE = 10.0


class _Interrupted(Exception):
    """The worker is shutting down; the job goes back to the queue."""


class _LeaseLost(Exception):
    """Another worker declared this one lost; the job is no longer ours to write."""


def new_owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Delay before attempt ``attempt + 1``: exponential, capped, with "equal jitter".

    Half of ``min(cap, base * 2**(attempt-1))`` is fixed, the other half random, so retries from
    many jobs spread out but a retry never comes sooner than half the nominal delay.
    """
    nominal: float = min(cap, base * 2.0 ** (attempt - 1))
    return nominal / 2 + (rng or random).uniform(0, nominal / 2)


def one_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)  # a SQLAlchemy error: the driver's message says it all
    if isinstance(orig, Exception):
        exc = orig
    text = " ".join(str(exc).split()) or type(exc).__name__
    if not isinstance(exc, VidgenError | OSError):
        text = f"{type(exc).__name__}: {text}"
    return text[:500]


def files_intact(job_dir: Path, files: dict[str, Any]) -> bool:
    """True if every recorded file still exists with the same size and sha256."""
    for rel, expected in files.items():
        path = job_dir / rel
        try:
            if path.stat().st_size != expected.get("size") or file_digest(path) != expected:
                return False
        except OSError:
            return False
    return True


def latest_checkpoints(store: Store, job_id: int) -> dict[str, Checkpoint]:
    with store.read() as session:
        rows = session.exec(
            select(Checkpoint).where(Checkpoint.job_id == job_id).order_by(col(Checkpoint.id))
        ).all()
    return {row.stage: row for row in rows}


def reusable_outputs(store: Store, job_id: int, job_dir: Path) -> dict[str, dict[str, Any]]:
    """Outputs of the leading stages that completed and whose files are intact, in order.

    A stage whose files went missing or changed runs again, and so does everything after it,
    because later stages were built from its outputs.
    """
    latest = latest_checkpoints(store, job_id)
    reuse: dict[str, dict[str, Any]] = {}
    for stage in PIPELINE_STAGES:
        checkpoint = latest.get(stage)
        if checkpoint is None or checkpoint.status != CheckpointStatus.COMPLETED:
            break
        if not files_intact(job_dir, checkpoint.files):
            log.warning("job %s: %s files missing or changed; running it again", job_id, stage)
            break
        reuse[stage] = checkpoint.outputs
    return reuse


class _Heartbeat(threading.Thread):
    """Renews the job's lease; if it is lost, cancels the running stage."""

    def __init__(self, store: Store, job_id: int, owner: str, settings: Settings) -> None:
        super().__init__(name=f"vidgen-heartbeat-{job_id}", daemon=True)
        self.store, self.job_id, self.owner, self.settings = store, job_id, owner, settings
        self.stop_event = threading.Event()
        self.lost = threading.Event()
        self.cancel_targets: list[threading.Event] = []

    def run(self) -> None:
        while not self.stop_event.wait(self.settings.heartbeat_seconds):
            try:
                with self.store.write() as session:
                    held = transitions.renew_lease(
                        session, self.job_id, self.owner, self.settings.lease_seconds
                    )
            except Exception as exc:  # a busy store must not kill the heartbeat; try next beat
                # Expected (busy or unreachable store): one line, no traceback.
                busy = isinstance(exc, VidgenError | SQLAlchemyError | OSError)
                log.warning(
                    "job %s: lease renewal failed (%s); will retry",
                    self.job_id,
                    one_line(exc),
                    exc_info=not busy,
                )
                continue
            if not held:
                self.lost.set()
                for event in self.cancel_targets:
                    event.set()
                return


class JobRunner:
    """Runs one claimed job. ``stages`` can be replaced (tests define their own)."""

    def __init__(
        self,
        job_id: int,
        settings: Settings,
        *,
        owner: str | None = None,
        stage_loader: Callable[[str], StageFunction] | None = None,
        stage_names: tuple[str, ...] = PIPELINE_STAGES,
        requeue: Callable[[int], str] | None = None,
        on_event: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.job_id = job_id
        self.settings = settings
        self.store = get_store(settings)
        self.owner = owner or new_owner_id()
        self.stage_loader = stage_loader or (lambda name: load_stage(name, settings.stage_package))
        self.stage_names = stage_names
        self.requeue_fn = requeue
        self.on_event = on_event or (lambda event, data: None)
        self.job_dir = settings.jobs_dir / str(job_id)
        self.current_stage: str | None = None

    # -- the run ---------------------------------------------------------------------------

    def run(self) -> JobStatus | None:
        """Claim and run the job; None if it was not pending (already taken or finished)."""
        if SHUTDOWN.is_set() and self.requeue_fn is not None:
            # A worker that is stopping hands back a message it picked up instead of starting it.
            self.requeue_fn(self.job_id)
            return None
        try:
            with self.store.write() as session:
                job = transitions.claim(
                    session, self.job_id, self.owner, self.settings.lease_seconds
                )
        except Refused:
            log.info("job %s is not pending; nothing to do", self.job_id)
            return None
        except (StoreBusy, SQLAlchemyError, OSError) as exc:
            if self.requeue_fn is None:
                raise
            # The message is already consumed: dropping it would leave the job pending with
            # nothing in the queue until the next recover. Put it back instead -- after a
            # wait if the store is unreachable (it fails at once, unlike a busy one).
            if isinstance(exc, StoreBusy):
                log.warning("job %s: %s; putting it back in the queue", self.job_id, exc)
            else:
                store = f"the job store {public_url(self.settings.db_url)}"
                SHUTDOWN.wait(outage_for(store, log).failed(exc))
            self.requeue_fn(self.job_id)
            return None
        self._sweep_leftovers()
        heartbeat = _Heartbeat(self.store, self.job_id, self.owner, self.settings)
        heartbeat.start()
        try:
            return self._run_stages(job, heartbeat)
        except Exception as exc:
            # The store itself failed (disk full, I/O error). Record why if it still can;
            # if not, the lease runs out and the reaper fails the job: it is never stuck.
            stage = self.current_stage or self.stage_names[0]
            # A store that went away is an outage (one line); anything else is a bug to show.
            expected = isinstance(exc, VidgenError | SQLAlchemyError | OSError)
            log.error(
                "job %s: worker error during %s: %s",
                self.job_id,
                stage,
                one_line(exc),
                exc_info=not expected,
            )
            try:
                return self._fail(stage, f"{stage} failed: {one_line(exc)}")
            except Exception:
                log.exception("job %s: could not record the failure either", self.job_id)
                return None
        finally:
            heartbeat.stop_event.set()

    def _sweep_leftovers(self) -> None:
        """The job is ours now: what its killed attempts left (temporary files, half a
        publication) goes before anything runs. A sweep never fails the job."""
        try:
            swept = sweep_job_leftovers(self.store, self.settings, self.job_id)
        except Exception as exc:
            log.warning("job %s: could not remove leftovers (%s)", self.job_id, one_line(exc))
            return
        if swept.files:
            log.info(
                "job %s: removed %d file(s), %d bytes, left by killed attempts",
                self.job_id,
                swept.files,
                swept.bytes,
            )

    def _run_stages(self, job: Job, heartbeat: _Heartbeat) -> JobStatus | None:
        first = self.stage_names[0]
        try:
            config = self._load_config(job)
        except InvalidInput as exc:
            return self._fail(first, f"config no longer valid: {exc}")
        outputs = reusable_outputs(self.store, self.job_id, self.job_dir)
        for stage in self.stage_names:
            if stage in outputs:
                self.on_event("skipped", {"stage": stage})
                continue
            self.current_stage = stage
            try:
                outputs[stage] = self._run_stage_with_retries(
                    stage, job, config, outputs, heartbeat
                )
            except _LeaseLost:
                log.error("job %s: lease lost during %s; stopping", self.job_id, stage)
                return None
            except _Interrupted:
                return self._requeue(stage)
            except _StageFailed as failed:
                return self._fail(stage, failed.message)
        with self.store.write() as session:
            transitions.complete(session, self.job_id, self.owner)
        self.on_event("job_completed", {})
        return JobStatus.COMPLETED

    def _load_config(self, job: Job) -> ThemeConfig:
        from vidgen.config import resolve_config_path

        path = resolve_config_path(job.config_path, self.settings.config)
        config = load_config(path)
        if job.theme != "default":  # an explicit --theme overrides the file's theme
            block = config.config.model_copy(update={"theme": job.theme})
            config = config.model_copy(update={"config": block})
        if self.settings.profile:  # VIDGEN_PROFILE: e.g. quick drafts of every theme
            settings_block = config.config.model_copy(update={"profile": self.settings.profile})
            config = config.model_copy(update={"config": settings_block})
        return config

    def _run_stage_with_retries(
        self,
        stage: str,
        job: Job,
        config: ThemeConfig,
        outputs: dict[str, dict[str, Any]],
        heartbeat: _Heartbeat,
    ) -> dict[str, Any]:
        attempts = self.settings.stage_attempts
        last_error = ""
        for attempt_in_run in range(1, attempts + 1):
            checkpoint_id, attempt = self._start_checkpoint(stage)
            self.on_event("stage_started", {"stage": stage, "attempt": attempt})
            started = time.monotonic()
            try:
                result = self._call_stage(stage, attempt, job, config, outputs, heartbeat)
                try:
                    self._complete_checkpoint(checkpoint_id, started, result)
                except Exception as exc:  # e.g. "database or disk is full": not recorded = failed
                    raise StageError(f"could not record the checkpoint: {one_line(exc)}") from exc
            except (_Interrupted, _LeaseLost) as exc:
                if isinstance(exc, _Interrupted):
                    self._finish_checkpoint(
                        checkpoint_id, started, error="interrupted: worker shut down"
                    )
                raise
            except FatalStageError as exc:
                self._finish_checkpoint(checkpoint_id, started, error=one_line(exc), exc=exc)
                self.on_event("stage_failed", {"stage": stage, "attempt": attempt})
                raise _StageFailed(f"{stage} failed: {one_line(exc)}") from None
            except Exception as exc:  # retryable: StageError, OSError, bugs in a provider...
                last_error = one_line(exc)
                self._finish_checkpoint(checkpoint_id, started, error=last_error, exc=exc)
                self.on_event("stage_failed", {"stage": stage, "attempt": attempt})
                if attempt_in_run < attempts:
                    delay = backoff_delay(
                        attempt_in_run, self.settings.backoff_base, self.settings.backoff_max
                    )
                    self.on_event("backoff", {"stage": stage, "delay": delay})
                    if SHUTDOWN.wait(delay):
                        raise _Interrupted() from None
                    if heartbeat.lost.is_set():
                        raise _LeaseLost() from None
                continue
            self.on_event("stage_completed", {"stage": stage, "attempt": attempt})
            return result.outputs
        plural = "attempt" if attempts == 1 else "attempts"
        raise _StageFailed(f"{stage} failed after {attempts} {plural}: {last_error}")

    def _call_stage(
        self,
        stage: str,
        attempt: int,
        job: Job,
        config: ThemeConfig,
        outputs: dict[str, dict[str, Any]],
        heartbeat: _Heartbeat,
    ) -> StageResult:
        """Run the stage in a thread so a time limit or shutdown can stop waiting for it."""
        work_dir = self.job_dir / stage / f"attempt-{attempt}"
        shutil.rmtree(work_dir, ignore_errors=True)
        work_dir.mkdir(parents=True, exist_ok=True)
        timeout = self.settings.stage_timeout
        ctx = StageContext(
            job_id=self.job_id,
            stage=stage,
            attempt=attempt,
            theme=config.config.theme,
            config=config,
            settings=self.settings,
            job_dir=self.job_dir,
            work_dir=work_dir,
            outputs=dict(outputs),
            store=self.store,
            deadline=time.monotonic() + timeout,
            log=lambda message: log.info("job %s %s: %s", self.job_id, stage, message),
        )
        heartbeat.cancel_targets.append(ctx.cancel)
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["result"] = self.stage_loader(stage)(ctx)
            except BaseException as exc:
                box["error"] = exc

        thread = threading.Thread(target=target, name=f"vidgen-{stage}-{self.job_id}", daemon=True)
        thread.start()
        try:
            while thread.is_alive():
                thread.join(0.05)
                if SHUTDOWN.is_set() or heartbeat.lost.is_set() or ctx.remaining() < 0:
                    ctx.cancel.set()
                    stopping = SHUTDOWN.is_set() or heartbeat.lost.is_set()
                    # A timed-out stage gets no longer to wind down than it had to run.
                    thread.join(CANCEL_GRACE if stopping else min(CANCEL_GRACE, timeout))
                    if heartbeat.lost.is_set():
                        raise _LeaseLost()
                    if SHUTDOWN.is_set():
                        raise _Interrupted()
                    raise StageTimeout(f"{stage} exceeded its time limit of {timeout:g} s")
        finally:
            heartbeat.cancel_targets.remove(ctx.cancel)
        if "error" in box:
            raise box["error"]
        result = box.get("result")
        if not isinstance(result, StageResult):
            raise TypeError(f"stage {stage} returned {type(result).__name__}, not StageResult")
        return result

    # -- checkpoints -----------------------------------------------------------------------

    def _start_checkpoint(self, stage: str) -> tuple[int, int]:
        with self.store.write() as session:
            previous = session.exec(
                select(Checkpoint.id).where(
                    Checkpoint.job_id == self.job_id, Checkpoint.stage == stage
                )
            ).all()
            checkpoint = Checkpoint(job_id=self.job_id, stage=stage, attempt=len(previous) + 1)
            session.add(checkpoint)
            session.execute(
                update(Job)
                .where(col(Job.id) == self.job_id, col(Job.lease_owner) == self.owner)
                .values(stage=stage, updated_at=utcnow(), attempts_started=Job.attempts_started + 1)
            )
            session.flush()
            assert checkpoint.id is not None
            return checkpoint.id, checkpoint.attempt

    def _finish_checkpoint(
        self, checkpoint_id: int, started: float, *, error: str, exc: BaseException | None = None
    ) -> None:
        trace = "".join(traceback.format_exception(exc)) if exc is not None else None
        with self.store.write() as session:
            checkpoint = session.get(Checkpoint, checkpoint_id)
            assert checkpoint is not None
            checkpoint.status = CheckpointStatus.FAILED.value
            checkpoint.finished_at = utcnow()
            checkpoint.duration_seconds = round(time.monotonic() - started, 3)
            checkpoint.error = error
            checkpoint.traceback = trace
            session.add(checkpoint)

    def _complete_checkpoint(self, checkpoint_id: int, started: float, result: StageResult) -> None:
        files = {}
        for path in result.files:
            rel = str(Path(path).resolve().relative_to(self.job_dir.resolve()))
            files[rel] = file_digest(Path(path))
        with self.store.write() as session:
            checkpoint = session.get(Checkpoint, checkpoint_id)
            assert checkpoint is not None
            checkpoint.status = CheckpointStatus.COMPLETED.value
            checkpoint.finished_at = utcnow()
            checkpoint.duration_seconds = round(time.monotonic() - started, 3)
            checkpoint.outputs = result.outputs
            checkpoint.files = files
            checkpoint.cost = result.cost
            session.add(checkpoint)
            session.execute(
                update(Job)
                .where(col(Job.id) == self.job_id)
                .values(total_cost=Job.total_cost + result.cost, updated_at=utcnow())
            )

    # -- endings ---------------------------------------------------------------------------

    def _fail(self, stage: str, message: str) -> JobStatus | None:
        try:
            with self.store.write() as session:
                transitions.fail(session, self.job_id, stage, message, self.owner)
        except Refused:
            return None  # the lease was taken from us; the reaper already recorded the failure
        self.on_event("job_failed", {"stage": stage, "error": message})
        return JobStatus.FAILED

    def _requeue(self, stage: str) -> JobStatus | None:
        with self.store.write() as session:
            transitions.requeue(session, self.job_id, self.owner, None)
        if self.requeue_fn is not None:
            task_id = self.requeue_fn(self.job_id)
            with self.store.write() as session:
                session.execute(
                    update(Job).where(col(Job.id) == self.job_id).values(task_id=task_id)
                )
        log.info("job %s: interrupted during %s and put back in the queue", self.job_id, stage)
        self.on_event("job_requeued", {"stage": stage})
        return JobStatus.PENDING


class _StageFailed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def sweep_job_leftovers(
    store: Store, settings: Settings, job_id: int, *, dry_run: bool = False
) -> Swept:
    """Temporary files under the job's folder and an unfinished publication in the review
    folder. Only for a job that is not running, or that the caller has just claimed."""
    from vidgen.review import sweep_leftovers

    swept = sweep_temp(settings.jobs_dir / str(job_id), dry_run=dry_run)
    swept.add(sweep_leftovers(store, settings, job_id, dry_run=dry_run))
    return swept


def reap_expired_leases(store: Store) -> list[int]:
    """Fail every running job whose lease ran out (its worker died); returns their ids."""
    now = utcnow()
    with store.read() as session:
        expired = session.exec(
            select(Job.id, Job.stage).where(
                Job.status == JobStatus.RUNNING.value, col(Job.lease_expires_at) < now
            )
        ).all()
    failed: list[int] = []
    for job_id, stage in expired:
        assert job_id is not None
        stage = stage or "initialization"
        message = f"worker lost during {stage}"
        if stage == "initialization":  # killed after its claim, before its first checkpoint
            message += f", before {_next_stage(store, job_id)}"
        try:
            with store.write() as session:
                transitions.fail_if_lease_expired(session, job_id, stage, now, message)
                session.execute(
                    update(Checkpoint)
                    .where(
                        col(Checkpoint.job_id) == job_id,
                        col(Checkpoint.status) == CheckpointStatus.RUNNING.value,
                    )
                    .values(
                        status=CheckpointStatus.FAILED.value,
                        finished_at=now,
                        error=message,
                    )
                )
        except Refused:
            continue  # renewed or finished in the meantime
        failed.append(job_id)
    return failed


def _next_stage(store: Store, job_id: int) -> str:
    """The stage a job would have run next: the first one without a completed checkpoint."""
    done = {
        stage
        for stage, checkpoint in latest_checkpoints(store, job_id).items()
        if checkpoint.status == CheckpointStatus.COMPLETED
    }
    return next((s for s in PIPELINE_STAGES if s not in done), PIPELINE_STAGES[-1])


def live_workers(store: Store, within: float) -> int:
    """How many workers reported in during the last ``within`` seconds."""
    from vidgen.models import WorkerBeat

    since = utcnow() - timedelta(seconds=within)
    with store.read() as session:
        return len(session.exec(select(WorkerBeat.id).where(WorkerBeat.last_seen >= since)).all())
