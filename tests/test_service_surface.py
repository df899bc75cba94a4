"""vidgen.service is a package of private modules behind one surface: its __init__ exports
exactly the names the faces call, so moving code between its modules never changes a face (the
way httpx re-exports its _private modules), and a face never reaches past the surface."""

from __future__ import annotations

import re
from pathlib import Path

from vidgen import service

SOURCE = Path(__file__).resolve().parent.parent / "src" / "vidgen"
FACES = ["cli", "api", "web"]

CALLED_BY_FACES = {
    # jobs
    "generate", "generate_batch", "load_batch_file", "default_config", "job_status",
    "list_jobs", "job_detail", "job_changes", "job_logs", "retry", "cancel_job",
    "MAX_BATCH", "MAX_JOB_ID", "MAX_LIMIT", "MAX_OFFSET",
    # videos and publications
    "list_videos", "approve_video", "reject_video", "approve_job", "reject_job",
    "publish_video", "list_publications", "video_publications", "publish_due",
    "cancel_publication", "auth_begin", "auth_finish",
    # the dashboard's read models
    "job_cards", "job_page", "video_file", "VIDEO_MEDIA_TYPES",
    # upkeep and hosting
    "prune", "recover", "open_store", "themes_folder", "start_session", "session_ok",
    "end_session", "health", "serving_workers", "no_worker_hint", "worker_host", "follow_job",
    "worker_log", "flush_webhooks",
}  # fmt: skip
# Pure helpers the tests check on their own (publish times and slots).
TESTED_ON_THEIR_OWN = {"next_slot", "parse_publish_time"}


def _called_by_faces() -> set[str]:
    names: set[str] = set()
    for face in FACES:
        for path in (SOURCE / face).rglob("*.py"):
            names |= set(re.findall(r"\bservice\.([A-Za-z_]\w*)", path.read_text()))
    return names


def test_the_faces_call_exactly_these_names() -> None:
    assert _called_by_faces() == CALLED_BY_FACES


def test_the_service_exports_exactly_its_surface() -> None:
    surface = CALLED_BY_FACES | TESTED_ON_THEIR_OWN
    assert set(service.__all__) == surface
    assert all(callable(getattr(service, name)) or name.isupper() for name in surface)
