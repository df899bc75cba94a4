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
    videos,
)
from vidgen.service._publishing import (
    schedule_after_approval,
)
from vidgen.settings import Settings

if TYPE_CHECKING:
    from vidgen.schemas import VideoListResponse, VideoResponse


def list_videos(
    settings: Settings, status: str | None = None, limit: int = 20
) -> VideoListResponse:
    from vidgen import review_folders

    check_page(limit, 0)
    return review_folders.list_videos(get_store(settings), settings, status, limit)


def approve_video(settings: Settings, video_id: int) -> VideoResponse:
    from vidgen import review_folders

    approved = review_folders.approve_video(get_store(settings), settings, check_video_id(video_id))
    schedule_after_approval(settings, approved.id)  # a config's publish: section
    return approved


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
