"""Running one stage attempt: in a thread, under its time limit, stoppable by a shutdown.

``SHUTDOWN`` is the process-wide stop flag (set by the worker host on SIGINT/SIGTERM, or by
``generate --wait`` on Ctrl-C): a running stage is cancelled and its job requeued.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from typing import Any

from vidgen.errors import LeaseLost, StageTimeout
from vidgen.pipeline.heartbeat import Heartbeat
from vidgen.stages.base import StageContext, StageFunction, StageResult

SHUTDOWN = threading.Event()
# Seconds a cancelled stage thread gets to wind down before we stop waiting for it.
CANCEL_GRACE = 10.0


class Interrupted(Exception):
    """The worker is shutting down; the job goes back to the queue."""


class Cancelled(Exception):
    """``vidgen cancel`` asked for this job to stop; it becomes ``cancelled``."""


def prepare_work_dir(ctx: StageContext) -> None:
    """A fresh, empty folder for the attempt (a previous run's leftovers would mislead it)."""
    shutil.rmtree(ctx.work_dir, ignore_errors=True)
    ctx.work_dir.mkdir(parents=True, exist_ok=True)


def call_stage(
    stage_fn: Callable[[], StageFunction],
    ctx: StageContext,
    heartbeat: Heartbeat,
    timeout: float,
) -> StageResult:
    """Run the stage in a thread so a time limit or shutdown can stop waiting for it."""
    stage = ctx.stage
    heartbeat.cancel_targets.append(ctx.cancel)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = stage_fn()(ctx)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name=f"vidgen-{stage}-{ctx.job_id}", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.05)
            cancelled = heartbeat.cancelled.is_set()
            if SHUTDOWN.is_set() or heartbeat.lost.is_set() or cancelled or ctx.remaining() < 0:
                ctx.cancel.set()
                stopping = SHUTDOWN.is_set() or heartbeat.lost.is_set() or cancelled
                # A timed-out stage gets no longer to wind down than it had to run.
                thread.join(CANCEL_GRACE if stopping else min(CANCEL_GRACE, timeout))
                if heartbeat.lost.is_set():
                    raise LeaseLost(f"job {ctx.job_id}: the lease was lost during {stage}")
                if cancelled:
                    raise Cancelled()
                if SHUTDOWN.is_set():
                    raise Interrupted()
                raise StageTimeout(f"{stage} exceeded its time limit of {timeout:g} s")
    finally:
        heartbeat.cancel_targets.remove(ctx.cancel)
    if "error" in box:
        raise box["error"]
    result = box.get("result")
    if not isinstance(result, StageResult):
        raise TypeError(f"stage {stage} returned {type(result).__name__}, not StageResult")
    return result


def started_at() -> float:
    return time.monotonic()
