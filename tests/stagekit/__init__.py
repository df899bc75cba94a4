"""Stages for the runner's tests, loaded with ``VIDGEN_STAGE_PACKAGE=stagekit``.

Each stage writes a small file, records each run in ``$VIDGEN_HOME/runs.log`` and returns
outputs naming the earlier outputs it was given, so tests can see exactly what ran and what was
reused. ``STAGEKIT_<STAGE>`` scripts a fault:

- ``fail:N``   the first N attempts raise StageError
- ``fatal``    raise FatalStageError
- ``hang``     sleep forever, ignoring cancellation (only a time limit stops waiting for it)
- ``sleep:S``  sleep S seconds, checking cancellation
- ``pause``    wait (cooperatively) until ``$VIDGEN_HOME/release-<stage>`` exists
- ``real``     run vidgen's real stage
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from vidgen.errors import FatalStageError, StageError
from vidgen.stages.base import StageContext, StageResult


def runs_log(home: Path) -> list[tuple[str, int, int]]:
    """(stage, job_id, attempt) for every stage run recorded under ``home``."""
    path = home / "runs.log"
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        stage, job_id, attempt = line.split()
        rows.append((stage, int(job_id), int(attempt)))
    return rows


def run_stage(name: str, ctx: StageContext) -> StageResult:
    home = ctx.settings.home
    with open(home / "runs.log", "a") as log:
        log.write(f"{name} {ctx.job_id} {ctx.attempt}\n")
    script = os.environ.get(f"STAGEKIT_{name.upper()}", "")
    if script == "real":
        from importlib import import_module

        result: StageResult = import_module(f"vidgen.stages.{name}").run(ctx)
        return result
    if script.startswith("fail:"):
        failures = int(script.split(":")[1])
        if sum(1 for row in runs_log(home) if row[0] == name and row[1] == ctx.job_id) <= failures:
            raise StageError(f"{name} scripted failure")
    elif script == "fatal":
        raise FatalStageError(f"{name} cannot work with this config")
    elif script == "hang":
        while True:
            time.sleep(0.05)
    elif script.startswith("sleep:"):
        end = time.monotonic() + float(script.split(":")[1])
        while time.monotonic() < end:
            ctx.check_cancelled()
            time.sleep(0.02)
    elif script == "pause":
        (home / f"inside-{name}").touch()
        while not (home / f"release-{name}").exists():
            ctx.check_cancelled()
            time.sleep(0.02)
    out = ctx.work_dir / f"{name}.txt"
    out.write_text(f"{name} output for job {ctx.job_id}\n")
    return StageResult(
        outputs={"file": ctx.rel(out), "saw": sorted(ctx.outputs), "stage": name},
        files=[out],
        cost=0.01,
    )
