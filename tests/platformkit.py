"""Local fakes of the YouTube Data API v3 and the TikTok Content Posting API, for tests.

Each is a small HTTP server on 127.0.0.1 (a thread of the test process, so it outlives a
worker the test kills) following the public documents closely enough that a client written
against them works unchanged:

- YouTube: ``POST /token`` (OAuth; ``invalid_grant`` for a revoked refresh token), the
  resumable ``videos.insert`` (session URI in ``Location``; ``PUT`` chunks with
  ``Content-Range`` answered ``308`` + ``Range`` until ``200`` with the resource; ``bytes
  */total`` asks for the status), ``thumbnails.set``, ``captions.insert`` (multipart).
- TikTok: ``POST /v2/oauth/token/``, ``creator_info/query``, ``video/init`` and
  ``inbox/video/init`` (``FILE_UPLOAD``), ``PUT`` chunks (``206``, then ``201``),
  ``status/fetch`` (``uploaded_bytes``, ``PROCESSING_UPLOAD`` -> ``PUBLISH_COMPLETE``).

Faults a test can arm: ``expire_tokens()`` (the next call gets 401), ``quota`` (403
quotaExceeded / rate limit), ``fail_next_chunks`` (5xx), ``reset_mid_chunk`` (the socket is
reset after half a chunk arrived; the half is kept, as a real server keeps what it received),
``reset_after_final`` (the last chunk is stored and the video made, then the connection is
reset before the answer), ``chunk_delay`` (slow chunks, for kill tests), ``revoked`` refresh
tokens. Everything the clients sent is kept in ``requests`` for request-shape assertions.
"""

from __future__ import annotations

import itertools
import json
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class Session:
    total: int
    metadata: dict[str, Any]
    data: bytearray = field(default_factory=bytearray)
    video_id: str | None = None
    mode: str = "direct"
    polls: int = 0


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


def _reset(handler: BaseHTTPRequestHandler) -> None:
    """Close the connection with a TCP reset (SO_LINGER 0), as a dropped link looks."""
    sock = handler.connection
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.close_connection = True
    sock.close()


class FakePlatform:
    """Shared machinery: the server thread, tokens, recorded requests, fault switches."""

    kind = "platform"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[Recorded] = []
        self.sessions: dict[str, Session] = {}
        self.videos: list[dict[str, Any]] = []  # what the platform ended up with
        self.valid_tokens: set[str] = set()
        self.refresh_tokens: set[str] = {"refresh-1"}
        self.revoked: set[str] = set()
        self.quota = False
        self.fail_next_chunks = 0
        self.reset_mid_chunk = 0
        self.reset_after_final = 0
        self.chunk_delay = 0.0
        self.counter = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                fake.dispatch(self)

            do_GET = do_POST = do_PUT = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakePlatform:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def expire_tokens(self) -> None:
        with self.lock:
            self.valid_tokens.clear()

    # -- plumbing ------------------------------------------------------------------------

    def read_body(self, h: BaseHTTPRequestHandler) -> bytes:
        length = int(h.headers.get("Content-Length") or 0)
        return h.rfile.read(length) if length else b""

    def reply(
        self,
        h: BaseHTTPRequestHandler,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        h.send_response(status)
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def record(self, h: BaseHTTPRequestHandler, body: bytes) -> Recorded:
        parsed = urlparse(h.path)
        rec = Recorded(h.command, parsed.path, parse_qs(parsed.query), dict(h.headers), body)
        with self.lock:
            self.requests.append(rec)
        return rec

    def authorised(self, h: BaseHTTPRequestHandler) -> bool:
        token = (h.headers.get("Authorization") or "").removeprefix("Bearer ")
        with self.lock:
            return token in self.valid_tokens

    def new_token(self) -> str:
        token = f"access-{next(self.counter)}"
        with self.lock:
            self.valid_tokens.add(token)
        return token

    def dispatch(self, h: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError

    def receive_chunk(
        self, h: BaseHTTPRequestHandler, session: Session, first: int, last: int
    ) -> bool:
        """Read one chunk into ``session`` (overlap with what it has is rewritten); False when
        the connection was reset (a fault) and nothing must be answered."""
        length = int(h.headers.get("Content-Length") or 0)
        if self.chunk_delay:
            time.sleep(self.chunk_delay)
        with self.lock:
            mid = self.reset_mid_chunk > 0 and length > 1
            if mid:
                self.reset_mid_chunk -= 1
        if mid:
            part = h.rfile.read(length // 2)
            with self.lock:
                del session.data[first:]
                session.data += part
            _reset(h)
            return False
        data = h.rfile.read(length)
        self.record(h, b"<chunk>")
        with self.lock:
            if first > len(session.data):
                raise AssertionError(f"chunk at {first} leaves a hole (have {len(session.data)})")
            del session.data[first:]
            session.data += data
        return True

    def finish_video(self, session: Session, privacy: str) -> str:
        with self.lock:
            if session.video_id is None:
                session.video_id = f"vid{next(self.counter)}"
                self.videos.append(
                    {
                        "id": session.video_id,
                        "bytes": bytes(session.data),
                        "metadata": session.metadata,
                        "privacy": privacy,
                        "mode": session.mode,
                    }
                )
            return session.video_id


class FakeYouTube(FakePlatform):
    kind = "youtube"

    def __init__(self, unverified: bool = False) -> None:
        super().__init__()
        self.unverified = unverified  # projects not yet audited: uploads are made private
        self.thumbnails: list[str] = []
        self.refuse_thumbnails = False  # an unverified channel may not set custom thumbnails
        self.captions: list[dict[str, Any]] = []

    def dispatch(self, h: BaseHTTPRequestHandler) -> None:
        parsed = urlparse(h.path)
        query = parse_qs(parsed.query)
        if parsed.path == "/token":
            return self._token(h)
        if not self.authorised(h):
            self.read_body(h)
            return self.reply(h, 401, {"error": {"code": 401, "message": "Invalid Credentials"}})
        if parsed.path == "/upload/youtube/v3/videos" and h.command == "POST":
            return self._open(h, query)
        if parsed.path == "/upload/youtube/v3/videos" and h.command == "PUT":
            return self._put(h, query["upload_id"][0])
        if parsed.path == "/upload/youtube/v3/thumbnails/set":
            body = self.read_body(h)
            self.record(h, body)
            if self.refuse_thumbnails:
                return self.reply(
                    h,
                    403,
                    {
                        "error": {
                            "code": 403,
                            "message": "The authenticated user doesn't have permissions to "
                            "upload and set custom video thumbnails.",
                            "errors": [{"reason": "forbidden"}],
                        }
                    },
                )
            self.thumbnails.append(query["videoId"][0])
            return self.reply(h, 200, {"kind": "youtube#thumbnailSetResponse", "items": [{}]})
        if parsed.path == "/upload/youtube/v3/captions":
            body = self.read_body(h)
            self.record(h, body)
            head = body.split(b"\r\n\r\n", 1)[1].split(b"\r\n--", 1)[0]
            self.captions.append({"snippet": json.loads(head)["snippet"], "body": body})
            return self.reply(h, 200, {"kind": "youtube#caption", "id": "cap1"})
        self.read_body(h)
        self.reply(h, 404, {"error": {"code": 404, "message": "not found"}})

    def _token(self, h: BaseHTTPRequestHandler) -> None:
        form = {k: v[0] for k, v in parse_qs(self.read_body(h).decode()).items()}
        if form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") in self.revoked:
                return self.reply(
                    h,
                    400,
                    {
                        "error": "invalid_grant",
                        "error_description": "Token has been expired or revoked.",
                    },
                )
            return self.reply(
                h,
                200,
                {"access_token": self.new_token(), "expires_in": 3599, "token_type": "Bearer"},
            )
        if form.get("grant_type") == "authorization_code" and form.get("code") == "good-code":
            return self.reply(
                h,
                200,
                {
                    "access_token": self.new_token(),
                    "expires_in": 3599,
                    "refresh_token": "refresh-1",
                    "scope": form.get("scope", ""),
                    "token_type": "Bearer",
                },
            )
        self.reply(h, 400, {"error": "invalid_request"})

    def _open(self, h: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> None:
        body = self.read_body(h)
        self.record(h, body)
        if self.quota:
            return self.reply(
                h,
                403,
                {
                    "error": {
                        "code": 403,
                        "message": "The request cannot be completed because you have "
                        "exceeded your quota.",
                        "errors": [{"reason": "quotaExceeded", "domain": "youtube.quota"}],
                    }
                },
            )
        assert query.get("uploadType") == ["resumable"]
        metadata = json.loads(body)
        total = int(h.headers["X-Upload-Content-Length"])
        upload_id = f"up{next(self.counter)}"
        self.sessions[upload_id] = Session(total=total, metadata=metadata)
        location = f"{self.url}/upload/youtube/v3/videos?uploadType=resumable&upload_id={upload_id}"
        self.reply(h, 200, None, {"Location": location})

    def _resource(self, session: Session) -> dict[str, Any]:
        wanted = session.metadata["status"]["privacyStatus"]
        return {
            "kind": "youtube#video",
            "id": session.video_id,
            "snippet": session.metadata["snippet"],
            "status": {
                "uploadStatus": "uploaded",
                "privacyStatus": "private" if self.unverified else wanted,
            },
        }

    def _status(self, h: BaseHTTPRequestHandler, session: Session) -> None:
        if session.video_id is not None:
            return self.reply(h, 200, self._resource(session))
        headers = {"Range": f"bytes=0-{len(session.data) - 1}"} if session.data else {}
        self.reply(h, 308, None, headers)

    def _put(self, h: BaseHTTPRequestHandler, upload_id: str) -> None:
        session = self.sessions.get(upload_id)
        content_range = h.headers.get("Content-Range", "")
        if session is None:
            self.read_body(h)
            return self.reply(h, 404, {"error": {"code": 404, "message": "session not found"}})
        if content_range.startswith("bytes */"):
            self.read_body(h)
            self.record(h, b"")
            return self._status(h, session)
        with self.lock:
            fail = self.fail_next_chunks > 0
            if fail:
                self.fail_next_chunks -= 1
        if fail:
            self.read_body(h)
            return self.reply(h, 503, {"error": {"code": 503, "message": "backendError"}})
        span = content_range.removeprefix("bytes ").split("/")[0]
        first, last = (int(x) for x in span.split("-"))
        if not self.receive_chunk(h, session, first, last):
            return
        if len(session.data) >= session.total:
            privacy = self._resource_privacy(session)
            self.finish_video(session, privacy)
            with self.lock:
                after = self.reset_after_final > 0
                if after:
                    self.reset_after_final -= 1
            if after:
                return _reset(h)
            return self.reply(h, 200, self._resource(session))
        self._status(h, session)

    def _resource_privacy(self, session: Session) -> str:
        return "private" if self.unverified else session.metadata["status"]["privacyStatus"]


class FakeTikTok(FakePlatform):
    kind = "tiktok"

    def __init__(self, unaudited: bool = False, direct_allowed: bool = True) -> None:
        super().__init__()
        self.unaudited = unaudited
        self.direct_allowed = direct_allowed
        self.polls_to_publish = 2
        self.by_publish_id: dict[str, Session] = {}

    def _error(self, h: BaseHTTPRequestHandler, status: int, code: str, message: str = "") -> None:
        self.reply(
            h, status, {"data": {}, "error": {"code": code, "message": message, "log_id": "x"}}
        )

    def _ok(self, h: BaseHTTPRequestHandler, data: dict[str, Any]) -> None:
        self.reply(h, 200, {"data": data, "error": {"code": "ok", "message": "", "log_id": "x"}})

    def dispatch(self, h: BaseHTTPRequestHandler) -> None:
        parsed = urlparse(h.path)
        if parsed.path == "/v2/oauth/token/":
            return self._token(h)
        if parsed.path == "/upload/":
            return self._put(h, parse_qs(parsed.query)["upload_id"][0])
        body = self.read_body(h)
        self.record(h, body)
        if not self.authorised(h):
            return self._error(h, 401, "access_token_invalid", "The access token is invalid")
        request = json.loads(body or b"{}")
        if parsed.path == "/v2/post/publish/creator_info/query/":
            options = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
            return self._ok(
                h,
                {
                    "creator_avatar_url": "",
                    "creator_username": "vidgen_test",
                    "creator_nickname": "vidgen",
                    "privacy_level_options": options,
                    "comment_disabled": False,
                    "duet_disabled": False,
                    "stitch_disabled": False,
                    "max_video_post_duration_sec": 600,
                },
            )
        if parsed.path in ("/v2/post/publish/video/init/", "/v2/post/publish/inbox/video/init/"):
            inbox = "inbox" in parsed.path
            if self.quota:
                return self._error(h, 429, "rate_limit_exceeded", "too many posts")
            if not inbox and not self.direct_allowed:
                return self._error(h, 403, "scope_not_authorized", "video.publish not granted")
            privacy = None if inbox else request["post_info"]["privacy_level"]
            if self.unaudited and privacy not in (None, "SELF_ONLY"):
                return self._error(
                    h,
                    403,
                    "unaudited_client_can_only_post_to_private_accounts",
                    "unaudited clients can only post private content",
                )
            source = request["source_info"]
            assert source["source"] == "FILE_UPLOAD"
            publish_id = f"v_pub_file~v2-1.{next(self.counter)}"
            session = Session(total=int(source["video_size"]), metadata=request)
            session.mode = "inbox" if inbox else "direct"
            self.by_publish_id[publish_id] = session
            self.sessions[publish_id] = session
            return self._ok(
                h,
                {
                    "publish_id": publish_id,
                    "upload_url": f"{self.url}/upload/?upload_id={publish_id}",
                },
            )
        if parsed.path == "/v2/post/publish/status/fetch/":
            session = self.by_publish_id[request["publish_id"]]
            return self._ok(h, self._status(session))
        self._error(h, 404, "invalid_params", "unknown path")

    def _status(self, session: Session) -> dict[str, Any]:
        if len(session.data) < session.total:
            return {"status": "PROCESSING_UPLOAD", "uploaded_bytes": len(session.data)}
        session.polls += 1
        if session.polls < self.polls_to_publish:
            return {"status": "PROCESSING_UPLOAD", "uploaded_bytes": len(session.data)}
        privacy = session.metadata.get("post_info", {}).get("privacy_level", "DRAFT")
        video_id = self.finish_video(session, privacy)
        if session.mode == "inbox":
            return {"status": "SEND_TO_USER_INBOX", "uploaded_bytes": session.total}
        return {
            "status": "PUBLISH_COMPLETE",
            "uploaded_bytes": session.total,
            "publicaly_available_post_id": [int(video_id.removeprefix("vid")) + 7000000000],
        }

    def _token(self, h: BaseHTTPRequestHandler) -> None:
        form = {k: v[0] for k, v in parse_qs(self.read_body(h).decode()).items()}
        if form.get("refresh_token") in self.revoked:
            return self.reply(
                h,
                400,
                {
                    "error": "invalid_grant",
                    "error_description": "Refresh token is invalid or expired.",
                    "log_id": "x",
                },
            )
        self.reply(
            h,
            200,
            {
                "access_token": self.new_token(),
                "expires_in": 86400,
                "open_id": "open-1",
                "refresh_token": "refresh-1",
                "refresh_expires_in": 31536000,
                "scope": "user.info.basic,video.publish,video.upload",
                "token_type": "Bearer",
            },
        )

    def _put(self, h: BaseHTTPRequestHandler, publish_id: str) -> None:
        session = self.by_publish_id.get(publish_id)
        if session is None:
            self.read_body(h)
            return self._error(h, 404, "invalid_params", "unknown upload")
        with self.lock:
            fail = self.fail_next_chunks > 0
            if fail:
                self.fail_next_chunks -= 1
        if fail:
            self.read_body(h)
            return self.reply(h, 503, None)
        span = h.headers["Content-Range"].removeprefix("bytes ").split("/")[0]
        first, last = (int(x) for x in span.split("-"))
        if not self.receive_chunk(h, session, first, last):
            return
        if len(session.data) >= session.total:
            with self.lock:
                after = self.reset_after_final > 0
                if after:
                    self.reset_after_final -= 1
            if after:
                return _reset(h)
            return self.reply(h, 201, None)
        self.reply(h, 206, None)


def write_credentials(home: Any, destination: str, account: str = "default") -> None:
    """Tokens as ``vidgen auth`` leaves them (an expired access token: the first call refreshes)."""
    from vidgen.providers.oauth import _write_private

    _write_private(
        home / "credentials" / f"{destination}-{account}.json",
        {
            "client_id": "client-1",
            "client_secret": "secret-1",
            "refresh_token": "refresh-1",
            "access_token": "stale",
            "expires_at": 0,
        },
    )


def point_at(monkeypatch: Any, youtube: FakeYouTube | None, tiktok: FakeTikTok | None) -> None:
    """Point the destinations at the fakes (the base-URL settings)."""
    if youtube is not None:
        monkeypatch.setenv("VIDGEN_YOUTUBE_API_URL", youtube.url)
        monkeypatch.setenv("VIDGEN_YOUTUBE_TOKEN_URL", f"{youtube.url}/token")
    if tiktok is not None:
        monkeypatch.setenv("VIDGEN_TIKTOK_API_URL", tiktok.url)
        monkeypatch.setenv("VIDGEN_TIKTOK_TOKEN_URL", f"{tiktok.url}/v2/oauth/token/")
    monkeypatch.setenv("VIDGEN_TIKTOK_POLL_SECONDS", "0.01")
