"""The upload task: one publication's upload, run by a worker (never in a CLI call or a
request), under a lease like a job's.

``run_publication`` claims the publication (``store.publications.claim``: scheduled and due,
or uploading with an expired lease -- a worker killed mid-upload), hands the destination the
upload session recorded so far and records every new state it reports (before bytes are sent,
after each chunk) with the lease held, so the next worker resumes at the recorded offset and a
worker that lost the publication writes nothing. A heartbeat renews the lease while a chunk is
in flight. Retryable errors back off and retry up to ``VIDGEN_STAGE_ATTEMPTS`` times; auth,
quota and refused requests fail at once with their one line; a shutdown hands the publication
back (``release``) with its session. The end fires the webhook with the publication's body.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from vidgen.errors import FatalStageError, LeaseLost, NotFound, Refused, StageError, one_line
from vidgen.pipeline import webhook
from vidgen.pipeline.execute import SHUTDOWN
from vidgen.pipeline.heartbeat import runner_owner
from vidgen.pipeline.retries import backoff_delay
from vidgen.providers.destinations import get_destination
from vidgen.providers.publish import UploadRequest, UploadState
from vidgen.schemas import PublicationResponse
from vidgen.settings import Settings
from vidgen.store import STORE_ERRORS, Store, get_store, publications, videos
from vidgen.store.models import Publication, Video
from vidgen.store.publications import PubLease

log = logging.getLogger("vidgen.upload")


class _Stopping(Exception):
    """The worker is shutting down: hand the publication back between two chunks."""


def to_response(pub: Publication, video: Video | None) -> PublicationResponse:
    """The publication's body: ``vidgen publications --json``, its HTTP twin, the webhook."""
    assert pub.id is not None
    upload = pub.upload or {}
    offset, total = upload.get("offset"), upload.get("total")
    return PublicationResponse(
        id=pub.id,
        video_id=pub.video_id,
        job_id=video.job_id if video is not None else None,
        title=str(pub.request.get("title", video.title if video is not None else "")),
        destination=pub.destination,
        account=pub.account,
        status=pub.status,
        scheduled_at=pub.scheduled_at.isoformat(),
        created_at=pub.created_at.isoformat(),
        updated_at=pub.updated_at.isoformat(),
        started_at=pub.started_at.isoformat() if pub.started_at else None,
        finished_at=pub.finished_at.isoformat() if pub.finished_at else None,
        attempts=pub.attempts,
        remote_id=pub.remote_id,
        url=pub.url,
        privacy=pub.privacy,
        applied_privacy=pub.applied_privacy,
        uploaded_bytes=int(offset) if isinstance(offset, int) else None,
        total_bytes=int(total) if isinstance(total, int) else None,
        error_message=pub.error_message,
    )


def publication_body(store: Store, pub_id: int) -> PublicationResponse | None:
    pub = publications.get(store, pub_id)
    if pub is None:
        return None
    return to_response(pub, videos.get(store, pub.video_id))


class _Beat(threading.Thread):
    """Renews the publication's lease while a chunk or a status poll is in flight."""

    def __init__(self, store: Store, lease: PubLease, settings: Settings) -> None:
        super().__init__(name=f"vidgen-upload-beat-{lease.pub_id}", daemon=True)
        self.store, self.lease, self.settings = store, lease, settings
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(self.settings.heartbeat_seconds):
            try:
                if not publications.renew(self.store, self.lease, self.settings.lease_seconds):
                    return  # lost: the fenced writes refuse whatever comes next
            except STORE_ERRORS as exc:
                log.warning("publication %s: lease not renewed (%s)", self.lease.pub_id, exc)


def run_publication(
    settings: Settings, pub_id: int, *, sleep: Callable[[float], None] = time.sleep
) -> str | None:
    """Upload publication ``pub_id`` if it is due and free; its final status, or None when
    another worker holds it, it is not due, or it ended already."""
    store = get_store(settings)
    try:
        pub, lease = publications.claim(store, pub_id, runner_owner(), settings.lease_seconds)
    except (Refused, NotFound) as exc:
        log.info("publication %s not taken: %s", pub_id, one_line(exc))
        return None
    log.info("publication %s: uploading to %s (attempt %s)", pub_id, pub.destination, pub.attempts)
    state: UploadState = dict(pub.upload or {})

    def record(new: UploadState) -> None:
        nonlocal state
        state = dict(new)
        publications.record_upload(store, lease, state, settings.lease_seconds)
        if SHUTDOWN.is_set():
            raise _Stopping

    beat = _Beat(store, lease, settings)
    beat.start()
    try:
        ended = _attempts(settings, store, pub, lease, record, lambda: state, sleep)
    finally:
        beat.stop.set()
    if ended in ("published", "failed"):
        body = publication_body(store, pub_id)
        if body is not None:
            webhook.send_publication(settings, body)
    return ended


def _attempts(
    settings: Settings,
    store: Store,
    pub: Publication,
    lease: PubLease,
    record: Callable[[UploadState], None],
    current: Callable[[], UploadState],
    sleep: Callable[[float], None],
) -> str | None:
    assert pub.id is not None
    attempts = settings.stage_attempts
    for attempt in range(1, attempts + 1):
        try:
            request = UploadRequest.model_validate(pub.request)
            destination = get_destination(
                pub.destination,
                pub.account,
                settings.home,
                backoff=lambda n: backoff_delay(n, settings.backoff_base, settings.backoff_max),
            )
            result = destination.upload(request, current(), record)
        except LeaseLost:
            log.warning("publication %s: lease lost; another worker has it", pub.id)
            return None
        except _Stopping:
            publications.release(
                store, lease, "worker stopped; resumes from the session", current()
            )
            log.info("publication %s handed back at byte %s", pub.id, current().get("offset"))
            return "scheduled"
        except StageError as exc:
            if attempt == attempts:
                return _fail(
                    store, lease, pub.id, f"{one_line(exc)} (after {attempt} tries)", current()
                )
            delay = backoff_delay(attempt, settings.backoff_base, settings.backoff_max)
            log.warning("publication %s: %s; retrying in %.1f s", pub.id, one_line(exc), delay)
            sleep(delay)
            continue
        except (FatalStageError, OSError, ValueError) as exc:
            return _fail(store, lease, pub.id, one_line(exc), current())
        try:
            publications.publish(
                store,
                lease,
                result.remote_id,
                result.url,
                result.applied_privacy,
                current(),
                result.note,
            )
        except LeaseLost:
            return None
        log.info("publication %s published: %s", pub.id, result.url or result.remote_id)
        return "published"
    return None


def _fail(
    store: Store, lease: PubLease, pub_id: int, message: str, state: dict[str, Any]
) -> str | None:
    try:
        publications.fail(store, lease, message, state)
    except LeaseLost:
        return None
    log.warning("publication %s failed: %s", pub_id, message)
    return "failed"
