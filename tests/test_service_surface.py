"""vidgen.service is a package of private modules behind one surface: the names its __init__
exports are exactly those the faces call, so moving code between its modules never changes a
face (the way httpx re-exports its _private modules)."""

from __future__ import annotations

import re
from pathlib import Path

from vidgen import service

SOURCE = Path(__file__).resolve().parent.parent / "src" / "vidgen"
FACES = ["cli", "api", "web"]

SURFACE = {
    # limits and checks of raw values
    "MAX_BATCH", "MAX_JOB_ID", "MAX_LIMIT", "MAX_OFFSET", "MAX_PAGE_EVENTS",
    "MAX_PUBLICATION_ID", "PAID_PROVIDERS", "PUBLICATION_STATUS_NAMES", "SESSION_SECONDS",
    "STATUS_NAMES", "TRACEBACK_TAIL_LINES", "VIDEO_MEDIA_TYPES",
    "check_account", "check_daily_budget", "check_destination", "check_job_id",
    "check_media_files", "check_page", "check_stage", "check_stage_package", "check_status",
    "check_theme", "check_theme_covered", "check_utf8", "check_video_id",
    "confined_config_path", "paid_providers", "start_of_today",
    # jobs
    "generate", "generate_batch", "load_batch_file", "default_config", "job_status",
    "list_jobs", "job_detail", "job_changes", "job_logs", "to_status", "retry", "cancel_job",
    # videos and publications
    "list_videos", "approve_video", "reject_video", "approve_job", "reject_job",
    "video_id_of_job", "schedule_after_approval", "publish_video", "list_publications",
    "video_publications", "publish_due", "cancel_publication", "next_slot",
    "parse_publish_time", "auth_begin", "auth_finish",
    # the dashboard's read models
    "job_cards", "job_page", "video_file",
    # upkeep and hosting
    "prune", "recover", "sweep_dead_attempts", "open_store", "themes_folder",
    "start_session", "session_ok", "end_session", "health", "serving_workers",
    "no_worker_hint", "worker_host", "follow_job", "worker_log", "flush_webhooks",
}  # fmt: skip


def _called_by_faces() -> set[str]:
    names: set[str] = set()
    for face in FACES:
        for path in (SOURCE / face).rglob("*.py"):
            names |= set(re.findall(r"\bservice\.([A-Za-z_]\w*)", path.read_text()))
    return names


def test_the_service_exports_exactly_its_surface() -> None:
    assert set(service.__all__) == SURFACE
    missing = [name for name in SURFACE if not hasattr(service, name)]
    assert not missing


def test_every_name_a_face_calls_is_on_the_surface() -> None:
    called = _called_by_faces()
    assert called, "the faces call the service as service.<name>"
    assert called <= SURFACE, f"faces call names outside service.__all__: {called - SURFACE}"

