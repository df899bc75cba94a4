"""``utcnow``: the one clock reading of the code (aware, UTC) - store defaults, trend sources,
stages and cut-offs all take it from here (the store's own clock for leases is ``Store.now``)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
