"""YouTube (Data API v3) as an upload destination: ``videos.insert`` as a resumable upload,
then ``thumbnails.set`` and ``captions.insert``.

The resumable protocol (developers.google.com/youtube/v3/guides/using_resumable_upload_protocol):
``POST /upload/youtube/v3/videos?uploadType=resumable&part=snippet,status`` with the metadata
answers with the session URI in ``Location``; chunks are ``PUT`` with ``Content-Range: bytes
a-b/total`` and answered ``308 Resume Incomplete`` (``Range: bytes=0-n`` is what the server
has) until ``200``/``201`` with the video resource. ``PUT`` with ``Content-Range: bytes
*/total`` and no body asks for the status: the way a resumed or interrupted upload learns its
offset, and how a timeout after the last chunk is settled (the resource comes back) without
sending the video again.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from vidgen.errors import FatalStageError, StageError, VidgenError
from vidgen.providers.oauth import TokenStore
from vidgen.providers.publish import Published, Record, UploadRequest, UploadState

DEFAULT_BASE = "https://www.googleapis.com"
DEFAULT_CHUNK = 8 * 1024 * 1024  # a multiple of 256 KiB, as the protocol asks
CHUNK_RETRIES = 5


def chunk_bytes() -> int:
    raw = os.environ.get("VIDGEN_UPLOAD_CHUNK_BYTES", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_CHUNK


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        reasons = [e.get("reason", "") for e in error.get("errors", []) if isinstance(e, dict)]
        return " ".join(filter(None, [*reasons, str(error.get("message", ""))]))
    return str(body)[:200]


def _utc_now_iso() -> str:
    """Now as ``publishAt`` is written (``...Z``); a release time already past is dropped
    (YouTube refuses one in the past): the video is then released at once, as asked."""
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class YouTube:
    name = "youtube"

    def __init__(
        self,
        tokens: TokenStore,
        base_url: str | None = None,
        *,
        chunk: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
        backoff: Callable[[int], float] | None = None,
    ) -> None:
        self.tokens = tokens
        self.base = (base_url or DEFAULT_BASE).rstrip("/")
        self.chunk = chunk or chunk_bytes()
        self.sleep = sleep
        # Seconds to wait after the n-th failure in a row before asking where the upload is.
        self.backoff = backoff or (lambda n: min(8.0, 0.25 * 2**n))
        self.http = httpx.Client(
            timeout=httpx.Timeout(connect=10.0, read=120.0, write=120.0, pool=10.0),
            follow_redirects=False,
        )
        self._token: str | None = None

    # -- one request, with the errors every call shares ------------------------------------

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        for attempt in (1, 2):
            if self._token is None or attempt == 2:
                self._token = self.tokens.access_token(self.http, force=attempt == 2)
            headers["Authorization"] = f"Bearer {self._token}"
            try:
                response = self.http.request(method, url, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                raise StageError(f"YouTube: connection failed ({type(exc).__name__})") from None
            if response.status_code != 401:
                break
        if response.status_code == 401:
            raise FatalStageError(
                "YouTube refused the access token twice; run 'vidgen auth youtube' again"
            )
        if response.status_code == 403:
            reason = _reason(response)
            if "quota" in reason.lower() or "uploadLimitExceeded" in reason:
                raise FatalStageError(
                    f"YouTube quota spent ({reason.split()[0]}): a project has 10,000 units a "
                    "day and an upload costs 1,600; it resets at midnight Pacific time, or ask "
                    "Google for more quota"
                )
            raise FatalStageError(f"YouTube refused the request (403 {reason})")
        if response.status_code >= 500 or response.status_code == 429:
            raise StageError(f"YouTube answered HTTP {response.status_code}")
        return response

    # -- the upload -----------------------------------------------------------------------

    def upload(self, request: UploadRequest, state: UploadState, record: Record) -> Published:
        state = dict(state)
        video = Path(request.video_path)
        total = video.stat().st_size
        resource: dict[str, Any] | None = state.get("resource")
        if resource is None:
            resource = self._upload_video(request, video, total, state, record)
            state["resource"] = {"id": resource["id"], "status": resource.get("status", {})}
            state["offset"] = total
            record(state)
        video_id = str(resource["id"])
        notes: list[str] = []
        # The video is on YouTube now: a thumbnail or captions it refuses (custom thumbnails
        # need a verified channel) are noted on the publication, never a failed publication
        # of a video that is online.
        for step, path, send in (
            ("thumbnail", request.thumbnail_path, self._thumbnail),
            ("captions", request.captions_path, self._captions),
        ):
            if path and not state.get(f"{step}_done"):
                try:
                    send(video_id, Path(path), request.language)
                except VidgenError as exc:
                    state[f"{step}_error"] = str(exc)
                state[f"{step}_done"] = True
                record(state)
            if state.get(f"{step}_error"):
                notes.append(f"{step} not set: {state[f'{step}_error']}")
        status = resource.get("status") or {}
        return Published(
            remote_id=video_id,
            url=f"https://www.youtube.com/shorts/{video_id}",
            applied_privacy=status.get("privacyStatus") or request.privacy,
            note="; ".join(notes) or None,
        )

    def _metadata(self, request: UploadRequest) -> dict[str, Any]:
        status: dict[str, Any] = {
            "privacyStatus": request.privacy,
            "selfDeclaredMadeForKids": request.made_for_kids,
        }
        if request.publish_at is not None and request.publish_at > _utc_now_iso():
            # A scheduled release: private until publishAt, then YouTube makes it public.
            status["privacyStatus"] = "private"
            status["publishAt"] = request.publish_at
        return {
            "snippet": {
                "title": request.title,
                "description": request.description,
                "tags": request.tags,
                "categoryId": request.category,
                "defaultLanguage": request.language,
            },
            "status": status,
        }

    def _open_session(self, request: UploadRequest, total: int) -> str:
        response = self._send(
            "POST",
            f"{self.base}/upload/youtube/v3/videos",
            params={"uploadType": "resumable", "part": "snippet,status"},
            headers={
                "Content-Type": "application/json; charset=UTF-8",
                "X-Upload-Content-Length": str(total),
                "X-Upload-Content-Type": "video/mp4",
            },
            content=json.dumps(self._metadata(request)).encode(),
        )
        location = response.headers.get("Location")
        if response.status_code != 200 or not location:
            raise FatalStageError(
                f"YouTube did not open an upload (HTTP {response.status_code}: {_reason(response)})"
            )
        return str(location)

    def _query(self, session: str, total: int) -> int | dict[str, Any] | None:
        """Bytes the server has, the finished resource, or None if the session is gone."""
        response = self._send(
            "PUT",
            session,
            headers={"Content-Range": f"bytes */{total}", "Content-Length": "0"},
        )
        return self._progress(response)

    @staticmethod
    def _progress(response: httpx.Response) -> int | dict[str, Any] | None:
        if response.status_code in (200, 201):
            return dict(response.json())
        if response.status_code == 308:
            ranged = response.headers.get("Range")  # "bytes=0-n": n+1 bytes received
            return int(ranged.rsplit("-", 1)[1]) + 1 if ranged else 0
        if response.status_code in (404, 410):
            return None  # expired (a week) or unknown: it never made a video
        raise FatalStageError(
            f"YouTube refused the upload (HTTP {response.status_code}: {_reason(response)})"
        )

    def _upload_video(
        self, request: UploadRequest, video: Path, total: int, state: UploadState, record: Record
    ) -> dict[str, Any]:
        failures = 0
        with video.open("rb") as handle:
            while True:
                try:
                    session = state.get("session_url")
                    if session is None:
                        state.update(session_url=self._open_session(request, total), offset=0)
                        record(state)  # before any byte of the video is sent
                        continue
                    where = self._query(session, total)
                    if where is None:
                        state.pop("session_url", None)
                        continue
                    if isinstance(where, dict):
                        return where
                    if where != state.get("offset"):
                        state["offset"] = where
                        record(state)
                    while True:
                        offset = int(state["offset"])
                        handle.seek(offset)
                        data = handle.read(self.chunk)
                        end = offset + len(data) - 1
                        response = self._send(
                            "PUT",
                            session,
                            headers={
                                "Content-Range": f"bytes {offset}-{end}/{total}",
                                "Content-Type": "video/mp4",
                            },
                            content=data,
                        )
                        done = self._progress(response)
                        if isinstance(done, dict):
                            return done
                        if done is None:
                            state.pop("session_url", None)
                            break
                        state["offset"] = done
                        record(state)
                        failures = 0
                except StageError:
                    # A reset, a timeout or a 5xx mid-chunk: ask the server where it is and go
                    # on from there (the next loop's query), a few times with backoff.
                    failures += 1
                    if failures > CHUNK_RETRIES:
                        raise
                    self.sleep(self.backoff(failures))

    def _thumbnail(self, video_id: str, path: Path, _language: str) -> None:
        response = self._send(
            "POST",
            f"{self.base}/upload/youtube/v3/thumbnails/set",
            params={"videoId": video_id, "uploadType": "media"},
            headers={"Content-Type": "image/jpeg"},
            content=path.read_bytes(),
        )
        if response.status_code != 200:
            raise FatalStageError(f"YouTube refused the thumbnail ({_reason(response)})")

    def _captions(self, video_id: str, path: Path, language: str) -> None:
        boundary = "vidgen-captions"
        snippet = {"snippet": {"videoId": video_id, "language": language, "name": language}}
        body = (
            (
                f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n"
                f"{json.dumps(snippet)}\r\n--{boundary}\r\n"
                "Content-Type: application/x-subrip\r\n\r\n"
            ).encode()
            + path.read_bytes()
            + f"\r\n--{boundary}--\r\n".encode()
        )
        response = self._send(
            "POST",
            f"{self.base}/upload/youtube/v3/captions",
            params={"part": "snippet", "uploadType": "multipart"},
            headers={"Content-Type": f"multipart/related; boundary={boundary}"},
            content=body,
        )
        if response.status_code != 200:
            raise FatalStageError(f"YouTube refused the captions ({_reason(response)})")
