"""The one thing media work needs from whoever runs it: a way to stop.

Media and provider code does pure work on files; it must not know about stages, the store or
the runner. What it does need is to stop promptly when the stage's time limit passes or the
worker shuts down. ``CancelToken`` is that protocol; the runner's ``StageContext`` satisfies it,
and ``Deadline`` is a standalone token for scripts, benchmarks and tests.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Protocol

from vidgen.errors import StageTimeout


class CancelToken(Protocol):
    """Contract: ``cancel`` is set when the work must stop; ``deadline`` is a ``time.monotonic()``
    value; ``check_cancelled()`` raises ``StageTimeout`` once either happened; ``remaining()`` is
    the seconds left before the deadline (negative when past it)."""

    cancel: threading.Event
    deadline: float

    def check_cancelled(self) -> None: ...

    def remaining(self) -> float: ...


@dataclass
class Deadline:
    """A ``CancelToken`` that is not tied to a stage: ``Deadline.after(30)``."""

    deadline: float = float("inf")
    cancel: threading.Event = field(default_factory=threading.Event)
    what: str = "work"

    @classmethod
    def after(cls, seconds: float, what: str = "work") -> Deadline:
        return cls(deadline=time.monotonic() + seconds, what=what)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def check_cancelled(self) -> None:
        if self.cancel.is_set() or time.monotonic() > self.deadline:
            raise StageTimeout(f"{self.what} was stopped (time limit or shutdown)")
