"""The service layer: what every CLI command and HTTP route calls.

Functions take validated-but-raw user values, do the work against the store and queue, and return
the pydantic response models from ``vidgen.schemas``. They raise only ``vidgen.errors`` types;
the edges turn those into exit codes or HTTP statuses. Nothing here prints.

One private module per resource (``_intake``: generate and batches, ``_job_reads``,
``_job_moves``, ``_reviewing``, ``_publishing``, ``_read_models``: the dashboard's,
``_upkeep``: prune and recover, ``_hosting``: what ``serve``/``worker`` need); the faces call
only the names below, as ``service.<name>`` (``tests/test_service_surface.py`` pins them: exactly
what the faces call, and the two time helpers the tests check on their own).
"""

from __future__ import annotations

from vidgen.service._checks import (
    MAX_JOB_ID,
    MAX_LIMIT,
    MAX_OFFSET,
)
from vidgen.service._hosting import (
    end_session,
    flush_webhooks,
    follow_job,
    health,
    no_worker_hint,
    open_store,
    serving_workers,
    session_ok,
    start_session,
    themes_folder,
    worker_host,
    worker_log,
)
from vidgen.service._intake import (
    MAX_BATCH,
    default_config,
    generate,
    generate_batch,
    load_batch_file,
)
from vidgen.service._job_moves import (
    cancel_job,
    retry,
)
from vidgen.service._job_reads import (
    job_changes,
    job_detail,
    job_logs,
    job_status,
    list_jobs,
)
from vidgen.service._publishing import (
    auth_begin,
    auth_finish,
    cancel_publication,
    list_publications,
    next_slot,
    parse_publish_time,
    publish_due,
    publish_video,
    video_publications,
)
from vidgen.service._read_models import (
    VIDEO_MEDIA_TYPES,
    job_cards,
    job_page,
    video_file,
)
from vidgen.service._reviewing import (
    approve_job,
    approve_video,
    list_videos,
    reject_job,
    reject_video,
)
from vidgen.service._upkeep import (
    prune,
    recover,
)

__all__ = [
    "MAX_BATCH",
    "MAX_JOB_ID",
    "MAX_LIMIT",
    "MAX_OFFSET",
    "VIDEO_MEDIA_TYPES",
    "approve_job",
    "approve_video",
    "auth_begin",
    "auth_finish",
    "cancel_job",
    "cancel_publication",
    "default_config",
    "end_session",
    "flush_webhooks",
    "follow_job",
    "generate",
    "generate_batch",
    "health",
    "job_cards",
    "job_changes",
    "job_detail",
    "job_logs",
    "job_page",
    "job_status",
    "list_jobs",
    "list_publications",
    "list_videos",
    "load_batch_file",
    "next_slot",
    "no_worker_hint",
    "open_store",
    "parse_publish_time",
    "prune",
    "publish_due",
    "publish_video",
    "recover",
    "reject_job",
    "reject_video",
    "retry",
    "serving_workers",
    "session_ok",
    "start_session",
    "themes_folder",
    "video_file",
    "video_publications",
    "worker_host",
    "worker_log",
]
