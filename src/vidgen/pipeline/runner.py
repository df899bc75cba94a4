"""Run one job through ``PIPELINE_STAGES``, checkpointing after each stage.

The runner claims the job (pending -> running) with a lease that a heartbeat renews
(``pipeline.heartbeat``), reuses the recorded outputs of stages already completed after checking
their files are intact (``pipeline.resume``), and runs the rest, each attempt in a thread under
its time limit (``pipeline.execute``). Retryable failures back off exponentially with jitter
(``pipeline.retries``); a shutdown cancels the current stage and puts the job back in the
queue. Everything is recorded through the store (checkpoints, job moves) and every step is a
named ``RunnerEvent``, stored with the move it belongs to (``pipeline.signals``). Any other
worker finds expired leases (``vidgen.store.beats.reap_expired_leases``) and fails those
jobs, so a killed worker never leaves a job ``running`` forever.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel

from vidgen.config import ThemeConfig, load_config
from vidgen.errors import (
    FatalStageError,
    InvalidInput,
    LeaseLost,
    Refused,
    StageError,
    StoreBusy,
    VidgenError,
    one_line,
)
from vidgen.files import Swept, sweep_temp
from vidgen.pipeline import signals
from vidgen.pipeline.execute import (
    SHUTDOWN,
    Cancelled,
    Interrupted,
    call_stage,
    prepare_work_dir,
)
from vidgen.pipeline.heartbeat import Heartbeat, runner_owner
from vidgen.pipeline.outage import Outage, outage_for
from vidgen.pipeline.resume import file_digests, reusable_outputs
from vidgen.pipeline.retries import backoff_delay
from vidgen.settings import Settings
from vidgen.stages import PIPELINE_STAGES
from vidgen.stages.base import (
    StageContext,
    StageFunction,
    StageResult,
    load_stage,
    output_model,
)
from vidgen.statuses import JobStatus, RunnerEvent
from vidgen.store import STORE_ERRORS, Store, checkpoints, get_store, jobs, public_url
from vidgen.store.engine import unreachable
from vidgen.store.leases import Lease
from vidgen.store.models import Job

log = logging.getLogger("vidgen.runner")
# A claim that fails with one of these puts the message back (busy, or store unreachable).
_CLAIM_RETRY: tuple[type[BaseException], ...] = (StoreBusy, *STORE_ERRORS)
_BUSY_RETRY_SECONDS = 0.2  # a runner write refused by a busy store is tried again this soon
T = TypeVar("T")


class _StageFailed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
    ) -> None:
        self.job_id = job_id
        self.settings = settings
        self.store = get_store(settings)
        # A worker's runs own their jobs under the worker's id: the reaper leaves the jobs of a
        # worker whose beat is fresh alone (store.beats.reap_expired_leases).
        self.owner = owner or runner_owner()
        self.lease: Lease | None = None
        self.stage_loader = stage_loader or (lambda name: load_stage(name, settings.stage_package))
        self.stage_names = stage_names
        self.requeue_fn = requeue
        self.job_dir = settings.jobs_dir / str(job_id)
        self.current_stage: str | None = None
        self._completed = False  # the job's move to completed was recorded
        # What the job's completed attempts cost: read once per run, then kept up to date
        # from the attempts this run completes (no other writer adds to it meanwhile).
        self._spent: float | None = None
        self.events = signals.JobEvents(self.store, job_id)

    # -- the run ---------------------------------------------------------------------------

    def run(self) -> JobStatus | None:
        """Claim and run the job; None if it was not pending (already taken or finished)."""
        try:
            return self._claim_and_run()
        finally:
            self.events.close()

    def _claim_and_run(self) -> JobStatus | None:
        if SHUTDOWN.is_set() and self.requeue_fn is not None:
            # A worker that is stopping hands back a message it picked up instead of starting it.
            self.requeue_fn(self.job_id)
            return None
        try:
            self.events.begin()
            job, self.lease = jobs.claim(
                self.store, self.job_id, self.owner, self.settings.lease_seconds
            )
        except Refused:
            log.info("job %s is not pending; nothing to do", self.job_id)
            return None
        except _CLAIM_RETRY as exc:
            if self.requeue_fn is None:
                raise
            # The message is already consumed: dropping it would leave the job pending with
            # nothing in the queue until the next recover. Put it back instead -- after a
            # wait if the store is unreachable (it fails at once, unlike a busy one).
            if isinstance(exc, StoreBusy):
                log.warning("job %s: %s; putting it back in the queue", self.job_id, exc)
            else:
                SHUTDOWN.wait(self._outage().failed(exc))
            self._put_back_message()
            return None
        self._outage().recovered()
        self.events.notify()  # job_claimed
        self._sweep_leftovers()
        if job.cancel_requested:  # cancelled while running, then requeued by a shutdown
            return self._cancel(job.stage or self.stage_names[0])
        heartbeat = Heartbeat(self.store, self.lease, self.settings)
        heartbeat.start()
        try:
            return self._run_stages(job, heartbeat)
        except LeaseLost as exc:
            # Fenced off by the store: the job is no longer ours, so nothing is recorded.
            log.error("job %s: %s", self.job_id, one_line(exc))
            return None
        except Exception as exc:
            # The store itself failed (disk full, I/O error). Record why if it still can;
            # if not, the lease runs out and the reaper fails the job: it is never stuck.
            stage = self.current_stage or self.stage_names[0]
            # A store that went away is an outage (one line); anything else is a bug to show.
            expected = isinstance(exc, (VidgenError, *STORE_ERRORS))
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

    def _outage(self) -> Outage:
        """This process's one outage report for the store (shared with the worker's beat)."""
        return outage_for(f"the job store {public_url(self.settings.db_url)}", log)

    def _put_back_message(self) -> None:
        """Put the consumed message back in the queue; a queue that is down too is waited out
        (one line per retry), never a dropped job."""
        assert self.requeue_fn is not None
        queue = outage_for(f"the queue {self.settings.queue}", log)
        while True:
            try:
                self.requeue_fn(self.job_id)
            except Exception as exc:
                if SHUTDOWN.wait(queue.failed(exc)):
                    log.warning(
                        "job %s: not put back (shutting down); recover queues it", self.job_id
                    )
                    return
                continue
            queue.recovered()
            return

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

    def _run_stages(self, job: Job, heartbeat: Heartbeat) -> JobStatus | None:
        first = self.stage_names[0]
        try:
            config = self._load_config(job)
        except InvalidInput as exc:
            return self._fail(first, f"config no longer valid: {exc}")
        outputs = self._write(
            lambda: reusable_outputs(
                self.store,
                self.job_id,
                self.job_dir,
                PIPELINE_STAGES,
                lambda name: output_model(name, self.settings.stage_package),
            )
        )
        for stage in self.stage_names:
            if stage in outputs:
                self.events.record(RunnerEvent.STAGE_SKIPPED, stage=stage)
                continue
            self.current_stage = stage
            if heartbeat.cancelled.is_set():
                return self._cancel(stage)
            try:
                outputs[stage] = self._run_stage_with_retries(
                    stage, job, config, outputs, heartbeat
                )
            except LeaseLost:
                # The job was failed or claimed again without us: stop at once and write
                # nothing for it but this note (the store refuses anything else).
                log.error("job %s: lease lost during %s; stopping", self.job_id, stage)
                self.events.record(RunnerEvent.LEASE_LOST, stage=stage)
                return None
            except Interrupted:
                return self._requeue(stage)
            except Cancelled:
                return self._cancel(stage)
            except _StageFailed as failed:
                return self._fail(stage, failed.message)
        if not self._completed:  # the last stage was reused: nothing recorded the move yet
            try:
                self._write(lambda: jobs.complete(self.store, self._held()))
            except LeaseLost:
                log.error("job %s: lease lost before it completed; stopping", self.job_id)
                return None
        self.events.notify()  # job_completed
        return JobStatus.COMPLETED

    def _load_config(self, job: Job) -> ThemeConfig:
        from vidgen.config import SNAPSHOT_NAME, load_snapshot, resolve_config_path

        # The config as `generate` checked it; a job queued before snapshots (or whose folder
        # was pruned) reads its file again.
        config = load_snapshot(self.job_dir / SNAPSHOT_NAME)
        if config is None:
            path = resolve_config_path(job.config_path, self.settings.config, self.settings.home)
            config = load_config(path)
        if job.theme != "default":  # an explicit --theme overrides the file's theme
            block = config.config.model_copy(update={"theme": job.theme})
            config = config.model_copy(update={"config": block})
        # The profile recorded when the job was queued (VIDGEN_PROFILE of the process that
        # queued it, else the config's); jobs recorded before it existed fall back to the
        # worker's VIDGEN_PROFILE.
        profile = job.profile or self.settings.profile
        if profile in ("full", "preview"):
            settings_block = config.config.model_copy(update={"profile": profile})
            config = config.model_copy(update={"config": settings_block})
        return config

    def _run_stage_with_retries(
        self,
        stage: str,
        job: Job,
        config: ThemeConfig,
        outputs: dict[str, BaseModel],
        heartbeat: Heartbeat,
    ) -> BaseModel:
        attempts = self.settings.stage_attempts
        last_error = ""
        attempt_in_run = 0
        while attempt_in_run < attempts:
            attempt_in_run += 1
            attempt = self._write(lambda: checkpoints.start(self.store, self._held(), stage))
            self.events.notify()  # stage_started
            started = time.monotonic()
            try:
                result = self._call_stage(stage, attempt.number, config, outputs, heartbeat)
                try:
                    self._complete_checkpoint(attempt, started, result)
                except LeaseLost:
                    if result.undo is not None:  # e.g. review's publication: it is not ours
                        result.undo()
                    raise
                except Exception as exc:  # e.g. "database or disk is full": not recorded = failed
                    raise StageError(f"could not record the checkpoint: {one_line(exc)}") from exc
            except (Interrupted, LeaseLost, Cancelled) as exc:
                if isinstance(exc, Interrupted):
                    self._fail_checkpoint(attempt, started, error="interrupted: worker shut down")
                elif isinstance(exc, Cancelled):
                    self._fail_checkpoint(attempt, started, error="cancelled")
                raise
            except FatalStageError as exc:
                self._fail_checkpoint(attempt, started, error=one_line(exc), exc=exc)
                raise _StageFailed(f"{stage} failed: {one_line(exc)}") from None
            except Exception as exc:  # retryable: StageError, OSError, bugs in a provider...
                last_error = one_line(exc)
                self._fail_checkpoint(attempt, started, error=last_error, exc=exc)
                if _store_outage(exc):
                    # The stage could not reach the store (a database server restarting): not
                    # the stage's fault. Recording the failed attempt above waited until the
                    # store answered again; this attempt does not count against the limit.
                    attempt_in_run -= 1
                    continue
                if attempt_in_run < attempts:
                    delay = backoff_delay(
                        attempt_in_run, self.settings.backoff_base, self.settings.backoff_max
                    )
                    self.events.record(
                        RunnerEvent.BACKOFF,
                        stage=stage,
                        attempt=attempt.number,
                        message=f"next attempt in {delay:.1f} s",
                        data={"delay": delay},
                    )
                    self._back_off(delay, heartbeat)
                continue
            return result.output
        plural = "attempt" if attempts == 1 else "attempts"
        raise _StageFailed(f"{stage} failed after {attempts} {plural}: {last_error}")

    @staticmethod
    def _back_off(delay: float, heartbeat: Heartbeat) -> None:
        """Wait ``delay`` seconds before the next attempt, unless stopped or cancelled."""
        end = time.monotonic() + delay
        while (left := end - time.monotonic()) > 0:
            if SHUTDOWN.wait(min(left, 0.1)):
                raise Interrupted() from None
            if heartbeat.cancelled.is_set():
                raise Cancelled() from None
        if heartbeat.lost.is_set():
            raise LeaseLost("the lease was lost during a back-off") from None

    def _call_stage(
        self,
        stage: str,
        attempt: int,
        config: ThemeConfig,
        outputs: dict[str, BaseModel],
        heartbeat: Heartbeat,
    ) -> StageResult:
        timeout = self.settings.stage_timeout
        ctx = StageContext(
            job_id=self.job_id,
            stage=stage,
            attempt=attempt,
            theme=config.config.theme,
            config=config,
            settings=self.settings,
            job_dir=self.job_dir,
            work_dir=self.job_dir / stage / f"attempt-{attempt}",
            outputs=dict(outputs),
            store=self.store,
            lease=self._held(),
            deadline=time.monotonic() + timeout,
            log=lambda message: log.info("job %s %s: %s", self.job_id, stage, message),
            # The job's recorded spend, for config.max_cost_usd checks before paid calls.
            spent_usd=self._spent_so_far(),
        )
        prepare_work_dir(ctx)
        ctx.deadline = time.monotonic() + timeout
        return call_stage(lambda: self.stage_loader(stage), ctx, heartbeat, timeout)

    def _spent_so_far(self) -> float:
        if self._spent is None:
            self._spent = self._write(lambda: checkpoints.total_cost(self.store, self.job_id))
        return self._spent

    # -- checkpoints -----------------------------------------------------------------------

    def _fail_checkpoint(
        self,
        attempt: checkpoints.Attempt,
        started: float,
        *,
        error: str,
        exc: BaseException | None = None,
    ) -> None:
        trace = "".join(traceback.format_exception(exc)) if exc is not None else None
        # e.g. ffmpeg's stderr tail (vidgen.media.ffmpeg.FfmpegError.details), for `vidgen logs`
        details = getattr(exc, "details", None)
        duration = time.monotonic() - started
        self._write(
            lambda: checkpoints.fail(
                self.store,
                self._held(),
                attempt,
                duration,
                error,
                trace,
                details if isinstance(details, dict) else None,
            )
        )
        self.events.notify()  # stage_failed

    def _complete_checkpoint(
        self, attempt: checkpoints.Attempt, started: float, result: StageResult
    ) -> None:
        files = file_digests(self.job_dir, result.files)
        # The last stage's checkpoint and the job's completion are one transaction: a lease
        # lost in between would leave a completed attempt under a failed job.
        last = attempt.stage == self.stage_names[-1]
        duration = time.monotonic() - started
        self._write(
            lambda: checkpoints.complete(
                self.store,
                self._held(),
                attempt,
                duration,
                result.outputs,
                files,
                result.cost,
                finish_job=last,
            )
        )
        self._completed = self._completed or last
        self._spent = self._spent_so_far() + result.cost
        self.events.notify()  # stage_completed

    # -- endings ---------------------------------------------------------------------------

    def _write(self, write: Callable[[], T]) -> T:
        """One of the runner's store reads or writes, tried again while the store is busy or
        its server unreachable: a lock held elsewhere for longer than the busy timeout, or a
        database server restarting, must not cost the job. Safe: while the store cannot be
        reached nobody can take the lease either, the heartbeat renews it as soon as the store
        answers (and reapers wait a grace after an outage), and fencing refuses a write whose
        lease was taken after all. An outage is one line per retry (``Outage``), no traceback.
        Stops at a shutdown."""
        warned = False
        outage: Outage | None = None
        while True:
            try:
                done = write()
            except StoreBusy as exc:
                if SHUTDOWN.is_set():
                    raise
                if not warned:
                    log.warning("job %s: %s; retrying", self.job_id, exc)
                    warned = True
                SHUTDOWN.wait(_BUSY_RETRY_SECONDS)
                continue
            except STORE_ERRORS as exc:
                if not unreachable(exc) or SHUTDOWN.is_set():
                    raise
                outage = self._outage()
                SHUTDOWN.wait(min(outage.failed(exc), self.settings.heartbeat_seconds))
                continue
            if outage is not None:
                outage.recovered()
            return done

    def _held(self) -> Lease:
        assert self.lease is not None, "the job is claimed before anything is written for it"
        return self.lease

    def _fail(self, stage: str, message: str) -> JobStatus | None:
        try:
            self._write(lambda: jobs.fail(self.store, self._held(), stage, message))
        except LeaseLost:
            return None  # the lease was taken from us; the reaper already recorded the failure
        self.events.notify()  # job_failed
        return JobStatus.FAILED

    def _cancel(self, stage: str) -> JobStatus | None:
        """``vidgen cancel`` reached this job: running -> cancelled (``job_cancelled``)."""
        try:
            self._write(lambda: jobs.finish_cancel(self.store, self._held(), stage))
        except LeaseLost:
            return None  # the lease was taken from us meanwhile
        log.info("job %s: cancelled during %s", self.job_id, stage)
        self.events.notify()  # job_cancelled
        return JobStatus.CANCELLED

    def _requeue(self, stage: str) -> JobStatus | None:
        try:
            self._write(lambda: jobs.requeue(self.store, self._held(), None))
        except LeaseLost:
            return None  # failed by a reaper meanwhile: not ours to put back
        if self.requeue_fn is not None:
            jobs.set_task_id(self.store, self.job_id, self.requeue_fn(self.job_id))
        log.info("job %s: interrupted during %s and put back in the queue", self.job_id, stage)
        self.events.notify()  # job_requeued
        return JobStatus.PENDING


def _store_outage(exc: BaseException) -> bool:
    """``exc`` or what caused it says the store's server was unreachable."""
    seen: BaseException | None = exc
    while seen is not None:
        if unreachable(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def sweep_job_leftovers(
    store: Store, settings: Settings, job_id: int, *, dry_run: bool = False
) -> Swept:
    """Temporary files under the job's folder and an unfinished publication in the review
    folder. Only for a job that is not running, or that the caller has just claimed."""
    from vidgen.review_folders import sweep_leftovers

    swept = sweep_temp(settings.jobs_dir / str(job_id), dry_run=dry_run)
    swept.add(sweep_leftovers(store, settings, job_id, dry_run=dry_run))
    return swept
