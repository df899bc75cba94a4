"""``vidgen worker``: the Huey consumer that runs queued jobs until stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vidgen.cli.output import fail, load_settings_or_fail
from vidgen.errors import VidgenError
from vidgen.outage import Outage, one_line

if TYPE_CHECKING:
    import logging
    from pathlib import Path

    from vidgen.settings import Settings
    from vidgen.store import Store


def _hostname() -> str:
    import socket  # here, not at the top: `vidgen --help` imports this module

    return socket.gethostname()


def _make_consumer(huey: Any, workers: int, outage: Outage) -> Any:
    from huey.consumer import Consumer, Scheduler, Worker

    from vidgen.runner import SHUTDOWN

    class VidgenWorker(Worker):  # type: ignore[misc]
        """Huey's worker loop, with two changes.

        It takes no new message once a signal arrived: Huey's main loop notices the signal
        only on its next tick (0.1 s); without this, a slot whose job was just requeued would
        dequeue and start the next job meanwhile. And a queue it cannot read (Redis down)
        is one line per retry with its wait, backing off, not a traceback per poll.
        """

        def loop(self, now: Any = None) -> None:
            if SHUTDOWN.is_set():
                self.stop_flag.wait(0.05)
                return
            try:
                task = self.huey.dequeue()
            except Exception as exc:
                self.stop_flag.wait(outage.failed(exc))
                return
            outage.recovered()
            if task is None:
                if not self.huey.storage.blocking:
                    self.sleep()
                return
            self.delay = self.default_delay
            try:
                self.huey.execute(task, now)
            except Exception as exc:  # e.g. storing the (unused) result while Redis went away
                self._logger.warning("message %s: %s", task.id, one_line(exc))

    class VidgenScheduler(Scheduler):  # type: ignore[misc]
        """vidgen schedules nothing, but Huey's scheduler reads the schedule every second:
        while the queue is unreachable that read is left to the workers' retries."""

        def loop(self, now: Any = None) -> None:
            if outage.active:
                self.stop_flag.wait(self.interval)
                return
            try:
                for task in self.huey.read_schedule(now):  # vidgen sets no eta: always empty
                    self.huey.enqueue(task)
            except Exception as exc:
                outage.failed(exc)
            self.stop_flag.wait(self.interval)

    class VidgenConsumer(Consumer):  # type: ignore[misc]
        """SIGINT and SIGTERM both mean: cancel running stages, requeue their jobs, exit."""

        worker_class = VidgenWorker
        scheduler_class = VidgenScheduler

        def _set_signal_handlers(self) -> None:
            signal.signal(signal.SIGINT, self._handle_signal)
            signal.signal(signal.SIGTERM, self._handle_signal)

        def _handle_signal(self, signum: int, frame: Any) -> None:
            if SHUTDOWN.is_set():
                os._exit(130)  # second signal: the user really wants out now
            SHUTDOWN.set()
            self._signum = signum
            self._restart, self._graceful = False, True

    # An idle queue is polled at most every second (Huey would back off to 10 s): a job queued
    # after a quiet spell starts promptly, and one SQLite read a second costs nothing.
    return VidgenConsumer(
        huey, workers=workers, worker_type="thread", periodic=False, max_delay=1.0
    )


def _file_identity(path: Path | None) -> tuple[int, int] | None:
    try:
        st = path.stat() if path is not None else None
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if st is not None else None


class _Beat(threading.Thread):
    """Tells the store this worker is alive, fails jobs of workers that are not, and follows
    the SQLite queue file if it is deleted or replaced while the worker runs."""

    def __init__(self, store: Store, settings: Settings, worker_id: str, huey: Any = None) -> None:
        from vidgen.queue import sqlite_queue_path

        super().__init__(name="vidgen-worker-beat", daemon=True)
        self.store, self.settings, self.worker_id = store, settings, worker_id
        self.stop_event = threading.Event()
        self.huey = huey
        self.queue_path = sqlite_queue_path(settings) if huey is not None else None
        self.queue_identity = _file_identity(self.queue_path)

    def follow_queue_file(self, log: logging.Logger) -> None:
        """Reopen a queue file that was deleted or replaced, then re-enqueue pending jobs.

        Huey keeps one connection open: without this, a worker whose queue file was removed
        (by hand, or renamed by ``vidgen recover`` because it was corrupt) kept polling the
        old file while new jobs went into the new one and were never run.
        """
        from vidgen import service

        if self.queue_path is None or _file_identity(self.queue_path) == self.queue_identity:
            return
        log.warning("the queue file %s was deleted or replaced; reopening it", self.queue_path)
        self.huey.storage.close()
        self.huey.storage.initialize_schema()
        self.queue_identity = _file_identity(self.queue_path)
        log.warning("%s", service.recover(self.settings).message)

    def repair_damaged_queue(self, log: logging.Logger) -> None:
        """Replace a damaged queue file at once and re-enqueue the pending jobs.

        A queue.db truncated under a running worker kept answering it from its open
        connection while the messages in it were gone, and every other process waited out
        its busy timeout on it; the jobs stayed pending until someone ran ``vidgen recover``.
        """
        from vidgen import service
        from vidgen.queue import queue_damage

        if self.queue_path is None:
            return
        damage = queue_damage(self.settings)
        if damage is None:
            return
        # Moves it aside, reopens this worker's queue (the same Huey) on a new file and
        # re-enqueues the pending jobs.
        result = service.recover(self.settings)
        self.queue_identity = _file_identity(self.queue_path)
        log.warning(
            "the queue file %s was damaged (%s): %s", self.queue_path, damage, result.message
        )

    def beat(self) -> None:
        from vidgen.models import WorkerBeat, utcnow

        with self.store.write() as session:
            row = session.get(WorkerBeat, self.worker_id)
            if row is None:
                row = WorkerBeat(
                    id=self.worker_id,
                    hostname=_hostname(),
                    pid=os.getpid(),
                    queue=self.settings.queue,
                )
            row.last_seen = utcnow()
            session.add(row)

    def run(self) -> None:
        import logging

        from sqlalchemy.exc import SQLAlchemyError

        from vidgen.outage import outage_for
        from vidgen.runner import reap_expired_leases
        from vidgen.store import public_url

        log = logging.getLogger("vidgen.worker")
        interval = self.settings.worker_beat_seconds
        store_down = outage_for(f"the job store {public_url(self.settings.db_url)}", log)
        wait = interval
        while not self.stop_event.wait(wait):
            wait = interval
            try:
                self.beat()
                store_down.recovered()
                self.repair_damaged_queue(log)
                self.follow_queue_file(log)
                for job_id in reap_expired_leases(self.store):
                    log.warning("job %s: its worker stopped responding; marked failed", job_id)
            except VidgenError as exc:  # a busy store: expected, one line is enough
                log.warning("worker heartbeat failed (%s); will retry", exc)
            except (SQLAlchemyError, OSError) as exc:  # store unreachable: back off, one line
                wait = max(interval, store_down.failed(exc))
            except Exception:
                log.warning("worker heartbeat failed; will retry", exc_info=True)

    def remove(self) -> None:
        from sqlalchemy import delete
        from sqlmodel import col

        from vidgen.models import WorkerBeat

        with self.store.write() as session:
            session.execute(delete(WorkerBeat).where(col(WorkerBeat.id) == self.worker_id))


def worker(
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=1, max=64, help="Jobs to run at once.")
    ] = 1,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each task.")] = False,
) -> None:
    """Run queued jobs until SIGINT/SIGTERM (which requeue the jobs in progress)."""
    import logging

    from rich.logging import RichHandler

    from vidgen import service
    from vidgen.queue import get_huey
    from vidgen.runner import new_owner_id
    from vidgen.store import get_store

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(show_path=False)],
    )
    logging.getLogger("vidgen").setLevel(logging.INFO)
    settings = load_settings_or_fail()
    try:
        store = get_store(settings)
        recovered = service.recover(settings)
        huey = get_huey(settings)
    except VidgenError as exc:
        fail(exc)
    worker_id = new_owner_id()
    beat = _Beat(store, settings, worker_id, huey)
    try:
        beat.beat()
    except VidgenError as exc:  # a busy store: the beat thread tries again; jobs wait for it
        logging.getLogger("vidgen.worker").warning("%s", exc)
    beat.start()
    typer.echo(
        f"vidgen worker {worker_id}: {workers} slot(s) on {settings.queue}; "
        f"{recovered.message}. Stop with Ctrl-C or SIGTERM.",
        err=True,
    )
    from vidgen.outage import outage_for

    queue_down = outage_for(f"the queue {settings.queue}", logging.getLogger("vidgen.worker"))
    try:
        _make_consumer(huey, workers, queue_down).run()
    finally:
        beat.stop_event.set()
        # A busy store may refuse this; the row expires on its own (live_workers reads last_seen).
        with contextlib.suppress(VidgenError):
            beat.remove()
    typer.echo("vidgen worker stopped; jobs in progress were put back in the queue.", err=True)


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
