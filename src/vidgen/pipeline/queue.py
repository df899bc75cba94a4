"""The task queue: Huey, configured from ``Settings.queue``.

- ``sqlite:///path`` (default): SqliteHuey in the home folder, no server.
- ``redis://host:port/db``: RedisHuey, for workers on several machines (``redis`` extra).
- ``immediate://``: tasks run inline at enqueue time (Huey's immediate mode), for logic tests.

The queue only carries job ids. The store is the source of truth: a lost or duplicated message
cannot lose or double-run a job (claims are atomic; every worker re-enqueues pending jobs that
have no message within ``recovery.RECONCILE_BOUND_SECONDS``, and ``recover`` does it at once).
"""

from __future__ import annotations

import logging
import os
import struct
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidgen.errors import InvalidInput, QueueDamaged, QueueUnavailable, VidgenError
from vidgen.settings import Settings, load_settings

if TYPE_CHECKING:
    from huey import Huey

log = logging.getLogger("vidgen.queue")
TASK_NAME = "vidgen.run_job"
# Uploads (vidgen.pipeline.upload) ride the same queue and workers; their argument is
# "publication:<id>", never a bare number, so nothing that reads job ids mistakes one for a job.
PUBLICATION_TASK = "vidgen.run_publication"
_hueys: dict[str, Huey] = {}
_tasks: dict[str, Any] = {}
_publication_tasks: dict[str, Any] = {}


_SQLITE_MAGIC = b"SQLite format 3\x00"
_WAL_MAGICS = (0x377F0682, 0x377F0683)
_WAL_HEADER, _WAL_FRAME_HEADER = 32, 24


# Descriptors kept open for the damage checks, by path and file identity. Closing *any*
# descriptor of a file drops every POSIX lock this process holds on it, SQLite's included: a
# worker that opened and closed its own queue.db-shm to look at it made its SQLite connection
# lose its locks, and the next process to close the queue deleted the WAL under it (the
# worker then took messages from a deleted WAL nobody else saw). So they are never closed;
# a new one is opened only when the file was replaced.
_fds: dict[tuple[str, int, int], int] = {}


def _read(path: Path, size: int) -> bytes | None:
    try:
        st = os.stat(path)
        key = (str(path), st.st_dev, st.st_ino)
        fd = _fds.get(key)
        if fd is None:
            fd = _fds[key] = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        return os.pread(fd, size, 0)
    except FileNotFoundError:
        return None


def _file_damage(path: Path) -> str | None:
    """One look at the queue's three files, without SQLite (which would wait on its locks).

    Damage SQLite itself reports only as "database is locked" after the whole busy timeout
    (a truncated write-ahead log that the shared index still counts frames in), or not at all
    until a message is lost (a truncated main file), is visible from the sizes and headers.
    """
    main = _read(path, 100)
    wal_path, shm_path = Path(f"{path}-wal"), Path(f"{path}-shm")
    if main is None:
        return None  # no queue yet (or deleted): SQLite makes a new one
    if main and (len(main) < 100 or not main.startswith(_SQLITE_MAGIC)):
        return "not an SQLite database (bad header)"
    main_size = os.stat(path).st_size
    if main:
        page = struct.unpack(">H", main[16:18])[0]
        page = 65536 if page == 1 else page
        counter, valid_for = main[24:28], main[92:96]
        pages = struct.unpack(">I", main[28:32])[0]
        if page and main_size % page:
            return f"truncated ({main_size} bytes is not a whole number of {page}-byte pages)"
        if counter == valid_for and pages * page > main_size:
            return f"truncated ({main_size} of {pages * page} bytes)"
    wal = _read(wal_path, _WAL_HEADER)
    wal_size = os.stat(wal_path).st_size if wal is not None else 0
    if wal and (len(wal) < _WAL_HEADER or struct.unpack(">I", wal[:4])[0] not in _WAL_MAGICS):
        return "its write-ahead log is not a write-ahead log"
    shm = _read(shm_path, 136)
    if shm is None or len(shm) < 136 or shm[:48] != shm[48:96] or not shm[12]:
        return None  # no (or no settled) shared index: SQLite rebuilds it from the files
    # The shared WAL index, native byte order (it is never copied between machines).
    mx_frame, n_backfill = struct.unpack("=I", shm[16:20])[0], struct.unpack("=I", shm[96:100])[0]
    sz = struct.unpack("=H", shm[14:16])[0]
    wal_page = (sz & 0xFE00) | ((sz & 0x0001) << 16)
    needed = _WAL_HEADER + mx_frame * (_WAL_FRAME_HEADER + wal_page) if mx_frame else 0
    if wal_size < needed:
        return f"its write-ahead log was truncated ({wal_size} of {needed} bytes)"
    if n_backfill and main_size == 0:
        return "truncated to 0 bytes"
    return None


def queue_damage(settings: Settings) -> str | None:
    """Why the SQLite queue file is damaged, or None (also for Redis and immediate queues).

    A suspicion is looked at twice, 0.2 s apart: a checkpoint or WAL reset by another
    process can make the files disagree for an instant.
    """
    path = sqlite_queue_path(settings)
    if path is None:
        return None
    try:
        if _file_damage(path) is None:
            return None
        time.sleep(0.2)
        return _file_damage(path)
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"


def _run_job_task(job_id: int) -> None:
    """The one Huey task. It returns nothing on purpose: a job's outcome is in the job store,
    and Huey writes any other return value into the queue (one more write per job, a row in
    queue.db nothing ever reads)."""
    from vidgen.errors import NotFound
    from vidgen.pipeline.runner import JobRunner

    settings = load_settings()
    runner = JobRunner(job_id, settings, requeue=lambda jid: enqueue_job(settings, jid))
    try:
        runner.run()
    except NotFound:
        # A message for a job that is gone: a `generate` whose own enqueue failed removed it
        # after a worker had queued it again, or `prune` removed it. Nothing to run.
        log.info("job %s no longer exists; message dropped", job_id)


def _run_publication_task(ref: str) -> None:
    """The upload task: returns nothing, like the job task (the outcome is in the store)."""
    from vidgen.pipeline.upload import run_publication

    run_publication(load_settings(), int(ref.removeprefix("publication:")))


def enqueue_publication(settings: Settings, pub_id: int) -> str:
    """Queue publication ``pub_id``'s upload for the workers; returns the task id."""
    check_queue(settings)
    try:
        get_huey(settings)
        result = _publication_tasks[settings.queue](f"publication:{pub_id}")
    except VidgenError:
        raise
    except Exception as exc:
        raise _error(settings, f"could not take publication {pub_id}", exc) from exc
    return str(result.id) if result is not None else ""


def sqlite_queue_path(settings: Settings) -> Path | None:
    url = settings.queue
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def _import_huey(url: str) -> None:
    """Import huey, leaving out the clients of the storages vidgen does not use.

    huey.storage imports redis and psycopg whenever they are installed (the redis / postgres
    extras, or a dev install): for a SQLite queue that cost about 20 MB of memory and 0.25 s of
    start-up per process for nothing (vidgen never keeps a queue in PostgreSQL; the job store
    imports psycopg itself when it needs it). A process keeps the queue URL it started with.
    """
    if "huey" in sys.modules:
        return
    skipped = ("psycopg",) if _is_redis(url) else ("redis", "psycopg")
    unused = [name for name in skipped if name not in sys.modules]
    for name in unused:
        sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` fail fast
    try:
        import huey  # noqa: F401
    finally:
        for name in unused:
            del sys.modules[name]


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
    _publication_tasks[url] = huey.task(name=PUBLICATION_TASK)(_run_publication_task)
    _hueys[url] = huey
    return huey


def reset_queues() -> None:
    _hueys.clear()
    _tasks.clear()
    _publication_tasks.clear()


def check_queue(settings: Settings) -> None:
    """QueueDamaged at once if the SQLite queue file is damaged (instead of a lock wait)."""
    damage = queue_damage(settings)
    if damage is not None:
        path = sqlite_queue_path(settings)
        raise QueueDamaged(
            f"the queue file {path} is damaged: {damage}; a running worker replaces it within "
            f"{settings.worker_beat_seconds:g} s, or run 'vidgen recover' (pending jobs are kept)"
        )


def _error(settings: Settings, doing: str, exc: Exception) -> QueueUnavailable:
    text = " ".join(str(exc).split())
    damaged = any(word in text for word in ("malformed", "not a database", "disk image"))
    cls = QueueDamaged if damaged and sqlite_queue_path(settings) is not None else QueueUnavailable
    return cls(f"the queue {settings.queue} {doing} ({text}); {_fix_hint(settings, text)}")


def enqueue_job(settings: Settings, job_id: int) -> str:
    """Put ``job_id`` on the queue; returns the task id. QueueUnavailable if the queue is broken."""
    check_queue(settings)
    try:
        get_huey(settings)
        result = _tasks[settings.queue](job_id)
    except VidgenError:
        raise
    except Exception as exc:
        raise _error(settings, f"could not take job {job_id}", exc) from exc
    return str(result.id) if result is not None else ""


def queued_job_ids(settings: Settings) -> set[int]:
    """Job ids of the messages waiting in the queue, due now or scheduled (QueueUnavailable if
    unreadable, QueueDamaged if the SQLite file is damaged). A message a consumer has taken
    but not yet run is in neither: the caller must allow for that window."""
    check_queue(settings)
    try:
        huey = get_huey(settings)
        tasks = [*huey.pending(), *huey.scheduled()]
        return {
            int(task.args[0])
            for task in tasks
            if task.args and getattr(task, "name", TASK_NAME) != PUBLICATION_TASK
        }
    except VidgenError:
        raise
    except Exception as exc:
        raise _error(settings, "is unreadable", exc) from exc


def _fix_hint(settings: Settings, text: str = "") -> str:
    if sqlite_queue_path(settings) is not None:
        if "locked" in text:  # busy, not broken: recover would wait on the same lock
            return "another process held the queue file past VIDGEN_BUSY_TIMEOUT"
        return "run 'vidgen recover' to repair it"
    return "check that the server is running and reachable, or fix VIDGEN_QUEUE_URL"


def replace_broken(settings: Settings) -> bool:
    """Set a damaged SQLite queue file aside and start a new one; False if not SQLite.

    The broken file is kept for inspection (``queue.db.corrupt-<time>``); the store knows which
    jobs still need running, so ``recover`` re-enqueues them into the new file.
    """
    path = sqlite_queue_path(settings)
    if path is None:
        return False
    # This process's connection is closed before the files move and opened again after, on
    # the new file: the same Huey (a worker's consumer polls it) then follows the new queue.
    # A second connection opened on the new file while the old one was still open on the
    # renamed inode lost its writes (messages it had taken stayed in the new file).
    huey = _hueys.get(settings.queue)
    if huey is not None:
        huey.storage.close()
    stamp = int(time.time())
    for suffix in ("", "-wal", "-shm"):
        part = Path(f"{path}{suffix}")
        if part.exists():
            os.replace(part, part.with_name(f"{part.name}.corrupt-{stamp}"))
    if huey is not None:
        huey.storage.initialize_schema()
    return True
