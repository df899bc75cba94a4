"""The orchestration baseline: the same five no-op functions as one raw Huey task.

Run with ``huey_consumer rawhuey_tasks.huey -w 1 -k thread`` and ``PYTHONPATH=bench``; the queue
file comes from ``BENCH_HUEY_DB``.
"""

from __future__ import annotations

import os
import time

from huey import SqliteHuey
from noopstages import BLOCKER_SECONDS, STAGES

huey = SqliteHuey("bench", filename=os.environ["BENCH_HUEY_DB"])


@huey.task(name="bench.five_stages")
def five_stages(job_id: int, blocker: bool = False) -> int:
    if blocker:
        time.sleep(BLOCKER_SECONDS)
    for stage in STAGES:
        stage(None)
    return job_id
