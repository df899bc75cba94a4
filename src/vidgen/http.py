"""One JSON-over-HTTP call with the retry and error rules every network provider shares.

Rules (the same for trends, LLMs and anything else that talks to an API):

- explicit connect/read timeouts, never httpx's default of "wait forever on a slow body";
- 429, 408 and 5xx are retried a bounded number of times, waiting ``Retry-After`` when the server
  sends it (capped, so a hostile or buggy header cannot park a worker for an hour), otherwise an
  exponential backoff; when the attempts are spent the failure is a retryable ``StageError`` so the
  runner's own stage retries still apply;
- 401/403 mean the credential is wrong: ``FatalStageError`` naming the env var to fix, because no
  retry can repair a bad key;
- other 4xx mean the request itself is wrong (unknown model, bad parameter): also fatal;
- connection errors and timeouts are retried like 5xx.

Sleeping is injectable so tests exercise the retry path without waiting.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from vidgen.errors import FatalStageError, StageError

Sleep = Callable[[float], None]

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504, 520, 522, 524, 529})


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


def _error_detail(response: httpx.Response) -> str:
    """A short, single-line excerpt of the API's own error message, for the user."""
    message = ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            message = str(err.get("message") or err.get("type") or "")
        elif isinstance(err, str):
            message = err
        if not message:
            message = str(body.get("message") or "")
    if not message:
        message = response.text
    # Google embeds HTML links in messages; a terminal line wants plain text.
    message = " ".join(re.sub(r"<[^>]+>", "", message).split())
    return message[:200]


def request_json(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    credential: Credential,
    sleep: Sleep = time.sleep,
    policy: RetryPolicy = RetryPolicy(),
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    headers: Mapping[str, str] | None = None,
) -> Any:
    """Send one request with the shared retry/error rules and return the decoded JSON body."""
    service = credential.service
    last_problem = ""
    for attempt in range(1, policy.attempts + 1):
        wait = min(policy.backoff_max, policy.backoff_base * 2 ** (attempt - 1))
        try:
            response = client.request(method, url, params=params, json=json, headers=headers)
        except httpx.TimeoutException:
            last_problem = "timed out"
        except httpx.TransportError as exc:
            last_problem = f"could not be reached ({type(exc).__name__})"
        else:
            status = response.status_code
            bad_key = status == 400 and any(m in response.text for m in credential.bad_key_markers)
            if status in (401, 403) or bad_key:
                detail = _error_detail(response)
                raise FatalStageError(
                    f"{service} rejected the {credential.what} (HTTP {status}): "
                    f"check {credential.env_var}" + (f" ({detail})" if detail else "")
                )
            if status in RETRYABLE_STATUS:
                last_problem = f"returned HTTP {status}"
                requested = retry_after_seconds(response.headers.get("retry-after"))
                if requested is not None:
                    wait = min(requested, policy.retry_after_max)
            elif status >= 400:
                raise FatalStageError(
                    f"{service} refused the request (HTTP {status}: {_error_detail(response)}); "
                    "fix the request settings (model, region, actor) and retry"
                )
            else:
                try:
                    return response.json()
                except ValueError:
                    raise StageError(
                        f"{service} returned a body that is not JSON (HTTP {status}); "
                        "the next attempt asks again"
                    ) from None
        if attempt < policy.attempts:
            sleep(wait)
    raise StageError(
        f"{service} {last_problem} {policy.attempts} times in a row; "
        "the job will retry this stage later"
    )
