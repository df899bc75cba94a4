"""``Publication`` rows: the one module that writes them, ``publication.status`` included.

A publication is one approved video on one destination. Its moves, each one conditional UPDATE
(``... WHERE status IN (allowed sources)``) in its own transaction, so a move happens once or is
refused however many processes race for it:

- ``schedule``  (new) -> scheduled
- ``cancel``    scheduled -> cancelled (only before an upload started: nothing on a platform
  is deleted)
- ``claim``     scheduled (due) -> uploading, or uploading whose lease ran out -> uploading
  (a worker died mid-upload: the next one resumes the recorded session); takes a lease at the
  next epoch, like a job's claim
- ``publish``   uploading -> published (remote id, URL, the privacy the platform applied)
- ``fail``      uploading -> failed
- ``release``   uploading -> scheduled (a worker shutting down: the session is kept)

The uploading moves and ``record_upload`` (the upload session, before bytes are sent and after
each chunk) carry the ``PubLease`` their claim returned: a worker that lost its publication
(its lease expired and another worker took it over) changes nothing and gets ``LeaseLost``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, literal, or_, update
from sqlmodel import col, select

from vidgen.clock import utcnow
from vidgen.errors import LeaseLost, NotFound, Refused
from vidgen.statuses import PublicationStatus
from vidgen.store.engine import Store
from vidgen.store.models import Publication, UTCDateTime, Video, VideoStatus

# target status -> statuses a publication may move from
ALLOWED_MOVES: dict[PublicationStatus, frozenset[PublicationStatus]] = {
    # claim (uploading only when its lease expired)
    PublicationStatus.UPLOADING: frozenset(
        {PublicationStatus.SCHEDULED, PublicationStatus.UPLOADING}
    ),
    PublicationStatus.PUBLISHED: frozenset({PublicationStatus.UPLOADING}),
    PublicationStatus.FAILED: frozenset({PublicationStatus.UPLOADING}),
    PublicationStatus.SCHEDULED: frozenset({PublicationStatus.UPLOADING}),  # release
    PublicationStatus.CANCELLED: frozenset({PublicationStatus.SCHEDULED}),
}


@dataclass(frozen=True)
class PubLease:
    """The right to write for publication ``pub_id``: held while it is uploading under
    ``owner`` at ``epoch``."""

    pub_id: int
    owner: str
    epoch: int


def _held(lease: PubLease) -> Any:
    return and_(
        col(Publication.id) == lease.pub_id,
        col(Publication.status) == PublicationStatus.UPLOADING.value,
        col(Publication.lease_owner) == lease.owner,
        col(Publication.lease_epoch) == lease.epoch,
    )


def _move(
    store: Store,
    pub_id: int,
    target: PublicationStatus,
    *,
    where: Any = None,
    lease: PubLease | None = None,
    **values: Any,
) -> Publication:
    allowed = [status.value for status in ALLOWED_MOVES[target]]
    stmt = (
        update(Publication)
        .where(col(Publication.id) == pub_id, col(Publication.status).in_(allowed))
        .values(status=target.value, updated_at=utcnow(), **values)
    )
    if where is not None:
        stmt = stmt.where(where)
    if lease is not None:
        stmt = stmt.where(_held(lease))
    with store.write() as session:
        result = session.connection().execute(stmt)
        row = session.get(Publication, pub_id, populate_existing=True)
        if row is None:
            raise NotFound(f"publication {pub_id} not found")
        if result.rowcount != 1:
            if lease is not None:
                raise LeaseLost(
                    f"publication {pub_id} is no longer this worker's ({row.status}); "
                    "stopping without writing"
                )
            raise Refused(f"Cannot move publication {pub_id} from '{row.status}' to '{target}'")
        return row


def schedule(
    store: Store,
    video_id: int,
    destination: str,
    account: str,
    at: datetime,
    privacy: str | None,
    request: dict[str, Any],
) -> Publication:
    """A new scheduled publication of an approved video (Refused if the video is not approved,
    or already has a live publication on that destination and account: one video, one post)."""
    with store.write() as session:
        video = session.get(Video, video_id)
        if video is None:
            raise NotFound(f"video {video_id} not found")
        if video.status != VideoStatus.APPROVED.value:
            raise Refused(
                f"video {video_id} is {video.status}: only approved videos can be published "
                f"(vidgen approve {video.job_id} first)"
            )
        live = session.exec(
            select(Publication).where(
                Publication.video_id == video_id,
                Publication.destination == destination,
                Publication.account == account,
                col(Publication.status).in_(
                    [
                        PublicationStatus.SCHEDULED.value,
                        PublicationStatus.UPLOADING.value,
                        PublicationStatus.PUBLISHED.value,
                    ]
                ),
            )
        ).first()
        if live is not None:
            raise Refused(
                f"video {video_id} already has publication {live.id} on {destination} "
                f"({live.status}); cancel it first to schedule another"
            )
        row = Publication(
            video_id=video_id,
            destination=destination,
            account=account,
            scheduled_at=at,
            privacy=privacy,
            request=request,
        )
        session.add(row)
        session.flush()
        return row


def cancel(store: Store, pub_id: int) -> Publication:
    """scheduled -> cancelled; Refused (one line) once an upload started or it ended."""
    try:
        return _move(
            store,
            pub_id,
            PublicationStatus.CANCELLED,
            finished_at=utcnow(),
            error_message="cancelled",
        )
    except Refused:
        row = get(store, pub_id)
        status = row.status if row is not None else "unknown"
        raise Refused(
            f"Cannot cancel publication {pub_id}: it is {status}. Only 'scheduled' ones can be "
            "cancelled (nothing already on a platform is deleted)."
        ) from None


def claim(
    store: Store, pub_id: int, owner: str, lease_seconds: float, now: datetime | None = None
) -> tuple[Publication, PubLease]:
    """scheduled (due) -> uploading, or uploading with an expired lease -> uploading; counts
    an attempt. Refused if neither (not due, held by a live worker, ended)."""
    now = now or utcnow()
    due = or_(
        and_(
            col(Publication.status) == PublicationStatus.SCHEDULED.value,
            col(Publication.scheduled_at) <= now,
        ),
        and_(
            col(Publication.status) == PublicationStatus.UPLOADING.value,
            col(Publication.lease_expires_at) < now,
        ),
    )
    row = _move(
        store,
        pub_id,
        PublicationStatus.UPLOADING,
        where=due,
        lease_owner=owner,
        lease_expires_at=now + timedelta(seconds=lease_seconds),
        lease_epoch=func.coalesce(col(Publication.lease_epoch), 0) + 1,
        attempts=func.coalesce(col(Publication.attempts), 0) + 1,
        # Typed, so the time is stored as UTC on every database (not as the server's zone).
        started_at=func.coalesce(col(Publication.started_at), literal(now, UTCDateTime())),
        error_message=None,
    )
    return row, PubLease(pub_id, owner, row.lease_epoch)


def record_upload(
    store: Store, lease: PubLease, upload: dict[str, Any], lease_seconds: float
) -> None:
    """Record the upload session (and renew the lease) while ``lease`` is held; LeaseLost if
    not. Called before any byte is sent and after every chunk the platform confirmed."""
    with store.write() as session:
        result = session.connection().execute(
            update(Publication)
            .where(_held(lease))
            .values(
                upload=upload,
                updated_at=utcnow(),
                lease_expires_at=utcnow() + timedelta(seconds=lease_seconds),
            )
        )
        if result.rowcount != 1:
            raise LeaseLost(f"publication {lease.pub_id} is no longer this worker's")


def publish(
    store: Store,
    lease: PubLease,
    remote_id: str,
    url: str | None,
    applied_privacy: str | None,
    upload: dict[str, Any],
    note: str | None = None,
) -> Publication:
    """uploading -> published: the platform has the video (``note``: a later step it refused,
    kept as the error message)."""
    return _move(
        store,
        lease.pub_id,
        PublicationStatus.PUBLISHED,
        lease=lease,
        error_message=note,
        remote_id=remote_id,
        url=url,
        applied_privacy=applied_privacy,
        upload=upload,
        finished_at=utcnow(),
        lease_owner=None,
        lease_expires_at=None,
    )


def fail(store: Store, lease: PubLease, message: str, upload: dict[str, Any]) -> Publication:
    """uploading -> failed with ``message`` (one line saying what to do)."""
    return _move(
        store,
        lease.pub_id,
        PublicationStatus.FAILED,
        lease=lease,
        error_message=message,
        upload=upload,
        finished_at=utcnow(),
        lease_owner=None,
        lease_expires_at=None,
    )


def release(store: Store, lease: PubLease, message: str, upload: dict[str, Any]) -> Publication:
    """uploading -> scheduled (due now): a worker shutting down; the session is kept for the
    next one to resume."""
    return _move(
        store,
        lease.pub_id,
        PublicationStatus.SCHEDULED,
        lease=lease,
        error_message=message,
        upload=upload,
        scheduled_at=utcnow(),
        lease_owner=None,
        lease_expires_at=None,
    )


def get(store: Store, pub_id: int) -> Publication | None:
    with store.read() as session:
        return session.get(Publication, pub_id)


def newest(store: Store, status: str | None, limit: int) -> list[Publication]:
    query = select(Publication)
    if status is not None:
        query = query.where(Publication.status == status)
    query = query.order_by(col(Publication.id).desc()).limit(limit)
    with store.read() as session:
        return list(session.exec(query).all())


def for_videos(store: Store, video_ids: Iterable[int]) -> dict[int, list[Publication]]:
    ids = list(video_ids)
    if not ids:
        return {}
    with store.read() as session:
        rows = session.exec(
            select(Publication)
            .where(col(Publication.video_id).in_(ids))
            .order_by(col(Publication.id))
        ).all()
    found: dict[int, list[Publication]] = {}
    for row in rows:
        found.setdefault(row.video_id, []).append(row)
    return found


def due(store: Store, now: datetime) -> list[Publication]:
    """Publications a worker should take now, oldest first: scheduled for ``now`` or earlier,
    and uploading ones whose worker stopped renewing the lease (killed mid-upload)."""
    with store.read() as session:
        return list(
            session.exec(
                select(Publication)
                .where(
                    or_(
                        and_(
                            col(Publication.status) == PublicationStatus.SCHEDULED.value,
                            col(Publication.scheduled_at) <= now,
                        ),
                        and_(
                            col(Publication.status) == PublicationStatus.UPLOADING.value,
                            col(Publication.lease_expires_at) < now,
                        ),
                    )
                )
                .order_by(col(Publication.scheduled_at), col(Publication.id))
            ).all()
        )


def started_since(store: Store, destination: str, since: datetime) -> int:
    """Publications on ``destination`` whose upload started since ``since`` and did not fail
    or get cancelled: what ``publish.max_per_day`` counts."""
    with store.read() as session:
        return int(
            session.exec(
                select(func.count())
                .select_from(Publication)
                .where(
                    Publication.destination == destination,
                    col(Publication.started_at) >= since,
                    col(Publication.status).in_(
                        [PublicationStatus.UPLOADING.value, PublicationStatus.PUBLISHED.value]
                    ),
                )
            ).one()
        )


def renew(store: Store, lease: PubLease, lease_seconds: float) -> bool:
    """Extend the lease; False if it is no longer held. Not a status move."""
    with store.write() as session:
        result = session.connection().execute(
            update(Publication)
            .where(_held(lease))
            .values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))
        )
        return bool(result.rowcount == 1)
