"""``Video`` rows: the only module that writes them.

A video is filed for review by its job's review stage (``file_for_review``: one row per job,
reused by a retry) and then decided once: ``pending_review -> approved | rejected``
(``decide``, a conditional UPDATE, so two reviewers racing cannot both win). The three path
columns always change together, here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import update
from sqlmodel import col, select

from vidgen.errors import NotFound, Refused
from vidgen.store.engine import Store
from vidgen.store.models import Video, VideoStatus, utcnow

# target status -> statuses a video may move from
ALLOWED_MOVES: dict[VideoStatus, frozenset[VideoStatus]] = {
    VideoStatus.APPROVED: frozenset({VideoStatus.PENDING_REVIEW}),
    VideoStatus.REJECTED: frozenset({VideoStatus.PENDING_REVIEW}),
}


def get(store: Store, video_id: int) -> Video | None:
    with store.read() as session:
        return session.get(Video, video_id)


def for_job(store: Store, job_id: int) -> Video | None:
    with store.read() as session:
        return session.exec(select(Video).where(Video.job_id == job_id)).first()


def newest(store: Store, status: str | None, limit: int) -> list[Video]:
    """Videos newest first, optionally only those with ``status``."""
    query = select(Video)
    if status is not None:
        query = query.where(Video.status == status)
    query = query.order_by(col(Video.created_at).desc(), col(Video.id).desc()).limit(limit)
    with store.read() as session:
        return list(session.exec(query).all())


def paths(video: Video) -> tuple[Path, Path, Path]:
    """(video, thumbnail, generation log) of a stored video."""
    return Path(video.video_path), Path(video.thumbnail_path), Path(video.log_path)


def file_for_review(
    store: Store,
    job_id: int,
    *,
    plan_id: int | None,
    title: str,
    files: tuple[Path, Path, Path],
    duration_seconds: float,
    before_commit: Callable[[Video], None],
) -> tuple[Video, Video | None, list[Path]]:
    """Record the job's video as pending review at ``files`` (video, thumbnail, log).

    Returns (video, decided, stale): ``decided`` is the row when a reviewer already decided on
    the job's video (then nothing changes), ``stale`` the previous files this filing replaced.
    ``before_commit(video)`` runs inside the transaction with the row's id known (it writes the
    generation log): if it raises, no row points at files that are not there.
    """
    video_dest, thumb_dest, log_dest = files
    with store.write() as session:
        video = session.exec(select(Video).where(Video.job_id == job_id)).first()
        if video is not None and video.status != VideoStatus.PENDING_REVIEW.value:
            return video, video, []
        stale: list[Path] = []
        if video is None:
            video = Video(job_id=job_id, video_path="", thumbnail_path="", log_path="")
        else:
            # Same job, possibly a different title this time: the previous files go.
            stale = [
                Path(p)
                for p in (video.video_path, video.thumbnail_path, video.log_path)
                if p and Path(p) not in files
            ]
        video.plan_id = plan_id
        video.status = VideoStatus.PENDING_REVIEW.value
        video.title = title
        video.video_path = str(video_dest)
        video.thumbnail_path = str(thumb_dest)
        video.log_path = str(log_dest)
        video.duration_seconds = duration_seconds
        session.add(video)
        session.flush()
        before_commit(video)
        return video, None, stale


def decide(
    store: Store,
    video_id: int,
    target: VideoStatus,
    reason: str | None,
    move_files: Callable[[Video, datetime], tuple[Path, Path, Path]],
) -> Video:
    """Move a video to ``target`` (approved/rejected) once; Refused if already decided.

    ``move_files(video, now)`` moves its files and returns their new paths; it runs while this
    transaction holds the write lock (BEGIN IMMEDIATE on SQLite), and the status change itself
    is a conditional UPDATE on the allowed source statuses, so a second decision is refused.
    """
    allowed = [status.value for status in ALLOWED_MOVES[target]]
    with store.write() as session:
        video = session.get(Video, video_id)
        if video is None:
            raise NotFound(f"video {video_id} not found")

        def refused(status: str) -> Refused:
            return Refused(
                f"video {video_id} is already {status}; "
                "only videos pending review can be approved or rejected"
            )

        if video.status not in allowed:
            raise refused(video.status)
        now = utcnow()
        video_dest, thumb_dest, log_dest = move_files(video, now)
        result = session.execute(
            update(Video)
            .where(col(Video.id) == video_id, col(Video.status).in_(allowed))
            .values(
                status=target.value,
                reviewed_at=now,
                reason=reason,
                video_path=str(video_dest),
                thumbnail_path=str(thumb_dest),
                log_path=str(log_dest),
            )
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            current = session.get(Video, video_id, populate_existing=True)
            raise refused(current.status if current is not None else "gone")
        decided = session.get(Video, video_id, populate_existing=True)
        assert decided is not None
        return decided


def rejected_before(store: Store, before: datetime) -> list[Video]:
    """Videos rejected before ``before`` (retention deletes their files on request)."""
    with store.read() as session:
        return list(
            session.exec(
                select(Video).where(
                    Video.status == VideoStatus.REJECTED.value,
                    col(Video.reviewed_at) < before,
                )
            ).all()
        )
