"""Publishing approved videos to YouTube / TikTok: schedule, list, queue the due uploads, cancel
(uploads run in workers), and ``vidgen auth`` (OAuth, loopback or pasted redirect).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidgen.errors import InvalidInput, NotFound, Refused, VidgenError
from vidgen.schemas import (
    PublicationListResponse,
    PublicationResponse,
    PublishDueResponse,
)
from vidgen.service._checks import (
    MAX_JOB_ID,
    check_page,
    check_video_id,
)
from vidgen.service._handles import (
    get_store,
    jobs,
    videos,
)
from vidgen.service._intake import (
    default_config,
    start_of_today,
)
from vidgen.settings import Settings

if TYPE_CHECKING:
    from http.server import HTTPServer

    from vidgen.config import ThemeConfig
    from vidgen.providers.oauth import Authorization
    from vidgen.providers.publish import UploadRequest
    from vidgen.store import Store
    from vidgen.store.models import Publication, Video


log = logging.getLogger("vidgen.service")


MAX_PUBLICATION_ID = MAX_JOB_ID


def _seconds(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def _zone(name: str) -> tzinfo:
    """``publish.timezone`` (UTC needs no time zone database)."""
    if name == "UTC":
        return UTC
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


PUBLICATION_STATUS_NAMES = ("scheduled", "uploading", "published", "failed", "cancelled")


def check_destination(name: str) -> str:
    from vidgen.registry import DESTINATIONS

    if name not in DESTINATIONS:
        raise InvalidInput(f"unknown destination {name!r}: use one of {', '.join(DESTINATIONS)}")
    return name


def check_account(account: str | None) -> str:
    import re

    if account is None:
        return "default"
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", account):
        raise InvalidInput(
            f"account {account!r} is not a name: use 1-40 letters, digits, '.', '_' or '-'"
        )
    return account


def parse_publish_time(raw: str | None, zone: str, now: datetime | None = None) -> datetime:
    """``--at``: ISO-8601 with an offset, or a local time in ``zone``; now when absent.
    A time in the past (more than a minute ago) is refused."""
    now = now or datetime.now(UTC)
    if raw is None or not raw.strip():
        return now
    text = raw.strip().replace(" ", "T", 1)
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"--at {raw!r} is not a time: use ISO-8601 such as 2026-12-24T18:00+01:00, or "
            "2026-12-24T18:00 for the local time in publish.timezone"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_zone(zone))
    when = when.astimezone(UTC)
    if when < now - _seconds(60):
        raise InvalidInput(
            f"--at {raw!r} is in the past ({when.isoformat()}); give a future time or leave "
            "--at out to publish now"
        )
    return max(when, now)


def _publish_config(settings: Settings, job_config: str | None) -> tuple[ThemeConfig | None, str]:
    """The job's config with the ``publish:`` section to use, and the file to name in a
    message. The job's own config first; when it has no ``publish:`` (a job generated before
    the section was added), the default config's: where to publish is a channel setting, not
    part of what a job rendered."""
    from vidgen.config import load_config

    default = default_config(settings)
    found: ThemeConfig | None = None
    for where in (job_config, str(default)):
        if where is None:
            continue
        try:
            cfg = load_config(Path(where))
        except InvalidInput:
            if where == job_config:
                raise
            continue
        if found is None:
            found = cfg
        if cfg.publish is not None:
            return found.model_copy(update={"publish": cfg.publish}), where
    return found, job_config or str(default)


def _publish_settings(settings: Settings, store: Store, video_id: int) -> tuple[Video, ThemeConfig]:
    """(video, its config with the publish: section) or Refused saying what to fix."""
    from vidgen.statuses import VideoStatus

    video = videos.get(store, check_video_id(video_id))
    if video is None:
        raise NotFound(f"video {video_id} not found")
    if video.status != VideoStatus.APPROVED.value:
        raise Refused(
            f"video {video_id} is {video.status}: only approved videos can be published "
            f"(vidgen approve {video.job_id} first)"
        )
    job = jobs.get(store, video.job_id)
    cfg, where = _publish_config(settings, job.config_path if job is not None else None)
    if cfg is None or cfg.publish is None or cfg.publish.made_for_kids is None:
        raise Refused(
            f"{where}: publish.made_for_kids is not set: add 'publish: {{made_for_kids: false}}' "
            "(or true) -- the platforms require the answer and vidgen never guesses it"
        )
    return video, cfg


def _upload_request(
    video: Video, cfg: ThemeConfig, destination: str, at: datetime
) -> UploadRequest:
    """What vidgen sends for ``video``: the plan's title and description (with the credits
    the assets need), the config's description and hashtags, privacy, made-for-kids."""
    from vidgen.providers.publish import UploadRequest
    from vidgen.review_folders import read_log, subtitles_of

    publish = cfg.publish
    assert publish is not None and publish.made_for_kids is not None
    try:
        log_data = read_log(Path(video.log_path))
    except Refused:
        log_data = {}
    raw_plan = log_data.get("plan")
    plan: dict[str, Any] = raw_plan if isinstance(raw_plan, dict) else {}
    description = str(log_data.get("description") or plan.get("description") or "")
    hashtags = [str(t) for t in plan.get("hashtags") or []] + list(publish.hashtags)
    tags = list(dict.fromkeys(t.lstrip("#") for t in hashtags if t.strip("#")))
    missing = [t for t in tags if f"#{t}".lower() not in description.lower()]
    extra = " ".join(f"#{t}" for t in missing)
    parts = [description.strip(), publish.description.strip(), extra]
    captions = subtitles_of(Path(video.video_path))
    publish_at = None
    if destination == "youtube" and at > datetime.now(UTC) + _seconds(120):
        publish_at = at.isoformat().replace("+00:00", "Z")

    # YouTube refuses '<' and '>' in titles and descriptions (invalidTitle/invalidDescription).
    def clean(text: str) -> str:
        return text.replace("<", "(").replace(">", ")")

    return UploadRequest(
        title=clean(video.title or plan.get("title") or "video")[:100],
        description=clean("\n\n".join(p for p in parts if p))[:5000],
        tags=tags[:30],
        privacy=publish.privacy,
        made_for_kids=publish.made_for_kids,
        category=publish.category,
        language=cfg.config.language,
        publish_at=publish_at,
        tiktok_mode=publish.tiktok_mode,
        video_path=video.video_path,
        thumbnail_path=video.thumbnail_path or None,
        captions_path=str(captions) if captions.is_file() else None,
    )


def _schedule(
    settings: Settings,
    store: Store,
    video: Video,
    cfg: ThemeConfig,
    destination: str,
    account: str,
    at: datetime,
) -> Publication:
    from vidgen.store import publications

    request = _upload_request(video, cfg, destination, at)
    assert cfg.publish is not None and video.id is not None
    # YouTube holds a scheduled release itself (private until publishAt): upload now, so a
    # worker that is down at the release time cannot make it late. TikTok has no such field:
    # its publication waits here until it is due.
    upload_at = datetime.now(UTC) if request.publish_at is not None else at
    body = request.model_dump(mode="json") | {"max_per_day": cfg.publish.max_per_day}
    return publications.schedule(
        store, video.id, destination, account, upload_at, request.privacy, body
    )


def _publication_response(store: Store, pub: Publication) -> PublicationResponse:
    from vidgen.pipeline.upload import to_response

    return to_response(pub, videos.get(store, pub.video_id))


def publish_video(
    settings: Settings,
    video_id: int,
    to: str,
    at: str | None = None,
    account: str | None = None,
) -> PublicationResponse:
    """``vidgen publish VIDEO --to DEST`` / ``POST /api/videos/{id}/publish``: schedule one
    publication, and queue its upload for the workers when it is due now."""
    from vidgen.providers.oauth import CLIENTS, TokenStore
    from vidgen.providers.publish import credentials_dir

    destination = check_destination(to)
    name = check_account(account)
    store = get_store(settings)
    video, cfg = _publish_settings(settings, store, video_id)
    assert cfg.publish is not None  # _publish_settings refused a config without one
    when = parse_publish_time(at, cfg.publish.timezone)
    tokens = TokenStore(CLIENTS[destination], name, credentials_dir(settings.home))
    if not tokens.exists():
        raise Refused(tokens.missing_message())
    pub = _schedule(settings, store, video, cfg, destination, name, when)
    assert pub.id is not None
    if pub.scheduled_at <= datetime.now(UTC):
        _queue_publications(settings, [pub.id])
    return _publication_response(store, pub)


def _queue_publications(settings: Settings, ids: list[int]) -> list[int]:
    from vidgen.errors import QueueUnavailable
    from vidgen.pipeline.queue import enqueue_publication

    queued: list[int] = []
    for pub_id in ids:
        try:
            enqueue_publication(settings, pub_id)
        except QueueUnavailable as exc:
            # Still scheduled and due: the next 'publish --due' queues it again.
            log.warning("publication %s not queued: %s", pub_id, exc)
            continue
        queued.append(pub_id)
    return queued


def schedule_after_approval(settings: Settings, video_id: int) -> list[int]:
    """``approve`` with a ``publish:`` section: one publication per destination at the next
    of ``publish.times``. Never undoes the approval: a problem is logged and the video stays
    approved, to be published by hand."""
    from vidgen.statuses import VideoStatus

    store = get_store(settings)
    video = videos.get(store, video_id)
    job = jobs.get(store, video.job_id) if video is not None else None
    if video is None or job is None or video.status != VideoStatus.APPROVED.value:
        return []
    try:
        cfg, _where = _publish_config(settings, job.config_path)
    except VidgenError as exc:
        log.warning("video %s approved; not scheduled: %s", video_id, exc)
        return []
    if cfg is None or cfg.publish is None or not cfg.publish.destinations:
        return []
    made: list[int] = []
    when = next_slot(cfg.publish.times, cfg.publish.timezone)
    for destination in cfg.publish.destinations:
        try:
            pub = _schedule(settings, store, video, cfg, destination, cfg.publish.account, when)
        except VidgenError as exc:
            log.warning("video %s: not scheduled on %s: %s", video_id, destination, exc)
            continue
        assert pub.id is not None
        made.append(pub.id)
    return made


def next_slot(times: list[str], zone: str, now: datetime | None = None) -> datetime:
    """The next of ``times`` (HH:MM in ``zone``) after ``now``, in UTC."""
    tz = _zone(zone)
    here = (now or datetime.now(UTC)).astimezone(tz)
    candidates = []
    for day in (0, 1):
        base = (here + _seconds(86400 * day)).date()
        for slot in times:
            hour, minute = (int(part) for part in slot.split(":"))
            candidates.append(datetime(base.year, base.month, base.day, hour, minute, tzinfo=tz))
    return min(c for c in candidates if c > here).astimezone(UTC)


def list_publications(
    settings: Settings, status: str | None = None, limit: int = 20
) -> PublicationListResponse:
    """``vidgen publications`` / ``GET /api/publications``: newest first."""
    from vidgen.store import publications

    if status is not None and status not in PUBLICATION_STATUS_NAMES:
        raise InvalidInput(
            f"unknown publication status {status!r}: use one of "
            f"{', '.join(PUBLICATION_STATUS_NAMES)}"
        )
    check_page(limit, 0)
    store = get_store(settings)
    rows = publications.newest(store, status, limit)
    found = [_publication_response(store, row) for row in rows]
    return PublicationListResponse(count=len(found), publications=found)


def video_publications(settings: Settings, video_id: int) -> PublicationListResponse:
    """One video's publications, oldest first (the dashboard's Publishing box)."""
    from vidgen.pipeline.upload import to_response
    from vidgen.store import publications

    store = get_store(settings)
    video = videos.get(store, check_video_id(video_id))
    if video is None:
        raise NotFound(f"video {video_id} not found")
    found = [
        to_response(p, video) for p in publications.for_videos(store, [video_id]).get(video_id, [])
    ]
    return PublicationListResponse(count=len(found), publications=found)


def publish_due(settings: Settings) -> PublishDueResponse:
    """``vidgen publish --due`` / ``POST /api/publications/due`` (the cron line): queue the
    uploads due now -- and those whose worker died mid-upload, to resume -- for the workers,
    keeping each destination within its ``publish.max_per_day``; returns at once."""
    from vidgen.statuses import PublicationStatus
    from vidgen.store import publications

    store = get_store(settings)
    today = start_of_today()
    started: dict[str, int] = {}
    held: dict[str, int] = {}
    ids: list[int] = []
    for pub in publications.due(store, datetime.now(UTC)):
        assert pub.id is not None
        if pub.status == PublicationStatus.UPLOADING.value:
            ids.append(pub.id)  # a resume: already counted when it started
            continue
        limit = pub.request.get("max_per_day")
        if isinstance(limit, int):
            dest = pub.destination
            if dest not in started:
                started[dest] = publications.started_since(store, dest, today)
            if started[dest] >= limit:
                held[dest] = held.get(dest, 0) + 1
                continue
            started[dest] += 1
        ids.append(pub.id)
    queued = _queue_publications(settings, ids)
    note = "".join(
        f"; {n} on {dest} held back by publish.max_per_day" for dest, n in sorted(held.items())
    )
    return PublishDueResponse(
        queued=queued,
        held_back=held,
        message=f"{len(queued)} upload(s) queued for the workers{note}",
    )


def cancel_publication(settings: Settings, pub_id: int) -> PublicationResponse:
    """``vidgen publications cancel ID`` / ``POST /api/publications/{id}/cancel``."""
    from vidgen.store import publications

    if not 1 <= pub_id <= MAX_PUBLICATION_ID:
        raise NotFound(f"publication {pub_id} not found (ids are positive whole numbers)")
    store = get_store(settings)
    body = _publication_response(store, publications.cancel(store, pub_id))
    from vidgen.pipeline import webhook

    webhook.send_publication(settings, body)  # an end, like published or failed
    return body


def auth_begin(
    settings: Settings, destination: str, account: str | None, port: int
) -> tuple[Authorization, HTTPServer]:
    """Start ``vidgen auth DEST``: (Authorization with its consent URL, the loopback server
    already listening for the browser's redirect)."""
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from vidgen.providers import oauth

    dest = check_destination(destination)
    name = check_account(account)
    try:
        server = HTTPServer(("127.0.0.1", port), BaseHTTPRequestHandler)
    except OSError as exc:
        raise InvalidInput(
            f"cannot listen on 127.0.0.1:{port} ({exc.strerror}); pick another --port"
        ) from None
    auth = oauth.start(oauth.CLIENTS[dest], name, server.server_address[1])
    return auth, server


def auth_finish(
    settings: Settings,
    auth: Authorization,
    server: HTTPServer,
    pasted: str | None,
    timeout: float = 300.0,
) -> str:
    """Finish ``vidgen auth``: the code from the pasted redirect URL or the loopback listener,
    exchanged for tokens kept in the home (mode 0600). Returns where they are."""
    import httpx

    from vidgen.providers import oauth
    from vidgen.providers.publish import credentials_dir

    if pasted is not None:
        server.server_close()
        code = oauth.code_from_redirect(auth, pasted)
    else:
        code = oauth.receive_on_loopback(auth, server, timeout)
    with httpx.Client(timeout=30.0) as http:
        tokens = oauth.finish(auth, code, credentials_dir(settings.home), http)
    return str(tokens.path)
