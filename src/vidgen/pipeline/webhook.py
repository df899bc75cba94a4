"""``VIDGEN_WEBHOOK_URL``: POST the job's status body when a job completes, fails or is cancelled.

The body is the job's ``JobStatusResponse`` JSON (what ``vidgen status ID --json`` prints).
Delivery runs in a background thread with a few retries and backoff: a slow or failing hook
never blocks a job and never changes it (a failure is one warning in the worker log). Driven by
the runner events (``install`` subscribes a listener); the reaper and ``vidgen cancel`` of a
pending job, which happen outside a runner, call ``send`` themselves.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from vidgen import __version__
from vidgen.pipeline import signals
from vidgen.pipeline.report import status_body
from vidgen.schemas import PublicationResponse, render_json
from vidgen.settings import Settings
from vidgen.statuses import RunnerEvent
from vidgen.store import get_store
from vidgen.store.models import Event

log = logging.getLogger("vidgen.webhook")

ENDING_EVENTS = frozenset(
    {RunnerEvent.JOB_COMPLETED, RunnerEvent.JOB_FAILED, RunnerEvent.JOB_CANCELLED}
)
# Seconds before each retry: 4 tries over about 3.5 s; each try waits TIMEOUT at most.
RETRY_DELAYS: tuple[float, ...] = (0.5, 1.0, 2.0)
TIMEOUT = 5.0

_installed: dict[str, signals.Listener] = {}
_threads: list[threading.Thread] = []
_lock = threading.Lock()


def install(settings: Settings) -> None:
    """Post to ``settings.webhook_url`` (if set) for every job this process ends. Idempotent."""
    url = settings.webhook_url
    if not url or url in _installed:
        return

    def on_event(event: Event) -> None:
        if event.kind in ENDING_EVENTS:
            send(settings, event.job_id)

    _installed[url] = signals.subscribe(on_event)


def uninstall() -> None:
    for listener in _installed.values():
        signals.unsubscribe(listener)
    _installed.clear()


def send(settings: Settings, job_id: int) -> threading.Thread | None:
    """Deliver the job's status body in a background thread (None if no hook is set)."""
    if not settings.webhook_url:
        return None
    return _start(_deliver, (settings, job_id), f"vidgen-webhook-{job_id}")


def _start(target: Callable[..., bool], args: tuple[Any, ...], name: str) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, name=name, daemon=True)
    with _lock:
        _threads[:] = [t for t in _threads if t.is_alive()]
        _threads.append(thread)
    thread.start()
    return thread


def wait(timeout: float) -> None:
    """Give deliveries in flight up to ``timeout`` seconds (a short-lived CLI process)."""
    deadline = time.monotonic() + timeout
    with _lock:
        pending = list(_threads)
    for thread in pending:
        thread.join(max(0.0, deadline - time.monotonic()))


def _deliver(settings: Settings, job_id: int) -> bool:
    url = settings.webhook_url
    assert url
    try:
        body = status_body(get_store(settings), job_id)
    except Exception as exc:
        log.warning("webhook for job %s: could not read the job (%s); not sent", job_id, exc)
        return False
    if body is None:
        return False
    headers = {"X-Vidgen-Event": "job", "X-Vidgen-Job": str(job_id)}
    if _post(url, render_json(body).encode(), headers, f"job {job_id}"):
        log.info("webhook for job %s (%s) delivered", job_id, body.status)
        return True
    return False


def _post(url: str, data: bytes, headers: dict[str, str], what: str) -> bool:
    """POST ``data`` as JSON, retried with ``RETRY_DELAYS``; True once a 2xx answers. A
    delivery that never succeeds is one warning line naming ``what`` ("job 12"), which the
    failure leaves unchanged."""
    last = ""
    for attempt, delay in enumerate((0.0, *RETRY_DELAYS), start=1):
        if delay:
            time.sleep(delay)
        request = urllib.request.Request(
            url,
            data=data,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": f"vidgen/{__version__}",
                **headers,
                "X-Vidgen-Attempt": str(attempt),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                if 200 <= response.status < 300:
                    return True
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            last = str(getattr(exc, "reason", exc))
    log.warning(
        "webhook for %s not delivered after %d tries (%s); the %s is unchanged",
        what,
        len(RETRY_DELAYS) + 1,
        last,
        what.split()[0],
    )
    return False


def send_publication(settings: Settings, body: PublicationResponse) -> threading.Thread | None:
    """Deliver a publication's body (``vidgen publications --json`` shows the same) when it
    ended, with ``X-Vidgen-Event: publication`` telling it from a job's."""
    if not settings.webhook_url:
        return None
    name = f"vidgen-webhook-publication-{body.id}"
    return _start(_deliver_publication, (settings.webhook_url, body), name)


def _deliver_publication(url: str, body: PublicationResponse) -> bool:
    headers = {"X-Vidgen-Event": "publication", "X-Vidgen-Publication": str(body.id)}
    return _post(url, render_json(body).encode(), headers, f"publication {body.id}")
