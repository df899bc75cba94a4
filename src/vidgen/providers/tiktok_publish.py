"""TikTok (Content Posting API) as an upload destination.

Following developers.tiktok.com/doc/content-posting-api-reference-*: the creator info query
(``/v2/post/publish/creator_info/query/``) says which privacy levels the account may use;
``/v2/post/publish/video/init/`` (direct post) or ``/v2/post/publish/inbox/video/init/``
(the creator's inbox, a draft, where direct post is not allowed) with ``source: FILE_UPLOAD``
returns a ``publish_id`` and an ``upload_url``; the file goes up in ``PUT`` chunks with
``Content-Range`` (``206`` until the last, then ``201``); ``/v2/post/publish/status/fetch/``
reports ``uploaded_bytes`` (how a resumed upload learns its offset) and the status until
``PUBLISH_COMPLETE``, ``SEND_TO_USER_INBOX`` or ``FAILED``. Unaudited clients may only post
``SELF_ONLY``: the publication records the privacy actually applied.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from vidgen.errors import FatalStageError, StageError
from vidgen.providers.oauth import TokenStore
from vidgen.providers.publish import Published, Record, UploadRequest, UploadState

DEFAULT_BASE = "https://open.tiktokapis.com"
# The API takes 5-64 MB chunks (the last up to 128 MB), and a file under 5 MB whole.
# 10 MB chunks by default: a resumed upload repeats at most 10 MB (a file under 20 MB goes in
# one chunk of its own size, as the API asks for files smaller than two chunks).
DEFAULT_CHUNK = 10 * 1000 * 1000
CHUNK_RETRIES = 5
PRIVACY = {
    "public": "PUBLIC_TO_EVERYONE",
    "unlisted": "MUTUAL_FOLLOW_FRIENDS",
    "private": "SELF_ONLY",
}
AUTH_ERRORS = ("access_token_invalid", "scope_not_authorized", "token_not_authorized")


def chunk_plan(total: int, wanted: int) -> tuple[int, int]:
    """(chunk_size, total_chunk_count) by the API's rule: whole chunks, the last one takes the
    remainder (so it may be up to twice as big)."""
    size = min(max(wanted, 1), total)
    return size, max(1, total // size)


def poll_seconds() -> float:
    raw = os.environ.get("VIDGEN_TIKTOK_POLL_SECONDS", "")
    try:
        return max(0.01, float(raw)) if raw else 5.0
    except ValueError:
        return 5.0


class TikTok:
    name = "tiktok"

    def __init__(
        self,
        tokens: TokenStore,
        base_url: str | None = None,
        *,
        chunk: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
        backoff: Callable[[int], float] | None = None,
        poll_limit: float = 1800.0,
    ) -> None:
        self.tokens = tokens
        self.base = (base_url or DEFAULT_BASE).rstrip("/")
        env_chunk = os.environ.get("VIDGEN_UPLOAD_CHUNK_BYTES", "")
        self.chunk = chunk or (int(env_chunk) if env_chunk.isdigit() else DEFAULT_CHUNK)
        self.sleep = sleep
        # Seconds to wait after the n-th failure in a row before asking where the upload is.
        self.backoff = backoff or (lambda n: min(8.0, 0.25 * 2**n))
        self.poll_limit = poll_limit
        self.http = httpx.Client(
            timeout=httpx.Timeout(connect=10.0, read=120.0, write=120.0, pool=10.0)
        )
        self._token: str | None = None

    def _api(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a JSON API call; its ``data``, or one line for its ``error``."""
        for attempt in (1, 2):
            if self._token is None or attempt == 2:
                self._token = self.tokens.access_token(self.http, force=attempt == 2)
            try:
                response = self.http.post(
                    f"{self.base}{path}",
                    json=body,
                    headers={
                        "Authorization": f"Bearer {self._token}",
                        "Content-Type": "application/json; charset=UTF-8",
                    },
                )
            except httpx.TransportError as exc:
                raise StageError(f"TikTok: connection failed ({type(exc).__name__})") from None
            if response.status_code >= 500:
                raise StageError(f"TikTok answered HTTP {response.status_code}")
            try:
                payload = response.json()
            except ValueError:
                raise StageError(
                    f"TikTok answered HTTP {response.status_code} without JSON"
                ) from None
            error = payload.get("error") or {}
            code = error.get("code", "ok")
            if code == "access_token_invalid" and attempt == 1:
                continue  # expired: refresh once
            break
        if code == "ok":
            return dict(payload.get("data") or {})
        message = error.get("message", "")
        if code == "rate_limit_exceeded" or response.status_code == 429:
            raise FatalStageError(
                "TikTok rate limit or daily post cap reached: wait and run 'vidgen publish --due' "
                "later (lower publish.max_per_day)"
            )
        if code in AUTH_ERRORS:
            raise FatalStageError(
                f"TikTok refused the authorisation ({code}): run 'vidgen auth tiktok' again "
                "and grant video.upload and video.publish"
            )
        raise FatalStageError(f"TikTok refused {path} ({code}: {message})")

    def upload(self, request: UploadRequest, state: UploadState, record: Record) -> Published:
        state = dict(state)
        video = Path(request.video_path)
        total = video.stat().st_size
        resumed = state.get("publish_id") is not None
        if not resumed:
            self._init(request, total, state)
            record(state)  # before any byte of the video is sent
        if int(state.get("offset", 0)) < total:
            self._send_chunks(video, total, state, record, resumed=resumed)
        return self._wait(state, record)

    def _init(self, request: UploadRequest, total: int, state: UploadState) -> None:
        creator = self._api("/v2/post/publish/creator_info/query/", {})
        options = [str(o) for o in creator.get("privacy_level_options") or []]
        size, count = chunk_plan(total, self.chunk)
        source = {
            "source": "FILE_UPLOAD",
            "video_size": total,
            "chunk_size": size,
            "total_chunk_count": count,
        }
        mode = request.tiktok_mode
        privacy = PRIVACY.get(request.privacy, "SELF_ONLY")
        if privacy not in options:
            privacy = "SELF_ONLY" if "SELF_ONLY" in options or not options else options[0]
        data: dict[str, Any] | None = None
        if mode == "direct":
            post_info = {
                "title": (request.title + " " + request.description).strip()[:2200],
                "privacy_level": privacy,
                "disable_comment": False,
                "disable_duet": False,
                "disable_stitch": False,
                "brand_content_toggle": False,
                "brand_organic_toggle": False,
            }
            try:
                data = self._api(
                    "/v2/post/publish/video/init/", {"post_info": post_info, "source_info": source}
                )
            except FatalStageError as exc:
                text = str(exc)
                if "unaudited_client_can_only_post_to_private_accounts" in text:
                    # An unaudited client may only post privately: say so in the record.
                    privacy = "SELF_ONLY"
                    post_info["privacy_level"] = privacy
                    data = self._api(
                        "/v2/post/publish/video/init/",
                        {"post_info": post_info, "source_info": source},
                    )
                elif "scope_not_authorized" in text or "direct_post" in text:
                    mode = "inbox"  # direct post not allowed for this client: a draft
                else:
                    raise
        if data is None:
            data = self._api("/v2/post/publish/inbox/video/init/", {"source_info": source})
            privacy = "DRAFT (inbox)"
        state.update(
            publish_id=data["publish_id"],
            upload_url=data["upload_url"],
            offset=0,
            total=total,
            chunk_size=size,
            chunk_count=count,
            mode=mode,
            privacy=privacy,
            creator=creator.get("creator_username"),
        )

    def _status(self, state: UploadState) -> dict[str, Any]:
        return self._api("/v2/post/publish/status/fetch/", {"publish_id": state["publish_id"]})

    def _send_chunks(
        self, video: Path, total: int, state: UploadState, record: Record, *, resumed: bool
    ) -> None:
        size, count = int(state["chunk_size"]), int(state["chunk_count"])
        failures = 0
        with video.open("rb") as handle:
            while int(state["offset"]) < total:
                try:
                    if resumed:
                        # Where the platform is, not where we think we are: a chunk may have
                        # landed after the last record, or only part of one.
                        have = int(self._status(state).get("uploaded_bytes") or 0)
                        state["offset"] = min(total, (have // size) * size)
                        resumed = False
                        if have >= total:
                            state["offset"] = total
                            break
                    offset = int(state["offset"])
                    index = offset // size
                    end = total - 1 if index >= count - 1 else offset + size - 1
                    handle.seek(offset)
                    data = handle.read(end - offset + 1)
                    try:
                        response = self.http.put(
                            str(state["upload_url"]),
                            content=data,
                            headers={
                                "Content-Type": "video/mp4",
                                "Content-Range": f"bytes {offset}-{end}/{total}",
                            },
                        )
                    except httpx.TransportError as exc:
                        raise StageError(f"TikTok upload: {type(exc).__name__}") from None
                    if response.status_code >= 500:
                        raise StageError(f"TikTok upload answered HTTP {response.status_code}")
                    if response.status_code not in (201, 206):
                        raise FatalStageError(
                            f"TikTok refused a chunk (HTTP {response.status_code}); the upload "
                            "URL expires after an hour: run 'vidgen publish --due' again"
                        )
                    state["offset"] = end + 1
                    record(state)
                    failures = 0
                except StageError:
                    failures += 1
                    if failures > CHUNK_RETRIES:
                        raise
                    resumed = True
                    self.sleep(self.backoff(failures))
        record(state)

    def _wait(self, state: UploadState, record: Record) -> Published:
        deadline = time.monotonic() + self.poll_limit
        while True:
            status = self._status(state)
            name = str(status.get("status", ""))
            if name == "PUBLISH_COMPLETE":
                ids = status.get("publicaly_available_post_id") or []
                post = str(ids[0]) if ids else None
                creator = state.get("creator")
                url = (
                    f"https://www.tiktok.com/@{creator}/video/{post}" if post and creator else None
                )
                return Published(
                    remote_id=post or str(state["publish_id"]),
                    url=url,
                    applied_privacy=str(state.get("privacy")),
                )
            if name == "SEND_TO_USER_INBOX":
                return Published(
                    remote_id=str(state["publish_id"]),
                    url=None,
                    applied_privacy="DRAFT (inbox: finish the post in the TikTok app)",
                )
            if name == "FAILED":
                raise FatalStageError(
                    f"TikTok could not post the video ({status.get('fail_reason')})"
                )
            if time.monotonic() > deadline:
                raise StageError(f"TikTok still processing publish {state['publish_id']} ({name})")
            self.sleep(poll_seconds())
