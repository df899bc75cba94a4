"""The job store: the one package that owns the tables and builds every query.

Only modules in this package import sqlmodel/sqlalchemy (an import-linter contract holds it).
One module per group of tables, each the only writer of its rows:

- ``engine``      ``Store`` (read/write sessions, SQLite WAL, BEGIN IMMEDIATE), ``get_store``
- ``models``      the tables
- ``jobs``        ``Job``: create, status moves (one conditional UPDATE each), lease, queries
- ``checkpoints`` ``Checkpoint``: start / fail / complete an attempt, latest per stage, cost
- ``trends``      ``Trend``, ``TrendReport``, ``ContentPlan``
- ``videos``      ``Video``: filing for review, the approve/reject moves, queries
- ``beats``       ``WorkerBeat`` liveness, reaping jobs whose lease ran out
- ``events``      ``Event``: the runner's named events per job
- ``identity``    the home's marker of which store it recorded its jobs in (no SQLAlchemy)
- ``fastread``    ``vidgen status``/``jobs`` on SQLite through the standard library, read-only
- ``sessions``    ``WebSession``: dashboard sign-ins

The status names live in ``vidgen.statuses`` (no SQLAlchemy: the faces import them too).
``Store`` and friends are loaded on first use, so ``vidgen.store.identity`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vidgen.store.engine import STORE_ERRORS, Store, get_store, public_url, reset_stores

__all__ = ["STORE_ERRORS", "Store", "get_store", "public_url", "reset_stores"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from vidgen.store import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'vidgen.store' has no attribute {name!r}")
