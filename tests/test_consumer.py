"""vidgen's consumer loop (``vidgen.pipeline.consumer.Consumer``) on a real SQLite Huey queue.

It stands on Huey's public API only, so these tests run it in this process against whichever
huey is installed: ``make test`` runs them (and the real-worker SIGTERM tests) a second time on
the lowest huey ``pyproject.toml`` allows (``make test-huey-lowest``).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from vidgen.pipeline.consumer import Consumer, InFlight
from vidgen.pipeline.execute import SHUTDOWN
from vidgen.pipeline.outage import Outage

pytestmark = pytest.mark.huey_versions


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[Any]:
    from huey import SqliteHuey

    huey = SqliteHuey("consumer-test", filename=str(tmp_path / "queue.db"))
    SHUTDOWN.clear()
    yield huey
    SHUTDOWN.clear()
    huey.storage.close()


def _signal_when(condition: Callable[[], bool], signum: int, timeout: float = 20) -> None:
    """From another thread: send this process ``signum`` once ``condition()`` holds."""

    def watch() -> None:
        deadline = time.monotonic() + timeout
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(os.getpid(), signum)

    threading.Thread(target=watch, daemon=True).start()


def _consumer(huey: Any, slots: int, in_flight: InFlight | None = None) -> Consumer:
    return Consumer(huey, slots, Outage("the test queue", logging.getLogger("test")), in_flight)


def test_consumer_runs_every_queued_message_until_sigterm_then_restores_the_handler(
    queue: Any,
) -> None:
    ran: list[int] = []
    lock = threading.Lock()

    @queue.task()
    def record(job_id: int) -> None:
        with lock:
            ran.append(job_id)

    for job_id in (1, 2, 3, 4, 5):
        record(job_id)
    before = signal.getsignal(signal.SIGTERM)
    consumer = _consumer(queue, slots=2)
    _signal_when(lambda: len(ran) == 5, signal.SIGTERM)
    consumer.run()
    assert sorted(ran) == [1, 2, 3, 4, 5]
    assert SHUTDOWN.is_set()
    assert queue.pending_count() == 0
    assert signal.getsignal(signal.SIGTERM) is before
    assert not any(thread.is_alive() for thread in consumer._threads)


def test_after_sigint_no_slot_takes_another_message_and_the_running_one_finishes(
    queue: Any,
) -> None:
    started, finished = threading.Event(), threading.Event()
    seen_in_flight: list[bool] = []
    in_flight = InFlight()

    @queue.task()
    def job(job_id: int) -> None:
        if job_id == 1:
            started.set()
            seen_in_flight.append(1 in in_flight)
            SHUTDOWN.wait(20)  # like a runner: it stops (and would requeue) on the signal
            job(2)  # a message arriving after the signal, with the other slot idle
            time.sleep(1.5)  # that slot polls at least every second: it would take it now
            finished.set()

    job(1)
    consumer = _consumer(queue, slots=2, in_flight=in_flight)
    _signal_when(started.is_set, signal.SIGINT)
    consumer.run()
    assert finished.is_set()  # run() returned only after the running job ended
    assert seen_in_flight == [True]  # the reconcile saw the dequeued job as taken
    assert 1 not in in_flight
    assert queue.pending_count() == 1  # job 2 stays queued for the next worker


def test_a_failing_message_is_one_log_line_and_the_slot_goes_on(
    queue: Any, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[int] = []

    @queue.task()
    def job(job_id: int) -> None:
        ran.append(job_id)

    consumer = _consumer(queue, slots=1)
    huey_execute = queue.execute

    def execute(task: Any, timestamp: Any = None) -> Any:
        if task.args == (1,):
            raise OSError("result store went away")
        return huey_execute(task, timestamp)

    queue.execute = execute
    job(1)
    job(2)
    _signal_when(lambda: ran == [2], signal.SIGTERM)
    with caplog.at_level(logging.WARNING, "vidgen.worker"):
        consumer.run()
    assert ran == [2]
    warnings = [r.getMessage() for r in caplog.records if r.name == "vidgen.worker"]
    assert len(warnings) == 1 and "result store went away" in warnings[0], warnings


def test_a_slot_thread_that_died_is_started_again(queue: Any) -> None:
    consumer = _consumer(queue, slots=1)
    dead = threading.Thread(target=lambda: None)
    dead.start()
    dead.join()
    consumer._threads = [dead]
    consumer.revive_slots()
    assert consumer._threads[0] is not dead and consumer._threads[0].is_alive()
    consumer.stop()
    assert not consumer._threads[0].is_alive()


def test_a_worker_on_an_immediate_queue_says_there_is_nothing_to_serve(
    cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIDGEN_QUEUE_URL", "immediate://")
    result = cli("worker")
    assert result.code == 2, result.err  # a setting to fix: a usage error, like a bad URL
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "immediate://" in lines[0] and "sqlite:///" in lines[0], lines
