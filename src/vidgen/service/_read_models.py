"""The dashboard's read models: what one screen shows (job cards, a job's page) and the files
vidgen published for a video, looked up by its id (a request never names a path).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidgen.errors import InvalidInput, NotFound
from vidgen.schemas import (
    JobCard,
    JobCardListResponse,
    JobEvent,
    PlanScene,
    PlanSummary,
    StageDetail,
    VideoFileResponse,
    iso,
)
from vidgen.service._checks import (
    check_page,
    check_status,
    check_video_id,
)
from vidgen.service._handles import (
    checkpoints,
    events,
    get_store,
    jobs,
    report,
    trends,
    videos,
)
from vidgen.service._job_reads import (
    _completed_by_job,
    job_detail,
    to_status,
)
from vidgen.service._reviewing import _with_publications
from vidgen.settings import Settings

if TYPE_CHECKING:
    from vidgen.schemas import JobPageResponse


MAX_PAGE_EVENTS = 300  # the job page shows the latest runner events, not a whole history


VIDEO_MEDIA_TYPES: dict[str, tuple[str, str]] = {
    # kind -> (suffix beside the video, media type)
    "video": (".mp4", "video/mp4"),
    "thumbnail": (".jpg", "image/jpeg"),
    "captions": (".srt", "application/x-subrip"),
}


def job_cards(
    settings: Settings, status: str | None = None, limit: int = 20, offset: int = 0
) -> JobCardListResponse:
    """The jobs list with what the dashboard shows beside each status: cost, title, video."""
    check_status(status)
    check_page(limit, offset)
    store = get_store(settings)
    found = [job for job in jobs.newest(store, status, limit, offset) if job.id is not None]
    ids = [job.id for job in found if job.id is not None]
    by_job = videos.for_jobs(store, ids)
    titles = trends.plan_titles(store, ids)
    costs = checkpoints.total_costs(store, ids)
    completed = _completed_by_job(store, ids)
    published = report.publications_by_job(store, ids)
    cards = []
    for job in found:
        assert job.id is not None
        video = by_job.get(job.id)
        cards.append(
            JobCard(
                **to_status(job, completed[job.id], published.get(job.id, [])).model_dump(),
                total_cost=round(costs.get(job.id, 0.0), 6),
                title=video.title if video else titles.get(job.id),
                video_id=video.id if video else None,
                video_status=video.status if video else None,
            )
        )
    return JobCardListResponse(count=len(cards), total=jobs.count(store, status), jobs=cards)


def _plan_summary(raw: dict[str, Any], title: str, script: str) -> PlanSummary:
    scenes: list[PlanScene] = []
    for item in raw.get("scenes") or []:
        if isinstance(item, dict):
            scenes.append(
                PlanScene(
                    index=int(item.get("index", len(scenes))),
                    duration_seconds=float(item.get("duration_seconds", 0.0)),
                    on_screen_text=str(item.get("on_screen_text", "")),
                    narration=str(item.get("narration", "")),
                )
            )
    hashtags = raw.get("hashtags")
    style = raw.get("style")
    return PlanSummary(
        title=title,
        description=str(raw.get("description", "")),
        hashtags=[str(tag) for tag in hashtags] if isinstance(hashtags, list) else [],
        style=str(style) if style else None,
        voiceover_script=script or str(raw.get("voiceover_script", "")),
        scenes=scenes,
    )


def job_page(settings: Settings, job_id: int) -> JobPageResponse:
    """A job's stages (every attempt), the plan it wrote, its video and the captions file."""
    from vidgen.review_folders import subtitles_of, to_response
    from vidgen.schemas import JobPageResponse

    detail = job_detail(settings, job_id)
    store = get_store(settings)
    attempts = [
        StageDetail(
            stage=cp.stage,
            state=cp.status,
            attempt=cp.attempt,
            started_at=iso(cp.started_at),
            finished_at=iso(cp.finished_at),
            duration_seconds=cp.duration_seconds,
            cost=cp.cost,
            error=cp.error,
        )
        for cp in checkpoints.for_job(store, job_id)
    ]
    recent = events.events_for_job(store, job_id)[-MAX_PAGE_EVENTS:]
    plan_row = trends.plan_for_job(store, job_id)
    plan = (
        _plan_summary(plan_row.plan, plan_row.title, plan_row.voiceover_script)
        if plan_row is not None
        else None
    )
    video = videos.for_job(store, job_id)
    captions = subtitles_of(Path(video.video_path)) if video is not None else None
    return JobPageResponse(
        job=detail,
        attempts=attempts,
        events=[
            JobEvent(
                id=event.id or 0,
                at=event.at.isoformat(),
                kind=event.kind,
                stage=event.stage,
                attempt=event.attempt,
                message=event.message,
                data=event.data,
            )
            for event in recent
        ],
        plan=plan,
        video=_with_publications(store, [to_response(video)])[0] if video is not None else None,
        captions_path=str(captions) if captions is not None and captions.is_file() else None,
    )


def video_file(settings: Settings, video_id: int, kind: str) -> VideoFileResponse:
    """The path of a file vidgen published for ``video_id``: looked up in the store, and only
    ever inside the output folder, so no caller can name a path of its own."""
    from vidgen.review_folders import get_video, subtitles_of

    if kind not in VIDEO_MEDIA_TYPES:
        raise InvalidInput(f"unknown file kind {kind!r}: use one of {', '.join(VIDEO_MEDIA_TYPES)}")
    video = get_video(get_store(settings), check_video_id(video_id))
    _suffix, media_type = VIDEO_MEDIA_TYPES[kind]
    recorded = {"video": video.video_path, "thumbnail": video.thumbnail_path}.get(kind)
    path = Path(recorded) if recorded else subtitles_of(Path(video.video_path))  # captions
    try:
        resolved = path.resolve()
        inside = resolved.is_relative_to(settings.output_root.resolve())
    except (OSError, RuntimeError):
        inside = False
    if not inside or not resolved.is_file():
        raise NotFound(f"video {video_id} has no {kind} file")
    return VideoFileResponse(
        video_id=video_id,
        kind=kind,
        path=str(resolved),
        media_type=media_type,
        size_bytes=resolved.stat().st_size,
    )
