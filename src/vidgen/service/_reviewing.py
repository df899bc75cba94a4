"""Reviewing videos: list, approve (then schedule a config's ``publish:`` section) and reject,
by video id or by the id of the job that made it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vidgen.errors import InvalidInput, NotFound
from vidgen.service._checks import (
    _get_job,
    check_job_id,
    check_page,
    check_video_id,
)
from vidgen.service._handles import (
    get_store,
    report,
    videos,
)
from vidgen.service._publishing import (
    schedule_after_approval,
)
from vidgen.settings import Settings

if TYPE_CHECKING:
    from vidgen.schemas import VideoListResponse, VideoResponse
    from vidgen.store import Store


def list_videos(
    settings: Settings, status: str | None = None, limit: int = 20
) -> VideoListResponse:
    from vidgen import review_folders

    check_page(limit, 0)
    store = get_store(settings)
    found = review_folders.list_videos(store, settings, status, limit)
    return found.model_copy(update={"videos": _with_publications(store, found.videos)})


def _with_publications(store: Store, found: list[VideoResponse]) -> list[VideoResponse]:
    """``found`` with each video's publications (``vidgen videos``, ``approve``, the job page)."""
    from vidgen.store import publications

    by_video = publications.for_videos(store, [video.id for video in found])
    return [
        video.model_copy(
            update={"publications": [report.to_summary(p) for p in by_video.get(video.id, [])]}
        )
        for video in found
    ]


def approve_video(settings: Settings, video_id: int) -> VideoResponse:
    from vidgen import review_folders

    store = get_store(settings)
    approved = review_folders.approve_video(store, settings, check_video_id(video_id))
    schedule_after_approval(settings, approved.id)  # a config's publish: section
    return _with_publications(store, [approved])[0]  # ... and what it scheduled


def reject_video(settings: Settings, video_id: int, reason: str) -> VideoResponse:
    from vidgen import review_folders

    if not reason.strip():
        raise InvalidInput("a rejection needs a reason: say what is wrong with the video")
    return review_folders.reject_video(
        get_store(settings), settings, check_video_id(video_id), reason
    )


def video_id_of_job(settings: Settings, job_id: int) -> int:
    """The id of the video job ``job_id`` made: ``approve``/``reject`` take the job id a user
    sees everywhere (generate, status, file names, the dashboard URL)."""
    store = get_store(settings)
    job = _get_job(store, check_job_id(job_id))
    video = videos.for_job(store, job_id)
    if video is None or video.id is None:
        raise NotFound(
            f"Job {job_id} has no video to review (it is {job.status}); "
            "'vidgen videos' lists the videos waiting for review"
        )
    return video.id


def approve_job(settings: Settings, job_id: int) -> VideoResponse:
    """Approve the video of job ``job_id``."""
    return approve_video(settings, video_id_of_job(settings, job_id))


def reject_job(settings: Settings, job_id: int, reason: str) -> VideoResponse:
    """Reject the video of job ``job_id``."""
    if not reason.strip():
        raise InvalidInput("a rejection needs a reason: say what is wrong with the video")
    return reject_video(settings, video_id_of_job(settings, job_id), reason)
