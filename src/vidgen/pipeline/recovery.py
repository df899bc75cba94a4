"""Make the queue match the store: fail lost jobs, repair the queue, re-enqueue pending jobs,
and remove what killed attempts left behind.

``recover`` does all of it at once (``vidgen recover``, and every worker at start);
``requeue_orphans`` is the part every running worker repeats every ``RECONCILE_SECONDS``: the
store is the outbox, and a pending job whose queue message never arrived (its ``generate`` or
``retry`` was killed between the store write and the enqueue, or the queue refused it) or was
lost is queued again within ``RECONCILE_BOUND_SECONDS``.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Collection
from datetime import timedelta

from vidgen.clock import utcnow
from vidgen.errors import QueueDamaged, QueueUnavailable
from vidgen.files import Swept
from vidgen.pipeline.queue import (
    enqueue_job,
    queued_job_ids,
    replace_broken,
)
from vidgen.schemas import RecoverResponse
from vidgen.settings import Settings
from vidgen.store import beats, get_store, jobs

log = logging.getLogger("vidgen.worker")

# How often a worker looks for pending jobs without a queue message.
RECONCILE_SECONDS = 5.0
# How long a job must have been pending (no move since) before that: the enqueue of the
# `generate` or `retry` that just recorded it takes milliseconds, and is not duplicated.
RECONCILE_GRACE_SECONDS = 5.0
# The documented promise (README, docs/RELIABILITY.md): grace + one interval, plus slack for a
# loaded machine. Counted from the store write, or from when the queue is reachable again.
RECONCILE_BOUND_SECONDS = 15

_JOB_NAME = re.compile(r"^(?:\.publish-|\.)?job-(\d+)-")


def recover(settings: Settings) -> RecoverResponse:
    """What ``vidgen recover`` (and every worker at start) does; see the module docstring."""
    store = get_store(settings)
    lost = beats.reap_expired_leases(store)
    queue_reset = False
    try:
        queued = queued_job_ids(settings)
    except QueueUnavailable as exc:
        # A damaged file is known at once (no lock wait); a merely locked one is not replaced.
        locked = not isinstance(exc, QueueDamaged) and "locked" in str(exc)
        if locked or not replace_broken(settings):
            raise
        queue_reset = True
        queued = queued_job_ids(settings)
    requeued = []
    for job_id in jobs.pending_ids(store):
        if job_id not in queued:
            jobs.set_task_id(store, job_id, enqueue_job(settings, job_id))
            requeued.append(job_id)
    parts = [f"re-enqueued {len(requeued)} pending job(s)", f"failed {len(lost)} lost job(s)"]
    swept = sweep_dead_attempts(settings)
    if swept.files:
        parts.append(f"removed {swept.files} file(s) ({swept.bytes} bytes) left by killed attempts")
    if queue_reset:
        parts.insert(0, "queue file was unreadable and has been replaced")
    return RecoverResponse(
        requeued_job_ids=requeued,
        failed_lost_job_ids=lost,
        queue_reset=queue_reset,
        message="; ".join(parts),
    )


def requeue_orphans(
    settings: Settings,
    by: str,
    *,
    running_here: Collection[int] = (),
    grace: float = RECONCILE_GRACE_SECONDS,
) -> list[int]:
    """Enqueue pending jobs that have been pending for ``grace`` seconds and have no message
    in the queue; returns their ids. QueueUnavailable if the queue cannot be read or written.

    ``running_here``: jobs whose message this worker has taken and is about to claim (between
    the dequeue and the claim such a job is pending with no message). The same window in
    another worker can still make one duplicate message, which is harmless: the claim is a
    conditional UPDATE, so the second message finds the job taken and does nothing. Each
    re-enqueue first wins a compare-and-set in the store (``jobs.take_for_requeue``), so
    several workers reconciling at once queue a job once, not once each.
    """
    store = get_store(settings)
    cutoff = utcnow() - timedelta(seconds=grace)
    pending = jobs.pending_since(store, cutoff)
    candidates = [job_id for job_id in pending if job_id not in running_here]
    if not candidates:
        return []  # the usual case: one store read, the queue is not touched
    queued = queued_job_ids(settings)
    requeued: list[int] = []
    for job_id in candidates:
        if job_id in queued or job_id in running_here:  # taken since the first look
            continue
        if not jobs.take_for_requeue(store, job_id, cutoff, by):
            continue  # another worker queued it, or it moved on
        jobs.set_task_id(store, job_id, enqueue_job(settings, job_id))
        log.warning(
            "job %s was pending for over %g s without a queue message; queued it again",
            job_id,
            grace,
        )
        requeued.append(job_id)
    return requeued


def sweep_dead_attempts(settings: Settings, *, dry_run: bool = False) -> Swept:
    """Remove what killed attempts of jobs that are not running left behind: temporary files
    in their job folders, unfinished publications in the review folder. For ``recover`` and
    ``prune``; a running job's files are never touched (each job is checked and swept while
    holding the store's write lock, so no worker can claim it in between)."""
    from vidgen.pipeline.runner import sweep_job_leftovers

    store = get_store(settings)
    candidates: set[int] = set()
    with contextlib.suppress(OSError):
        candidates |= {int(p.name) for p in settings.jobs_dir.iterdir() if p.name.isdigit()}
    with contextlib.suppress(OSError):
        for entry in (settings.output_root / "review").iterdir():
            match = _JOB_NAME.match(entry.name)
            if match:
                candidates.add(int(match.group(1)))
    swept = Swept()
    for job_id in sorted(candidates):
        found = sweep_job_leftovers(store, settings, job_id, dry_run=True)
        if not found.files:
            continue  # nothing to remove: no lock taken
        if dry_run:
            swept.add(found)
            continue

        def sweep(job_id: int = job_id) -> Swept:
            return sweep_job_leftovers(store, settings, job_id)

        removed = jobs.unless_running(store, job_id, sweep)
        if removed is not None:
            swept.add(removed)
    return swept
