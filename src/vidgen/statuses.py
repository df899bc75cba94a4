"""The status names: the enums of the tables in ``vidgen.store.models``, the runner's events.

Free of SQLAlchemy and of the store, so every layer - the faces too - can spell a status
without loading the store at start-up. Every place that names a status uses these.
"""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL_JOB_STATUSES: tuple[JobStatus, ...] = (
    JobStatus.COMPLETED,
    JobStatus.FAILED,
    JobStatus.CANCELLED,
)


class CheckpointStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    SUPERSEDED = "superseded"  # completed, then set aside by ``retry --from-stage``


class VideoStatus(StrEnum):
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"


class PublicationStatus(StrEnum):
    """One approved video on one destination (``vidgen.store.publications`` moves it)."""

    SCHEDULED = "scheduled"  # waiting for its time; ``publish --due`` queues it
    UPLOADING = "uploading"  # a worker holds it (lease), the upload session is recorded
    PUBLISHED = "published"  # the platform has it: remote id and URL recorded
    FAILED = "failed"
    CANCELLED = "cancelled"  # before any upload started; nothing on a platform is deleted


class RunnerEvent(StrEnum):
    """What happened to a job, in the order a runner can record it (``Event.kind``)."""

    JOB_CLAIMED = "job_claimed"
    STAGE_SKIPPED = "stage_skipped"  # completed before, outputs reused
    STAGE_STARTED = "stage_started"
    STAGE_COMPLETED = "stage_completed"
    STAGE_FAILED = "stage_failed"
    BACKOFF = "backoff"  # waiting before the next attempt
    LEASE_LOST = "lease_lost"  # another worker failed the job; this one stops writing
    JOB_COMPLETED = "job_completed"
    JOB_FAILED = "job_failed"
    JOB_REQUEUED = "job_requeued"  # worker shut down mid-job; back in the queue
    CANCEL_REQUESTED = "cancel_requested"  # ``vidgen cancel`` of a running job; its worker stops it
    JOB_CANCELLED = "job_cancelled"
    JOB_RETRIED = "job_retried"  # ``vidgen retry``: back to pending (data: from_stage)
    RETRY_NOT_QUEUED = "retry_not_queued"  # the queue refused the retry: failed again
    JOB_REENQUEUED = "job_reenqueued"  # pending without a queue message: a worker queued it
