"""The old home of the status names, now ``vidgen.statuses``: nothing lives here.

Kept for imports from branches written before the move; new code imports ``vidgen.statuses``.
"""

from vidgen.statuses import (
    TERMINAL_JOB_STATUSES,
    CheckpointStatus,
    JobStatus,
    PublicationStatus,
    RunnerEvent,
    VideoStatus,
)

__all__ = [
    "TERMINAL_JOB_STATUSES",
    "CheckpointStatus",
    "JobStatus",
    "PublicationStatus",
    "RunnerEvent",
    "VideoStatus",
]
