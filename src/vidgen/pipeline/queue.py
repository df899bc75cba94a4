"""The task queue: Huey, configured from ``Settings.queue``.

- ``sqlite:///path`` (default): SqliteHuey in the home folder, no server.
- ``redis://host:port/db``: RedisHuey, for workers on several machines (``redis`` extra).
- ``immediate://``: tasks run inline at enqueue time (Huey's immediate mode), for logic tests.

The queue only carries job ids. The store is the source of truth: a lost or duplicated message
cannot lose or double-run a job (claims are atomic; ``recover`` re-enqueues pending jobs).
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidgen.errors import InvalidInput, VidgenError
from vidgen.settings import Settings, load_settings

if TYPE_CHECKING:
    from huey import Huey

log = logging.getLogger("vidgen.queue")
TASK_NAME = "vidgen.run_job"
_hueys: dict[str, Huey] = {}
_tasks: dict[str, Any] = {}


class QueueUnavailable(VidgenError):
    """The queue could not accept or hand out a message."""


def _run_job_task(job_id: int) -> str | None:
    from vidgen.pipeline.runner import JobRunner

    settings = load_settings()
    status = JobRunner(job_id, settings, requeue=lambda jid: enqueue_job(settings, jid)).run()
    return status.value if status is not None else None


def sqlite_queue_path(settings: Settings) -> Path | None:
    url = settings.queue
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def _import_huey(url: str) -> None:
    """Import huey, leaving the redis client out unless the queue is Redis.

    huey.storage imports redis whenever it is installed (the redis extra, or a dev install),
    which cost every SQLite-queue process about 20 MB of memory and 60 ms of start-up for
    nothing. A process keeps the queue URL it started with, so it never needs both.
    """
    if "huey" in sys.modules or "redis" in sys.modules or _is_redis(url):
        return
    sys.modules["redis"] = None  # type: ignore[assignment]  # makes `import redis` fail fast
    try:
        import huey  # noqa: F401
    finally:
        del sys.modules["redis"]


def _is_redis(url: str) -> bool:
    return url.startswith(("redis://", "rediss://"))


def get_huey(settings: Settings) -> Huey:
    url = settings.queue
    huey = _hueys.get(url)
    if huey is not None:
        return huey
    _import_huey(url)
    if url == "immediate://":
        from huey import MemoryHuey

        huey = MemoryHuey("vidgen", immediate=True)
    elif url.startswith("sqlite:///"):
        from huey import SqliteHuey

        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey("vidgen", filename=str(path), timeout=settings.busy_timeout)
    elif _is_redis(url):
        from huey import RedisHuey, storage

        if storage.Redis is None:
            raise InvalidInput(
                "VIDGEN_QUEUE_URL is redis:// but the redis package is missing (or this process "
                "already opened a non-Redis queue): pip install 'vidgen[redis]'"
            )
        huey = RedisHuey("vidgen", url=url)
    else:
        raise InvalidInput(
            f"VIDGEN_QUEUE_URL={url!r} is not supported: use sqlite:///path, redis://host:port/db "
            "or immediate://"
        )
    _tasks[url] = huey.task(name=TASK_NAME)(_run_job_task)
    _hueys[url] = huey
    return huey


def reset_queues() -> None:
    _hueys.clear()
    _tasks.clear()


def enqueue_job(settings: Settings, job_id: int) -> str:
    """Put ``job_id`` on the queue; returns the task id. QueueUnavailable if the queue is broken."""
    try:
        get_huey(settings)
        result = _tasks[settings.queue](job_id)
    except VidgenError:
        raise
    except Exception as exc:
        raise QueueUnavailable(
            f"the queue {settings.queue} could not take job {job_id} ({exc}); {_fix_hint(settings)}"
        ) from exc
    return str(result.id) if result is not None else ""


def replace_broken(settings: Settings) -> bool:
    """Set an unreadable SQLite queue file aside and start a new one; False if not SQLite.

    The broken file is kept for inspection; the store knows which jobs still need running, so
    ``recover`` re-enqueues them into the new file.
    """
    path = sqlite_queue_path(settings)
    if path is None:
        return False
    for suffix in ("", "-wal", "-shm"):
        part = Path(f"{path}{suffix}")
        if part.exists():
            part.rename(part.with_name(f"{part.name}.corrupt-{int(time.time())}"))
    reset_queues()
    return True


def queued_job_ids(settings: Settings) -> set[int]:
    """Job ids of the messages waiting in the queue (QueueUnavailable if unreadable)."""
    try:
        huey = get_huey(settings)
        return {int(task.args[0]) for task in huey.pending() if task.args}
    except VidgenError:
        raise
    except Exception as exc:
        raise QueueUnavailable(
            f"the queue {settings.queue} is unreadable ({exc}); {_fix_hint(settings)}"
        ) from exc


def _fix_hint(settings: Settings) -> str:
    if sqlite_queue_path(settings) is not None:
        return "run 'vidgen recover' to repair it"
    return "check that the server is running and reachable, or fix VIDGEN_QUEUE_URL"
