"""Issue 11 (item 11): an unreachable queue or store is one log line per retry with its wait
and one line on recovery, never a traceback per poll. The Redis case runs against a real
server in tests/test_redis_queue.py; here the backoff itself and the worker's beat against a
store that refuses every write."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from sqlalchemy.exc import OperationalError

from vidgen.pipeline.consumer import Beat
from vidgen.pipeline.outage import Outage
from vidgen.settings import Settings
from vidgen.store import Store


def test_outage_logs_once_per_retry_with_a_growing_wait(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("vidgen.test-outage")
    outage = Outage("the queue redis://x", log, first=0.2, cap=0.8)
    error = ConnectionError("Error 111 connecting to x. Connection refused.")
    waits = []
    with caplog.at_level(logging.WARNING, logger="vidgen.test-outage"):
        for _ in range(4):
            # Two threads failing at the same moment: one line, both wait for the same retry.
            pair = [outage.failed(error), outage.failed(error)]
            waits.append(pair[0])
            assert pair[1] <= pair[0]
            time.sleep(pair[0] + 0.01)
        outage.recovered()
        outage.recovered()
    lines = [record.getMessage() for record in caplog.records]
    assert waits == pytest.approx([0.2, 0.4, 0.8, 0.8], abs=0.02)
    assert lines[:4] == [
        f"the queue redis://x is unreachable (Error 111 connecting to x. Connection refused.); "
        f"retrying in {wait:g} s"
        for wait in (0.2, 0.4, 0.8, 0.8)
    ]
    assert len(lines) == 5 and lines[4].startswith("the queue redis://x is reachable again")
    assert not any(record.exc_info for record in caplog.records)


def test_worker_beat_against_an_unreachable_store_backs_off_quietly(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    settings = settings.model_copy(update={"lease_seconds": 1.0})  # a beat every 0.25 s
    down = threading.Event()
    down.set()
    real_write = store.write

    def write():  # type: ignore[no-untyped-def]
        if down.is_set():
            raise OperationalError("INSERT", {}, Exception("could not connect to server"))
        return real_write()

    monkeypatch.setattr(store, "write", write)
    beat = Beat(store, settings, "worker-under-test")
    with caplog.at_level(logging.WARNING, logger="vidgen.worker"):
        beat.start()
        time.sleep(3.2)  # 13 beats at 0.25 s without backoff
        down.clear()
        time.sleep(2.5)  # the retry after the 2 s wait succeeds
        beat.stop_event.set()
        beat.join(5)
    lines = [record.getMessage() for record in caplog.records if record.name == "vidgen.worker"]
    retries = [line for line in lines if "is unreachable" in line]
    assert 2 <= len(retries) <= 3, lines  # waits of 1 s and 2 s, maybe the 4 s one
    assert all("could not connect to server" in line and "retrying in" in line for line in retries)
    assert sum("reachable again" in line for line in lines) == 1, lines
    assert not any(record.exc_info for record in caplog.records)
