"""Helpers for testing network providers against recorded HTTP responses (never the network)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import respx

FIXTURES = Path(__file__).parent / "fixtures" / "http"


def recorded(name: str) -> Any:
    """A recorded JSON response body from tests/fixtures/http."""
    return json.loads((FIXTURES / name).read_text())


class SleepRecorder:
    """Stands in for time.sleep so retry/backoff tests run instantly and can check the waits."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def mocked() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router
