"""What the faces that host the runtime need: the store opened up front, the themes folder,
dashboard sessions, health, the worker and follow runtimes, the worker log, webhook flushing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from vidgen.errors import InvalidInput
from vidgen.schemas import (
    HealthResponse,
)
from vidgen.service._handles import (
    beats,
    get_store,
    public_url,
)
from vidgen.settings import Settings

if TYPE_CHECKING:
    from vidgen.pipeline.consumer import WorkerHost
    from vidgen.pipeline.follow import Following
    from vidgen.pipeline.worklog import WorkerLog


def serving_workers(settings: Settings) -> int:
    """Live workers (a heartbeat within the lease) that read this store's queue."""
    within = max(10.0, settings.lease_seconds)
    return beats.live_count(get_store(settings), within, queue=settings.queue)


def no_worker_hint(settings: Settings, job_id: int) -> str:
    return (
        f"no worker is serving {settings.home} (queue {public_url(settings.queue)}), so job "
        f"{job_id} waits until one starts: run 'vidgen worker' (or 'make worker' in the "
        "checkout), or add the @reboot line from the README's cron section"
    )


def flush_webhooks(timeout: float = 10.0) -> None:
    """Let webhook deliveries this process started finish (a CLI process is about to exit)."""
    import sys

    if "vidgen.pipeline.webhook" in sys.modules:  # nothing was sent if it was never loaded
        from vidgen.pipeline import webhook

        webhook.wait(timeout)


def worker_log(fmt: str, verbose: bool) -> WorkerLog:
    """The worker's event log (``vidgen worker --log-format text|json``), installed."""
    from vidgen.pipeline.worklog import WorkerLog

    if fmt not in ("text", "json"):
        raise InvalidInput(f"unknown log format {fmt!r}: use text or json")
    return WorkerLog("json" if fmt == "json" else "text", verbose).install()


def open_store(settings: Settings) -> None:
    """Open the job store now: a store that cannot open fails here, not in every request."""
    get_store(settings)


def themes_folder(settings: Settings) -> Path:
    """The folder whose theme files HTTP ``config_path`` (and the dashboard) may name, created
    if missing so the user is not sent to a folder that does not exist."""
    root = settings.themes_root
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        var = "VIDGEN_THEMES_DIR" if settings.themes_dir is not None else "VIDGEN_HOME"
        raise InvalidInput(
            f"cannot create the themes folder {root} ({exc.strerror}); fix {var}"
        ) from None
    return root


# A dashboard sign-in lasts this long (then the page asks for the token again).
SESSION_SECONDS = 12 * 3600


def _token_fingerprint(token: str) -> str:
    import hashlib
    import hmac

    return hmac.new(token.encode(), b"vidgen dashboard session v2", hashlib.sha256).hexdigest()


def start_session(settings: Settings) -> tuple[str, int]:
    """A new dashboard session after the token was checked: (cookie value, lifetime in s)."""
    from vidgen.store import sessions

    assert settings.api_token, "sessions exist only on a server with a token"
    value = sessions.create(
        get_store(settings), _token_fingerprint(settings.api_token), SESSION_SECONDS
    )
    return value, SESSION_SECONDS


def session_ok(settings: Settings, value: str) -> bool:
    """True if ``value`` is a live session opened with the current token."""
    from vidgen.store import sessions

    if not settings.api_token or not value:
        return False
    return sessions.valid(get_store(settings), value, _token_fingerprint(settings.api_token))


def end_session(settings: Settings, value: str) -> None:
    """Sign-out: the session ``value`` ends here, not only in the browser."""
    from vidgen.store import sessions

    sessions.revoke(get_store(settings), value)


def health(settings: Settings) -> HealthResponse:
    from vidgen import __version__
    from vidgen.store import public_url

    # Shown unauthenticated: never a password from VIDGEN_DATABASE_URL/QUEUE_URL.
    live = serving_workers(settings)
    return HealthResponse(
        version=__version__,
        store=public_url(settings.db_url),
        queue=public_url(settings.queue),
        workers=live,
        worker_message=f"{live} worker(s) running"
        if live
        else "no worker running: queued jobs wait until one starts ('vidgen worker')",
    )


def worker_host(settings: Settings, slots: int) -> WorkerHost:
    """The worker runtime behind ``vidgen worker`` (see ``vidgen.pipeline.consumer``)."""
    from vidgen.pipeline.consumer import WorkerHost

    return WorkerHost(settings, slots)


def follow_job(settings: Settings, job_id: int, *, run_here: bool) -> Following:
    """The runtime side of ``generate --wait`` / ``status --watch`` (``vidgen.pipeline.follow``)."""
    from vidgen.pipeline.follow import Following

    return Following(settings, job_id, run_here=run_here)
