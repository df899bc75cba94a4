"""``Video`` rows: the only module that writes them.

A video is filed for review by its job's review stage (``file_for_review``: one row per job,
reused by a retry, written only while the runner holds its lease) and then decided once:
``pending_review -> approved | rejected`` (``decide``: the row is claimed with a conditional
UPDATE before any file moves, so of two reviewers racing -- on SQLite or PostgreSQL -- exactly
one wins and the other is refused with its files untouched). The three path columns always
change together, here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from sqlalchemy import update
from sqlmodel import col, select

from vidgen.clock import utcnow
from vidgen.errors import NotFound, Refused
from vidgen.files import Moves
from vidgen.store.engine import Store
from vidgen.store.leases import Lease, hold
from vidgen.store.models import Job, JobStatus, OwnedName, Video, VideoStatus

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
    lease: Lease,
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
    generation log): if it raises, no row points at files that are not there. The whole filing
    holds ``lease``: a runner that lost its job gets ``LeaseLost`` and files nothing.
    """
    job_id = lease.job_id
    video_dest, thumb_dest, log_dest = files
    with store.write() as session:
        hold(session, lease)
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


def own_name(store: Store, lease: Lease, folder: Path, base: str) -> None:
    """Record, before any of them appears, that this store files the job's files as
    ``folder/base.*`` (and stages them in ``folder/.publish-base-*``): the sweeps delete only
    names recorded here, so files of another store sharing the folder are never touched."""
    with store.write() as session:
        hold(session, lease)
        found = session.exec(
            select(OwnedName.id).where(
                OwnedName.job_id == lease.job_id,
                OwnedName.folder == str(folder),
                OwnedName.base == base,
            )
        ).first()
        if found is None:
            session.add(OwnedName(job_id=lease.job_id, folder=str(folder), base=base))


def owned_names(store: Store, job_id: int) -> list[tuple[Path, str]]:
    """(folder, base) of every name this store recorded for the job's publications."""
    with store.read() as session:
        rows = session.exec(
            select(OwnedName.folder, OwnedName.base)
            .where(OwnedName.job_id == job_id)
            .order_by(col(OwnedName.id))
        ).all()
    return [(Path(folder), base) for folder, base in rows]


def owns_name(store: Store, job_id: int, folder: Path, base: str) -> bool:
    return (folder, base) in owned_names(store, job_id)


def withdraw(
    store: Store,
    job_id: int,
    video_id: int,
    files: tuple[Path, Path, Path],
    remove: Callable[[], None],
) -> bool:
    """Take back the filing a runner made just before it lost its job: delete the job's video
    row if it is still pending review at ``files`` and the job is not running (another run now
    owns the publication), and ``remove()`` the files, while holding the write lock (and the job
    row, on PostgreSQL) so no new run claims the job in between. True if it was withdrawn."""
    with store.write() as session:
        status = session.exec(
            select(Job.status).where(col(Job.id) == job_id).with_for_update()
        ).first()
        if status == JobStatus.RUNNING.value:
            return False
        video = session.get(Video, video_id)
        if (
            video is None
            or video.job_id != job_id
            or video.status != VideoStatus.PENDING_REVIEW.value
            or paths(video) != files
        ):
            return False  # decided by a reviewer meanwhile, or already replaced: it stands
        session.delete(video)
        session.flush()
        remove()
        return True


def decide(
    store: Store,
    video_id: int,
    target: VideoStatus,
    reason: str | None,
    move_files: Callable[[Video, datetime], tuple[tuple[Path, Path, Path], Moves]],
) -> Video:
    """Move a video to ``target`` (approved/rejected) once; Refused if already decided.

    The row is claimed first -- a conditional UPDATE ``pending_review -> target`` -- and only
    the winner's ``move_files(video, now)`` runs (it moves the files and returns their new
    paths with its ``Moves``), in the same transaction. On PostgreSQL a second decision's
    UPDATE waits on the row lock of the first and then matches nothing; on SQLite BEGIN
    IMMEDIATE serialises them: either way the loser is refused before touching a file.
    All-or-nothing: if moving fails (``move_files`` undoes its own moves) or the row cannot be
    recorded (the moves are undone here), the transaction rolls back and files and row stay as
    they were; only once the row is committed are the moves finished.
    """
    allowed = [status.value for status in ALLOWED_MOVES[target]]
    moved: list[Moves] = []
    try:
        with store.write() as session:

            def refused(status: str) -> Refused:
                return Refused(
                    f"video {video_id} is already {status}; "
                    "only videos pending review can be approved or rejected"
                )

            now = utcnow()
            result = session.execute(
                update(Video)
                .where(col(Video.id) == video_id, col(Video.status).in_(allowed))
                .values(status=target.value, reviewed_at=now, reason=reason)
            )
            video = session.get(Video, video_id, populate_existing=True)
            if video is None:
                raise NotFound(f"video {video_id} not found")
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise refused(video.status)
            # Claimed: ours alone. ``video`` carries the paths it had while pending review.
            (video_dest, thumb_dest, log_dest), moves = move_files(video, now)
            moved.append(moves)
            session.execute(
                update(Video)
                .where(col(Video.id) == video_id)
                .values(
                    video_path=str(video_dest),
                    thumbnail_path=str(thumb_dest),
                    log_path=str(log_dest),
                )
            )
            decided = session.get(Video, video_id, populate_existing=True)
            assert decided is not None
    except BaseException:
        for moves in moved:
            moves.undo()
        raise
    for moves in moved:
        moves.finish(video_dest.parent)
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


def for_jobs(store: Store, job_ids: Iterable[int]) -> dict[int, Video]:
    """The video of each of ``job_ids`` that has one."""
    ids = list(job_ids)
    if not ids:
        return {}
    with store.read() as session:
        rows = session.exec(select(Video).where(col(Video.job_id).in_(ids))).all()
    return {video.job_id: video for video in rows}
