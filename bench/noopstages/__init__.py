"""Five no-op stages for the orchestration benchmark (``VIDGEN_STAGE_PACKAGE=noopstages``).

Each stage does nothing and returns an empty result, so a job's time through ``vidgen worker`` is
pure orchestration: queue, claim, lease, checkpoints, threads. ``STAGES`` is the same five
functions for the raw-Huey baseline. Only the benchmark's "blocker" job (theme
``bench-blocker``) sleeps, to hold the worker while a batch is enqueued.
"""

from __future__ import annotations

import time

from vidgen.stages.base import RecordedOutput, StageContext, StageResult

BLOCKER_THEME = "bench-blocker"
BLOCKER_SECONDS = 1.0


def noop(ctx: StageContext | None) -> StageResult:
    if ctx is not None and ctx.theme == BLOCKER_THEME and ctx.stage == "trend_collection":
        time.sleep(BLOCKER_SECONDS)  # keeps the worker busy while the benchmark enqueues a batch
    return StageResult(output=RecordedOutput())


STAGES = (noop,) * 5
