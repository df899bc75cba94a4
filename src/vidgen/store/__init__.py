"""The job store: the one package that owns the tables and builds every query.

Only modules in this package import sqlmodel/sqlalchemy (an import-linter contract holds it).
One module per group of tables, each the only writer of its rows:

- ``engine``      ``Store`` (read/write sessions, SQLite WAL, BEGIN IMMEDIATE), ``get_store``
- ``models``      the tables and their status enums
- ``jobs``        ``Job``: create, status moves (one conditional UPDATE each), lease, queries
- ``checkpoints`` ``Checkpoint``: start / fail / complete an attempt, latest per stage, cost
- ``trends``      ``Trend``, ``TrendReport``, ``ContentPlan``
- ``videos``      ``Video``: publish for review, approve/reject moves, queries
- ``workers``     ``WorkerBeat`` liveness, reaping jobs whose lease ran out
- ``events``      ``Event``: the runner's named events per job
"""

from __future__ import annotations

from vidgen.store.engine import Store, get_store, public_url, reset_stores

__all__ = ["Store", "get_store", "public_url", "reset_stores"]
