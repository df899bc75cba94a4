"""Make the queue match the store: fail lost jobs, repair the queue, re-enqueue pending jobs."""

from __future__ import annotations

from vidgen.pipeline.queue import QueueUnavailable, enqueue_job, queued_job_ids, replace_broken
from vidgen.schemas import RecoverResponse
from vidgen.settings import Settings
from vidgen.store import get_store, jobs, workers


def recover(settings: Settings) -> RecoverResponse:
    """What ``vidgen recover`` (and every worker at start) does; see the module docstring."""
    store = get_store(settings)
    lost = workers.reap_expired_leases(store)
    queue_reset = False
    try:
        queued = queued_job_ids(settings)
    except QueueUnavailable:
        if not replace_broken(settings):
            raise
        queue_reset = True
        queued = queued_job_ids(settings)
    requeued = []
    for job_id in jobs.pending_ids(store):
        if job_id not in queued:
            jobs.set_task_id(store, job_id, enqueue_job(settings, job_id))
            requeued.append(job_id)
    parts = [f"re-enqueued {len(requeued)} pending job(s)", f"failed {len(lost)} lost job(s)"]
    if queue_reset:
        parts.insert(0, "queue file was unreadable and has been replaced")
    return RecoverResponse(
        requeued_job_ids=requeued,
        failed_lost_job_ids=lost,
        queue_reset=queue_reset,
        message="; ".join(parts),
    )
