"""The worker host behind ``vidgen worker``: the consumer, signals and the liveness thread.

``WorkerHost.start()`` recovers (fails lost jobs, repairs the queue, re-enqueues pending jobs),
records this worker as alive and starts the beat thread; ``run()`` runs the consumer until
SIGINT/SIGTERM, which cancel the running stages and requeue their jobs; ``stop()`` removes the
worker's row. The beat thread also reaps jobs whose worker died, follows a SQLite queue file
that was deleted or replaced, and every ``RECONCILE_SECONDS`` queues pending jobs that have no
queue message (``recovery.requeue_orphans``: the "no limbo" promise).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from vidgen.errors import InvalidInput, QueueUnavailable, StoreLost, VidgenError, one_line
from vidgen.pipeline import webhook
from vidgen.pipeline.execute import SHUTDOWN
from vidgen.pipeline.heartbeat import Reaper, new_owner_id, set_worker_id
from vidgen.pipeline.outage import Outage, outage_for
from vidgen.pipeline.queue import get_huey, sqlite_queue_path
from vidgen.pipeline.recovery import RECONCILE_SECONDS, requeue_orphans
from vidgen.settings import Settings
from vidgen.store import STORE_ERRORS, Store, beats, get_store, public_url

BEAT_SECONDS = 5.0
PRUNE_EVERY_SECONDS = 3600.0  # VIDGEN_PRUNE_AFTER: at start, then hourly
log = logging.getLogger("vidgen.worker")


class InFlight:
    """Job ids whose message this worker's slots took off the queue and have not finished
    running: between the dequeue and the claim such a job is ``pending`` with no message,
    and the reconcile must not mistake it for a lost one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: Counter[int] = Counter()

    def add(self, job_id: int) -> None:
        with self._lock:
            self._ids[job_id] += 1

    def discard(self, job_id: int) -> None:
        with self._lock:
            self._ids[job_id] -= 1
            if self._ids[job_id] <= 0:
                del self._ids[job_id]

    def __contains__(self, job_id: object) -> bool:
        with self._lock:
            return job_id in self._ids

    def __iter__(self) -> Iterator[int]:
        with self._lock:
            return iter(list(self._ids))

    def __len__(self) -> int:
        with self._lock:
            return len(self._ids)


def _job_id_of(task: Any) -> int | None:
    args = getattr(task, "args", None)
    try:
        return int(args[0]) if args else None
    except (TypeError, ValueError):
        return None


# Polling an idle queue that does not block (SQLite): from 0.1 s, growing by 15% a poll, to at
# most every second (Huey's consumer would back off to 10 s): a job queued after a quiet spell
# starts promptly, and one SQLite read a second costs nothing.
POLL_FIRST, POLL_MAX, POLL_BACKOFF = 0.1, 1.0, 1.15
TICK_SECONDS = 0.1  # how often the main thread looks for a signal
SCHEDULE_SECONDS = 1.0


class Consumer:
    """Runs queued jobs on ``slots`` threads until SIGINT or SIGTERM, on Huey's public API.

    Huey's own consumer (``huey_consumer``) keeps its signal handling in private methods and
    attributes that change between releases (huey 3.3 stops on ``_received_signal``, 3.5 on
    ``_signum``), and vidgen wants other behaviour anyway: SIGINT and SIGTERM both mean "cancel
    the running stages, requeue their jobs, exit"; a second signal exits at once. So this small
    loop uses only what every Huey vidgen allows has in public: ``dequeue``, ``execute``,
    ``read_schedule``, ``enqueue``, ``notify_interrupted_tasks`` and ``storage.blocking``.

    A slot takes no new message once a signal arrived (the runner of a job it holds sees
    ``SHUTDOWN`` and requeues it), and a queue it cannot read (Redis down) is one line per retry
    with its wait (``Outage``), backing off, not a traceback per poll.
    """

    def __init__(
        self, huey: Any, slots: int, outage: Outage, in_flight: InFlight | None = None
    ) -> None:
        self.huey, self.slots, self.outage = huey, slots, outage
        self.in_flight = in_flight if in_flight is not None else InFlight()
        self.stop_flag = threading.Event()  # set once the slots are to finish
        self._threads: list[threading.Thread] = []

    # -- one slot --------------------------------------------------------------------------

    def serve(self) -> None:
        """One slot's loop: take a message, run its job, until ``stop_flag``."""
        delay = POLL_FIRST
        while not self.stop_flag.is_set():
            if SHUTDOWN.is_set():
                self.stop_flag.wait(0.05)
                continue
            try:
                task = self.huey.dequeue()
            except Exception as exc:
                self.stop_flag.wait(self.outage.failed(exc))
                continue
            self.outage.recovered()
            if task is None:
                if not self.huey.storage.blocking:  # Redis waits inside dequeue; SQLite polls
                    self.stop_flag.wait(delay)
                    delay = min(delay * POLL_BACKOFF, POLL_MAX)
                continue
            delay = POLL_FIRST
            self.run_task(task)

    def run_task(self, task: Any) -> None:
        job_id = _job_id_of(task)
        if job_id is not None:
            self.in_flight.add(job_id)
        try:
            self.huey.execute(task)
        except Exception as exc:  # e.g. storing the (unused) result while Redis went away
            log.warning("message %s: %s", getattr(task, "id", "?"), one_line(exc))
        finally:
            if job_id is not None:
                self.in_flight.discard(job_id)

    # -- the main thread -------------------------------------------------------------------

    def enqueue_due(self) -> None:
        """Move due scheduled messages to the queue. vidgen sets no eta, so there are none
        unless an older vidgen left some; while the queue is unreachable the read is left to
        the slots' retries."""
        if self.outage.active:
            return
        try:
            for task in self.huey.read_schedule():
                self.huey.enqueue(task)
        except Exception as exc:
            self.outage.failed(exc)

    def start(self) -> None:
        for n in range(1, self.slots + 1):
            self._threads.append(self._start_slot(n))

    def _start_slot(self, n: int) -> threading.Thread:
        thread = threading.Thread(target=self._slot_main, name=f"vidgen-slot-{n}", daemon=True)
        thread.start()
        return thread

    def _slot_main(self) -> None:
        try:
            self.serve()
        except Exception:  # serve() catches what a job or the queue raises; this is a bug
            log.exception("worker slot %s stopped", threading.current_thread().name)

    def revive_slots(self) -> None:
        """Replace a slot thread that died, as Huey's health check did."""
        for i, thread in enumerate(self._threads):
            if not thread.is_alive() and not self.stop_flag.is_set():
                log.warning("%s stopped; starting it again", thread.name)
                self._threads[i] = self._start_slot(i + 1)

    def wait_for_shutdown(self) -> None:
        """Until ``SHUTDOWN`` (a signal): move due scheduled messages, revive dead slots."""
        next_tick = time.monotonic()
        while not SHUTDOWN.wait(TICK_SECONDS):
            if time.monotonic() >= next_tick:
                next_tick = time.monotonic() + SCHEDULE_SECONDS
                self.enqueue_due()
                self.revive_slots()

    def stop(self) -> None:
        """Let the slots finish the jobs they hold (their runners requeue them), then return."""
        self.stop_flag.set()
        for thread in self._threads:
            thread.join()
        self.huey.notify_interrupted_tasks()

    def on_signal(self, signum: int, frame: Any) -> None:
        if SHUTDOWN.is_set():
            os._exit(130)  # second signal: the user really wants out now
        SHUTDOWN.set()

    def run(self) -> None:
        """Serve until SIGINT/SIGTERM (main thread only: it installs the signal handlers)."""
        previous = {
            signum: signal.signal(signum, self.on_signal)
            for signum in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            self.start()
            self.wait_for_shutdown()
            self.stop()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def _file_identity(path: Path | None) -> tuple[int, int] | None:
    try:
        st = path.stat() if path is not None else None
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if st is not None else None


class Beat(threading.Thread):
    """Tells the store this worker is alive, fails jobs of workers that are not, follows the
    SQLite queue file if it is deleted or replaced while the worker runs, and queues pending
    jobs that have no queue message (``reconcile_if_due``)."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        worker_id: str,
        huey: Any = None,
        in_flight: InFlight | None = None,
    ) -> None:
        super().__init__(name="vidgen-worker-beat", daemon=True)
        self.store, self.settings, self.worker_id = store, settings, worker_id
        self.stop_event = threading.Event()
        self.huey = huey
        self.queue_path = sqlite_queue_path(settings) if huey is not None else None
        self.queue_identity = _file_identity(self.queue_path)
        self.next_prune = 0.0
        # Never this worker's own jobs, and not right after the store kept us waiting.
        self.reaper = Reaper(store, settings, worker_id)
        self.in_flight = in_flight if in_flight is not None else InFlight()
        # start() has just recovered (re-enqueued every pending job): the first look is due
        # one interval later.
        self.next_reconcile = time.monotonic() + RECONCILE_SECONDS
        self.store_lost: StoreLost | None = None
        # What stops the process once the store is lost (the worker host: a SIGTERM, its
        # usual clean shutdown); without it the beat only stops itself.
        self.on_store_lost: Callable[[], None] | None = None

    def check_store(self) -> bool:
        """False (and ``on_store_lost()``: the worker host's clean shutdown) once the store file
        this worker opened was deleted, emptied or replaced. SQLite keeps writing to an
        unlinked file: without this the worker "completed" jobs no store could see while new
        jobs waited in the new store with no one serving them."""
        try:
            self.store.check_still_there()
        except StoreLost as exc:
            self.store_lost = exc
            log.error("stopping: %s", exc)
            self.stop_event.set()
            if self.on_store_lost is not None:
                self.on_store_lost()
            return False
        return True

    def reconcile_if_due(self) -> None:
        """Queue pending jobs that have no queue message (a `generate` or `retry` killed
        between its store write and its enqueue, a message lost with the queue), every
        RECONCILE_SECONDS. A queue that cannot be reached is left to the consumer, which
        already reports the outage in one line per retry; the next look tries again."""
        if self.huey is None or SHUTDOWN.is_set() or time.monotonic() < self.next_reconcile:
            return
        self.next_reconcile = time.monotonic() + RECONCILE_SECONDS
        try:
            requeue_orphans(self.settings, self.worker_id, running_here=self.in_flight)
        except QueueUnavailable as exc:
            log.debug("reconcile: %s", exc)

    def prune_if_due(self) -> None:
        """Apply VIDGEN_PRUNE_AFTER: the same as ``vidgen prune --older-than`` it."""

        from vidgen.pipeline import retention

        if self.settings.prune_after is None or time.monotonic() < self.next_prune:
            return
        self.next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
        result = retention.prune(self.store, self.settings, self.settings.prune_after)
        if result.jobs:
            log.info("VIDGEN_PRUNE_AFTER=%s: %s", self.settings.prune_after, result.message)

    def follow_queue_file(self) -> None:
        """Reopen a queue file that was deleted or replaced, then re-enqueue pending jobs.

        Huey keeps one connection open: without this, a worker whose queue file was removed
        (by hand, or renamed by ``vidgen recover`` because it was corrupt) kept polling the
        old file while new jobs went into the new one and were never run.
        """
        from vidgen.pipeline.recovery import recover

        if self.queue_path is None or _file_identity(self.queue_path) == self.queue_identity:
            return
        log.warning("the queue file %s was deleted or replaced; reopening it", self.queue_path)
        self.huey.storage.close()
        self.huey.storage.initialize_schema()
        self.queue_identity = _file_identity(self.queue_path)
        log.warning("%s", recover(self.settings).message)

    def repair_damaged_queue(self) -> None:
        """Replace a damaged queue file at once and re-enqueue the pending jobs.

        A queue.db truncated under a running worker kept answering it from its open
        connection while the messages in it were gone, and every other process waited out
        its busy timeout on it; the jobs stayed pending until someone ran ``vidgen recover``.
        """
        from vidgen.pipeline.queue import queue_damage
        from vidgen.pipeline.recovery import recover

        if self.queue_path is None:
            return
        damage = queue_damage(self.settings)
        if damage is None:
            return
        # Moves it aside, reopens this worker's queue (the same Huey) on a new file and
        # re-enqueues the pending jobs.
        result = recover(self.settings)
        self.queue_identity = _file_identity(self.queue_path)
        log.warning(
            "the queue file %s was damaged (%s): %s", self.queue_path, damage, result.message
        )

    def beat(self) -> None:
        beats.beat(
            self.store,
            self.worker_id,
            hostname=socket.gethostname(),
            pid=os.getpid(),
            queue=self.settings.queue,
        )

    def run(self) -> None:
        interval = self.settings.worker_beat_seconds
        store_down = outage_for(f"the job store {public_url(self.settings.db_url)}", log)
        wait = interval
        while not self.stop_event.wait(wait):
            wait = interval
            if not self.check_store():
                return
            try:
                started = time.monotonic()
                self.beat()
                self.reaper.waited(time.monotonic() - started)
                store_down.recovered()
                self.repair_damaged_queue()
                self.follow_queue_file()
                self.prune_if_due()
                for job_id in self.reaper.reap():
                    log.warning("job %s: its worker stopped responding; marked failed", job_id)
                    webhook.send(self.settings, job_id)
                self.reconcile_if_due()
            except VidgenError as exc:  # a busy store: expected, one line is enough
                self.reaper.trouble()
                log.warning("worker heartbeat failed (%s); will retry", exc)
                wait = min(interval, 1.0)  # beat again as soon as the store answers
            except STORE_ERRORS as exc:  # store unreachable: back off, one line per retry
                self.reaper.trouble()
                wait = max(interval, store_down.failed(exc))
            except Exception:
                self.reaper.trouble()
                log.warning("worker heartbeat failed; will retry", exc_info=True)

    def remove(self) -> None:
        beats.remove(self.store, self.worker_id)


class WorkerHost:
    """One ``vidgen worker`` process: ``start()``, then ``run()`` until a signal, ``stop()``."""

    def __init__(self, settings: Settings, slots: int) -> None:
        self.settings = settings
        self.slots = slots
        self.worker_id = new_owner_id()
        set_worker_id(self.worker_id)  # this process's runs own their jobs under this id
        self.recovered_message = ""
        self._huey: Any = None
        self._beat: Beat | None = None
        self._in_flight = InFlight()
        self._lost: StoreLost | None = None

    def start(self) -> None:
        """Recover, register and start beating; VidgenError if the store or queue is unusable."""
        from vidgen.pipeline.recovery import recover

        if self.settings.queue == "immediate://":  # Huey's consumer refused it too
            raise InvalidInput(
                "VIDGEN_QUEUE_URL=immediate:// runs each job inside the command that queues it: "
                "there is nothing for a worker to serve; use sqlite:///path or redis://"
            )
        store = get_store(self.settings)
        self.recovered_message = recover(self.settings).message
        webhook.install(self.settings)
        self._huey = get_huey(self.settings)
        self._beat = Beat(store, self.settings, self.worker_id, self._huey, self._in_flight)
        self._beat.on_store_lost = lambda: os.kill(os.getpid(), signal.SIGTERM)
        try:
            self._beat.beat()
        except VidgenError as exc:  # a busy store: the beat thread tries again; jobs wait for it
            log.warning("%s", exc)
        self._beat.start()

    def run(self) -> None:
        queue_down = outage_for(f"the queue {self.settings.queue}", log)
        try:
            Consumer(self._huey, self.slots, queue_down, self._in_flight).run()
        finally:
            self.stop()

    @property
    def store_lost(self) -> StoreLost | None:
        """Why the worker stopped on its own: its store file was deleted or replaced."""
        return self._lost

    def stop(self) -> None:
        if self._beat is None:
            return
        self._lost = self._beat.store_lost
        self._beat.stop_event.set()
        # A busy store may refuse this; the row expires on its own (live_count reads last_seen).
        with contextlib.suppress(VidgenError):
            self._beat.remove()
        self._beat = None
        set_worker_id(None)
