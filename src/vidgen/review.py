"""The review library: finished videos waiting for a human, and the approve/reject decision.

A video lives in exactly one of three folders under ``settings.output_root`` -- ``review/``,
``approved/`` or ``rejected/`` -- as files sharing one name: ``job-<id>-<slug>.mp4``, the
``.jpg`` thumbnail, the ``.json`` generation log and the ``.srt`` captions. The ``Video`` row is
the source of truth for which folder that is; the log JSON carries the same decision so the
folder is self-describing.

The CLI and HTTP layers call these functions and render the pydantic models they return.
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from vidgen.errors import InvalidInput, NotFound, Refused
from vidgen.files import Moves, Swept, atomic_write_text, sweep_name
from vidgen.schemas import (
    MAX_PAGE_LIMIT,
    JobDetailResponse,
    JobEvent,
    PlanSummary,
    PublicationSummary,
    StageDetail,
    iso,
)
from vidgen.settings import Settings
from vidgen.store import Store, videos
from vidgen.store.models import Video
from vidgen.store.status import VideoStatus

FOLDERS: dict[str, str] = {
    VideoStatus.PENDING_REVIEW.value: "review",
    VideoStatus.APPROVED.value: "approved",
    VideoStatus.REJECTED.value: "rejected",
}
VIDEO_STATUSES: tuple[str, ...] = tuple(status.value for status in VideoStatus)
MAX_REASON_CHARS = 2000
SLUG_CHARS = 40


class VideoResponse(BaseModel):
    id: int
    job_id: int
    status: str
    title: str
    video_path: str
    thumbnail_path: str
    log_path: str
    duration_seconds: float
    created_at: str
    reviewed_at: str | None
    reason: str | None
    # Where an approved video went, oldest first (the service fills it; see vidgen publications).
    publications: list[PublicationSummary] = Field(default_factory=list)


class VideoListResponse(BaseModel):
    count: int
    videos: list[VideoResponse]


class JobPageResponse(BaseModel):
    """Everything the dashboard's job page shows: stages, plan, video and its captions."""

    job: JobDetailResponse
    attempts: list[StageDetail]
    events: list[JobEvent]
    plan: PlanSummary | None
    video: VideoResponse | None
    captions_path: str | None


def folder(settings: Settings, status: str) -> Path:
    """The folder that holds videos with ``status``."""
    return settings.output_root / FOLDERS[status]


def slugify(text: str, max_chars: int = SLUG_CHARS) -> str:
    """A file-name-safe ASCII slug: ``"FocusFlow: Warm light!"`` -> ``"focusflow-warm-light"``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > max_chars:
        slug = slug[:max_chars].rsplit("-", 1)[0] or slug[:max_chars]
    return slug or "video"


def base_name(job_id: int, title: str) -> str:
    return f"job-{job_id}-{slugify(title)}"


def subtitles_of(video_path: Path) -> Path:
    """The ``.srt`` captions published beside a video, under the same base name."""
    return video_path.with_suffix(".srt")


def to_response(video: Video) -> VideoResponse:
    assert video.id is not None, "only stored videos have a response"
    return VideoResponse(
        id=video.id,
        job_id=video.job_id,
        status=video.status,
        title=video.title,
        video_path=video.video_path,
        thumbnail_path=video.thumbnail_path,
        log_path=video.log_path,
        duration_seconds=video.duration_seconds,
        created_at=video.created_at.isoformat(),
        reviewed_at=iso(video.reviewed_at),
        reason=video.reason,
    )


def list_videos(
    store: Store, settings: Settings, status: str | None = None, limit: int = 20
) -> VideoListResponse:
    """Videos newest first, optionally only those with ``status``."""
    if status is not None and status not in VIDEO_STATUSES:
        raise InvalidInput(
            f"unknown video status {status!r}; use one of: {', '.join(VIDEO_STATUSES)}"
        )
    if not 1 <= limit <= MAX_PAGE_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE_LIMIT} (got {limit})")
    found = [to_response(video) for video in videos.newest(store, status, limit)]
    return VideoListResponse(count=len(found), videos=found)


def get_video(store: Store, video_id: int) -> VideoResponse:
    video = videos.get(store, video_id)
    if video is None:
        raise NotFound(f"video {video_id} not found")
    return to_response(video)


def read_log(path: Path) -> dict[str, Any]:
    """The generation log as a dict; Refused (naming the file) if it is not a JSON object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Refused(f"cannot read the generation log {path} ({exc}); restore the file") from None
    if not isinstance(data, dict):
        raise Refused(f"the generation log {path} is not a JSON object; restore the file")
    return data


def log_text(log: dict[str, Any]) -> str:
    return json.dumps(log, indent=2, ensure_ascii=False, default=str) + "\n"


def write_log(path: Path, log: dict[str, Any]) -> None:
    atomic_write_text(path, log_text(log))


def sweep_leftovers(
    store: Store, settings: Settings, job_id: int, *, dry_run: bool = False
) -> Swept:
    """Remove what an unfinished publication of ``job_id`` left in the review folder.

    A process killed while publishing leaves a staging folder, a temporary name, or files
    renamed into place before their ``Video`` row was committed. Only names this store
    recorded for the job before publishing (``videos.own_name``) are looked at -- a second
    home sharing the output folder, or a store started afresh, has its own -- and of those
    everything is removed except the files of the publication the job's row records (all
    files sharing that base name: video, thumbnail, log, subtitles). A name whose generation
    log says another store published it is left alone. Called when the job is claimed and,
    for jobs that are not running, by ``recover``.
    """
    video = videos.for_job(store, job_id)
    keep: set[Path] = set()
    if video is not None and video.video_path:
        stem = Path(video.video_path).stem
        here = Path(video.video_path).parent
        if here.exists():
            keep = {p for p in here.iterdir() if p.name.startswith(f"{stem}.")}
    swept = Swept()
    for where, base in videos.owned_names(store, job_id):
        if published_by_another_store(where / f"{base}.json", store.identity):
            continue
        swept.add(sweep_name(where, base, keep, dry_run=dry_run))
    return swept


def published_by_another_store(log_path: Path, identity: str) -> bool:
    """True if the generation log at ``log_path`` names a store other than ``identity``."""
    try:
        data = json.loads(log_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    owner = data.get("store_id") if isinstance(data, dict) else None
    return isinstance(owner, str) and owner != identity


def approve_video(store: Store, settings: Settings, video_id: int) -> VideoResponse:
    """Move a pending video's files to ``approved/`` and record the decision."""
    return _decide(store, settings, video_id, VideoStatus.APPROVED, None)


def reject_video(store: Store, settings: Settings, video_id: int, reason: str) -> VideoResponse:
    """Move a pending video's files to ``rejected/`` and record why (``reason`` may be empty)."""
    reason = reason.strip()
    if len(reason) > MAX_REASON_CHARS:
        raise InvalidInput(
            f"rejection reason is {len(reason)} characters; keep it under {MAX_REASON_CHARS}"
        )
    return _decide(store, settings, video_id, VideoStatus.REJECTED, reason or None)


def _decide(
    store: Store, settings: Settings, video_id: int, status: VideoStatus, reason: str | None
) -> VideoResponse:
    # videos.decide holds the write lock while the files move and changes the status with a
    # conditional UPDATE: a second reviewer deciding the same video is refused, files untouched.
    def move_files(video: Video, now: datetime) -> tuple[tuple[Path, Path, Path], Moves]:
        dest_dir = folder(settings, status.value)
        moves: list[tuple[str, Path, Path]] = []
        kinds = ("video", "thumbnail", "generation log")
        for kind, src in zip(kinds, videos.paths(video), strict=True):
            dest = dest_dir / src.name
            # A file already at its destination means an earlier decision was interrupted after
            # moving it (by a vidgen before decisions were all-or-nothing); finishing the move
            # is the only way out, so that is not an error.
            if not src.is_file() and not dest.is_file():
                raise Refused(
                    f"video {video_id}: the {kind} file {src} is missing; "
                    "restore it before deciding"
                )
            moves.append((kind, src, dest))
        log_src = moves[2][1] if moves[2][1].is_file() else moves[2][2]
        log = read_log(log_src)
        # The captions travel with the video; videos made before captions existed have none.
        srt_src = subtitles_of(moves[0][1])
        srt_dest = dest_dir / srt_src.name
        if srt_src.is_file() or srt_dest.is_file():
            moves.append(("subtitles", srt_src, srt_dest))
        video_dest, thumb_dest, log_dest = (dest for _kind, _src, dest in moves[:3])
        log["review"] = {"status": status.value, "reviewed_at": now.isoformat(), "reason": reason}
        old_paths = log.get("paths")
        log["paths"] = {
            **(old_paths if isinstance(old_paths, dict) else {}),
            "video": str(video_dest),
            "thumbnail": str(thumb_dest),
            "log": str(log_dest),
            **({"subtitles": str(moves[3][2])} if len(moves) > 3 else {}),
        }

        # All or nothing: every file renamed (copied, fsynced and renamed across filesystems),
        # then the new log written; any failure (a read-only folder, a full disk) puts every
        # file back, and the row is recorded only after all of it (store.videos.decide).
        done = Moves()
        try:
            dest_dir.mkdir(parents=True, exist_ok=True)
            for _kind, src, dest in moves:
                if src.is_file():
                    done.move(src, dest)
            done.write(log_dest, log_text(log))
        except OSError as exc:
            done.undo()
            why = exc.strerror or str(exc)
            where = exc.filename or dest_dir
            raise Refused(
                f"video {video_id} cannot be {status.value}: moving its files to {dest_dir} "
                f"failed ({why}: {where}); nothing was changed -- free space or fix the "
                "folder's permissions and decide again"
            ) from None
        return (video_dest, thumb_dest, log_dest), done

    return to_response(videos.decide(store, video_id, status, reason, move_files))
