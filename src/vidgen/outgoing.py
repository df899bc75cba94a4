"""Outgoing HTTP calls (providers and media to the APIs they use): the retry, error and size
rules every network provider shares.

Used by the trend sources and LLM clients (``request_json``) and by the media providers that
call an API: OpenAI speech (``download`` of the audio a POST returns, straight to the file
ffmpeg decodes) and Pexels (``request_json`` for the search, ``download`` for the footage).
Rules, one copy each:

- explicit connect/read timeouts, never httpx's default of "wait forever on a slow body"; with a
  ``ctx`` (a ``vidgen.cancel_token.CancelToken``) no single wait on the socket outlasts the
  deadline;
- 429, 408 and 5xx are retried a bounded number of times, waiting ``Retry-After`` when the server
  sends it (capped, so a hostile or buggy header cannot park a worker for an hour), otherwise an
  exponential backoff; when the attempts are spent the failure is a retryable ``StageError`` so the
  runner's own stage retries still apply; a wait that would pass the ``ctx`` deadline is not
  started, and a shutdown interrupts it;
- 401/403 mean the credential is wrong: ``FatalStageError`` naming the env var to fix, because no
  retry can repair a bad key;
- other 4xx mean the request itself is wrong (unknown model, bad parameter, a file that is gone):
  also fatal;
- connection errors and timeouts (also in the middle of a body) are retried like 5xx;
- every body is size-capped: a declared or streamed size over the cap is a ``StageError`` before
  more is read, and an error body is read only as far as its message needs;
- a download lands under a temporary sibling name and is renamed into place when complete, so the
  destination is whole or absent; the ``ctx`` is checked between chunks.

Sleeping is injectable so tests exercise the retry path without waiting.
"""

from __future__ import annotations

import json as jsonlib
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from vidgen.errors import FatalStageError, StageError
from vidgen.files import temp_sibling

if TYPE_CHECKING:
    from vidgen.cancel_token import CancelToken

Sleep = Callable[[float], None]

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504, 520, 522, 524, 529})

# Default cap for a body read into memory (JSON, small binaries); downloads pass their own.
MAX_BODY_BYTES = 32 * 1024 * 1024
# An error body is only read for its message: enough for any API's JSON error, no more.
_ERROR_BODY_BYTES = 64 * 1024
_CHUNK = 1 << 16

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    backoff_base: float = 1.0
    backoff_max: float = 20.0
    # Upper bound for a server-requested Retry-After; longer waits belong to the runner's backoff.
    retry_after_max: float = 60.0


@dataclass(frozen=True)
class Credential:
    """Names for a rejection message: the service, what it checked, the env var to fix."""

    service: str
    what: str
    env_var: str
    # Some APIs answer a bad key with HTTP 400 (Google: "API key not valid"); these substrings of
    # the error body mark such a 400 as a credential problem rather than a bad request.
    bad_key_markers: tuple[str, ...] = ()
    # What the user should change when the API refuses the request itself (a non-credential 4xx).
    request_fix: str = "fix the request settings (model, region, actor) and retry"


def require_key(explicit: str | None, env_var: str, who: str, fallback: str) -> str:
    """The API key passed in, else ``$env_var``; FatalStageError naming both fixes if neither.

    ``who`` needs the key ("The YouTube trend source"); ``fallback`` is the offline choice that
    needs none ("use providers.trends: sample").
    """
    key = explicit if explicit is not None else os.environ.get(env_var, "")
    if not key.strip():
        raise FatalStageError(f"{who} needs an API key: set {env_var} or {fallback}")
    return key.strip()


def default_timeout(read: float = 30.0) -> httpx.Timeout:
    return httpx.Timeout(connect=10.0, read=read, write=30.0, pool=10.0)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Parse Retry-After (delta-seconds or HTTP-date); None when absent or unparseable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _error_detail(body: bytes) -> str:
    """A short, single-line excerpt of the API's own error message, for the user."""
    text = body.decode("utf-8", "replace")
    message = ""
    try:
        decoded = jsonlib.loads(text)
    except ValueError:
        decoded = None
    if isinstance(decoded, dict):
        err = decoded.get("error")
        if isinstance(err, dict):
            message = str(err.get("message") or err.get("type") or "")
        elif isinstance(err, str):
            message = err
        if not message:
            message = str(decoded.get("message") or "")
    if not message:
        message = text
    # Google embeds HTML links in messages; a terminal line wants plain text.
    message = " ".join(re.sub(r"<[^>]+>", "", message).split())
    return message[:200]


def _size(limit: int) -> str:
    return f"{limit >> 20} MB" if limit >= 1 << 20 else f"{limit} bytes"


def _too_big(credential: Credential, what: str, limit: int) -> StageError:
    return StageError(
        f"{credential.service} {what} is larger than {_size(limit)}; aborted the download"
    )


def _refuse_declared_size(
    response: httpx.Response, credential: Credential, what: str, limit: int
) -> None:
    """Refuse before reading when the server already says the body is over the cap."""
    declared = response.headers.get("content-length", "")
    if declared.strip().isdigit() and int(declared) > limit:
        raise _too_big(credential, what, limit)


def _read_capped(
    response: httpx.Response,
    credential: Credential,
    what: str,
    limit: int,
    ctx: CancelToken | None = None,
) -> bytes:
    return b"".join(_capped_chunks(response, credential, what, limit, ctx))


def _capped_chunks(
    response: httpx.Response,
    credential: Credential,
    what: str,
    limit: int,
    ctx: CancelToken | None,
) -> Iterator[bytes]:
    """The body in chunks, refused once it passes ``limit`` bytes (declared or streamed);
    ``ctx`` is checked after each chunk, so a cancel stops a slow body."""
    _refuse_declared_size(response, credential, what, limit)
    received = 0
    for chunk in response.iter_bytes(_CHUNK):
        received += len(chunk)
        if received > limit:
            raise _too_big(credential, what, limit)
        yield chunk
        if ctx is not None:
            ctx.check_cancelled()


def _error_body(response: httpx.Response) -> bytes:
    """The start of an error body (enough for its message); the rest is never downloaded."""
    data = b""
    for chunk in response.iter_bytes(_CHUNK):
        data += chunk
        if len(data) >= _ERROR_BODY_BYTES:
            break
    return data[:_ERROR_BODY_BYTES]


def _attempt_timeout(client: httpx.Client, ctx: CancelToken | None) -> httpx.Timeout:
    """The client's timeouts, each shortened to the time the ``ctx`` has left (at least 1 s)."""
    timeout = client.timeout
    if ctx is None:
        return timeout
    left = max(1.0, ctx.remaining())

    def cap(value: float | None) -> float:
        return left if value is None else min(value, left)

    return httpx.Timeout(
        connect=cap(timeout.connect),
        read=cap(timeout.read),
        write=cap(timeout.write),
        pool=cap(timeout.pool),
    )


def _pause(
    seconds: float, sleep: Sleep | None, ctx: CancelToken | None, credential: Credential, why: str
) -> None:
    if ctx is None:
        (sleep or time.sleep)(seconds)
        return
    ctx.check_cancelled()
    if seconds >= ctx.remaining():
        # Waiting would only run into the stage's time limit; the runner's retry comes sooner.
        raise StageError(
            f"{credential.service} {why} and the wait before the next try ({seconds:.0f} s) "
            "would pass this attempt's time limit; the job will retry this stage later"
        )
    if sleep is None:
        ctx.cancel.wait(seconds)  # a shutdown ends the wait at once
    else:
        sleep(seconds)
    ctx.check_cancelled()


def _send(
    client: httpx.Client,
    method: str,
    url: str,
    consume: Callable[[httpx.Response], T],
    *,
    credential: Credential,
    sleep: Sleep | None,
    policy: RetryPolicy,
    ctx: CancelToken | None,
    params: Mapping[str, Any] | None,
    json: Any,
    headers: Mapping[str, str] | None,
) -> T:
    """The one retry loop: send, sort the status by the rules above, hand a 2xx/3xx to
    ``consume`` (which reads the body). A transport error while ``consume`` reads is retried."""
    service = credential.service
    last_problem = ""
    for attempt in range(1, policy.attempts + 1):
        if ctx is not None:
            ctx.check_cancelled()
        wait = min(policy.backoff_max, policy.backoff_base * 2 ** (attempt - 1))
        try:
            with client.stream(
                method,
                url,
                params=params,
                json=json,
                headers=headers,
                timeout=_attempt_timeout(client, ctx),
            ) as response:
                status = response.status_code
                if status < 400:
                    return consume(response)
                body = _error_body(response)
                detail = _error_detail(body)
                text = body.decode("utf-8", "replace")
                bad_key = status == 400 and any(m in text for m in credential.bad_key_markers)
                if status in (401, 403) or bad_key:
                    raise FatalStageError(
                        f"{service} rejected the {credential.what} (HTTP {status}): "
                        f"check {credential.env_var}" + (f" ({detail})" if detail else "")
                    )
                if status not in RETRYABLE_STATUS:
                    raise FatalStageError(
                        f"{service} refused the request (HTTP {status}: {detail}); "
                        f"{credential.request_fix}"
                    )
                last_problem = f"returned HTTP {status}"
                requested = retry_after_seconds(response.headers.get("retry-after"))
                if requested is not None:
                    wait = min(requested, policy.retry_after_max)
        except httpx.TimeoutException:
            last_problem = "timed out"
        except httpx.InvalidURL as exc:
            raise FatalStageError(f"{service} URL {url!r} is not valid ({exc})") from None
        except httpx.RequestError as exc:
            # Refused connections, resets mid-body, broken gzip, redirect loops: all transient
            # as far as one request can tell.
            last_problem = f"could not be reached ({type(exc).__name__})"
        if attempt < policy.attempts:
            _pause(wait, sleep, ctx, credential, last_problem)
    raise StageError(
        f"{service} {last_problem} {policy.attempts} times in a row; "
        "the job will retry this stage later"
    )


def request_json(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    credential: Credential,
    sleep: Sleep | None = None,
    policy: RetryPolicy = RetryPolicy(),
    ctx: CancelToken | None = None,
    max_bytes: int = MAX_BODY_BYTES,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    headers: Mapping[str, str] | None = None,
) -> Any:
    """Send one request with the shared retry/error rules and return the decoded JSON body.

    ``sleep`` defaults to ``time.sleep``, or to waiting on ``ctx.cancel`` when a ``ctx`` is given.
    """

    def decode(response: httpx.Response) -> Any:
        body = _read_capped(response, credential, "response", max_bytes, ctx)
        try:
            return jsonlib.loads(body)
        except ValueError:
            raise StageError(
                f"{credential.service} returned a body that is not JSON "
                f"(HTTP {response.status_code}); the next attempt asks again"
            ) from None

    return _send(
        client,
        method,
        url,
        decode,
        credential=credential,
        sleep=sleep,
        policy=policy,
        ctx=ctx,
        params=params,
        json=json,
        headers=headers,
    )


def download(
    client: httpx.Client,
    url: str,
    dest: Path,
    *,
    credential: Credential,
    max_bytes: int,
    what: str = "download",
    method: str = "GET",
    sleep: Sleep | None = None,
    policy: RetryPolicy = RetryPolicy(),
    ctx: CancelToken | None = None,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    headers: Mapping[str, str] | None = None,
) -> int:
    """Stream a response body into ``dest`` with the shared rules; returns the bytes written.

    The body goes to a temporary sibling that is renamed to ``dest`` only when complete, so
    ``dest`` is whole or absent whatever happens (a cap, a cancel, a reset mid-body). A body over
    ``max_bytes``, or an empty one, is a ``StageError``; ``ctx`` is checked between chunks.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)

    def write(response: httpx.Response) -> int:
        tmp = temp_sibling(dest)
        received = 0
        try:
            with open(tmp, "wb") as handle:
                for chunk in _capped_chunks(response, credential, what, max_bytes, ctx):
                    received += len(chunk)
                    handle.write(chunk)
            if received == 0:
                raise StageError(f"{credential.service} {what} was empty")
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
        return received

    return _send(
        client,
        method,
        url,
        write,
        credential=credential,
        sleep=sleep,
        policy=policy,
        ctx=ctx,
        params=params,
        json=json,
        headers=headers,
    )
