"""The read commands' fast path: job rows from a SQLite store through the standard library.

``vidgen status ID [--json]`` and ``vidgen jobs`` read one job or one page. Importing
SQLAlchemy to do it took about five times the CLI's whole import floor (``import typer, rich``),
so on a SQLite store these reads use ``sqlite3`` instead: the SQL that ``store.jobs``
(get/newest/count), ``store.checkpoints`` (for_job/latest_states/total_cost) and
``store.videos.for_job`` send, handed back as plain rows from which the service builds the very
same response models (a test compares both paths on one store).

It never creates or changes a store. ``connect`` (the one place this path opens the store)
opens the file read-only and answers None when the fast path cannot serve: not SQLite, no
store file yet, a schema other than the one this SQL was written for, a file SQLite cannot
open. ``attempt`` then answers None too, and the caller takes the SQLAlchemy path, which
creates, migrates or explains. PostgreSQL always takes that path.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from vidgen.errors import StoreBusy
from vidgen.settings import Settings
from vidgen.statuses import CheckpointStatus
from vidgen.store import identity

# The store.engine.SCHEMA_VERSION this SQL was written for (a test pins the two together): a
# store of any other version is read through SQLAlchemy, which migrates it first.
READS_SCHEMA = 10
_JOB_COLUMNS = (
    "id, status, stage, theme, created_at, updated_at, error_message, config_path, profile"
)
_CHECKPOINT_COLUMNS = (
    "stage, attempt, status, started_at, finished_at, duration_seconds, cost, error"
)
_T = TypeVar("_T")


@dataclass(frozen=True)
class JobRow:
    """The job columns the read commands show (``store.models.Job`` has more)."""

    id: int
    status: str
    stage: str | None
    theme: str | None
    created_at: datetime | None
    updated_at: datetime | None
    error_message: str | None
    config_path: str | None
    profile: str | None


@dataclass(frozen=True)
class CheckpointRow:
    """The checkpoint columns ``vidgen status ID`` shows per stage."""

    stage: str
    attempt: int
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    cost: float
    error: str | None


@dataclass(frozen=True)
class PublicationRow:
    """The publication columns a job's status shows (``store.models.Publication`` has more)."""

    job_id: int
    id: int
    destination: str
    status: str
    scheduled_at: datetime
    url: str | None
    error_message: str | None


def _utc(value: object) -> datetime | None:
    # SQLAlchemy's SQLite DATETIME is text, "2026-12-04 21:00:00.000000", in UTC (UTCDateTime)
    if value is None:
        return None
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _job(row: tuple[object, ...]) -> JobRow:
    job_id, status, stage, theme, created, updated, error, config_path, profile = row
    return JobRow(
        id=int(str(job_id)),
        status=str(status),
        stage=_text(stage),
        theme=_text(theme),
        created_at=_utc(created),
        updated_at=_utc(updated),
        error_message=_text(error),
        config_path=_text(config_path),
        profile=_text(profile),
    )


def _checkpoint(row: tuple[object, ...]) -> CheckpointRow:
    stage, attempt, status, started, finished, duration, cost, error = row
    return CheckpointRow(
        stage=str(stage),
        attempt=int(str(attempt)),
        status=str(status),
        started_at=_utc(started),
        finished_at=_utc(finished),
        duration_seconds=None if duration is None else float(str(duration)),
        cost=float(str(cost)),
        error=_text(error),
    )


class Reader:
    """Queries on one read-only connection (see ``attempt``)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def job(self, job_id: int) -> JobRow | None:
        row = self.conn.execute(f"SELECT {_JOB_COLUMNS} FROM job WHERE id = ?", (job_id,))
        found = row.fetchone()
        return _job(found) if found is not None else None

    def newest(self, status: str | None, limit: int, offset: int) -> list[JobRow]:
        """Jobs newest first (ties: higher id first), optionally only those with ``status``."""
        where, args = ("WHERE status = ?", [status]) if status is not None else ("", [])
        rows = self.conn.execute(
            f"SELECT {_JOB_COLUMNS} FROM job {where} "
            "ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
            (*args, limit, offset),
        )
        return [_job(row) for row in rows]

    def count(self, status: str | None) -> int:
        where, args = ("WHERE status = ?", (status,)) if status is not None else ("", ())
        return int(self.conn.execute(f"SELECT count(*) FROM job {where}", args).fetchone()[0])

    def checkpoints(self, job_id: int) -> list[CheckpointRow]:
        """Every attempt of the job, in the order they started."""
        rows = self.conn.execute(
            f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoint WHERE job_id = ? ORDER BY id", (job_id,)
        )
        return [_checkpoint(row) for row in rows]

    def total_cost(self, job_id: int) -> float:
        """The sum over completed attempts, superseded ones included (``total_cost``)."""
        spent = (CheckpointStatus.COMPLETED.value, CheckpointStatus.SUPERSEDED.value)
        row = self.conn.execute(
            "SELECT coalesce(sum(cost), 0.0) FROM checkpoint WHERE job_id = ? AND status IN (?, ?)",
            (job_id, *spent),
        ).fetchone()
        return float(row[0])

    def video(self, job_id: int) -> tuple[int, str] | None:
        """The job's video: (its own id, its path), or None."""
        row = self.conn.execute(
            "SELECT id, video_path FROM video WHERE job_id = ? LIMIT 1", (job_id,)
        ).fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    def publications(self, job_ids: Iterable[int]) -> dict[int, list[PublicationRow]]:
        """Each job's video's publications in id order, as ``report.publications_by_job``."""
        ids = list(job_ids)
        found: dict[int, list[PublicationRow]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = self.conn.execute(
                "SELECT v.job_id, p.id, p.destination, p.status, p.scheduled_at, p.url, "
                "p.error_message FROM publication p JOIN video v ON v.id = p.video_id "
                f"WHERE v.job_id IN ({', '.join('?' * len(chunk))}) ORDER BY p.id",
                chunk,
            )
            for job_id, pub_id, destination, status, at, url, error in rows:
                scheduled = _utc(at)
                assert scheduled is not None  # NOT NULL in the schema
                found.setdefault(int(job_id), []).append(
                    PublicationRow(
                        job_id=int(job_id),
                        id=int(pub_id),
                        destination=str(destination),
                        status=str(status),
                        scheduled_at=scheduled,
                        url=_text(url),
                        error_message=_text(error),
                    )
                )
        return found

    def latest_states(self, job_ids: Iterable[int]) -> dict[int, dict[str, str]]:
        """For each job, each stage's latest checkpoint status: the last row per stage in id
        order, as ``checkpoints.latest_states``."""
        ids = list(job_ids)
        states: dict[int, dict[str, str]] = {job_id: {} for job_id in ids}
        for start in range(0, len(ids), 500):  # well under SQLite's limit on parameters
            chunk = ids[start : start + 500]
            rows = self.conn.execute(
                "SELECT job_id, stage, status FROM checkpoint "
                f"WHERE job_id IN ({', '.join('?' * len(chunk))}) ORDER BY id",
                chunk,
            )
            for job_id, stage, status in rows:
                states[int(job_id)][str(stage)] = str(status)
        return states


def sqlite_path(settings: Settings) -> Path | None:
    url = settings.db_url
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def connect(settings: Settings) -> sqlite3.Connection | None:
    """The store opened read-only, or None when the fast path cannot serve it.

    The one place the fast path opens the store: a check every open must make belongs here.
    """
    path = sqlite_path(settings)
    if path is None or not path.is_file():
        return None  # PostgreSQL, or no store yet: the SQLAlchemy path creates or explains
    try:
        # mode=ro: SQLite refuses to create the file or write to it; a reader of a WAL store
        # waits for no writer.
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro",
            uri=True,
            timeout=settings.busy_timeout,
            isolation_level=None,
            check_same_thread=False,
        )
    except sqlite3.Error:
        return None
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.Error as exc:
        conn.close()
        if _is_busy(exc):
            raise _busy(settings) from None
        return None  # not a database, unreadable: the SQLAlchemy path says what is wrong
    if version != READS_SCHEMA or not _is_the_marked_store(settings, conn):
        conn.close()
        return None
    return conn


def _is_the_marked_store(settings: Settings, conn: sqlite3.Connection) -> bool:
    """Whether this is the store the home recorded its jobs in (or the home names none yet):
    a lost, emptied or replaced store is the SQLAlchemy path's to refuse, in its words."""
    expected = identity.marked(settings.home, settings.db_url)
    if expected is None:
        return True
    try:
        row = conn.execute("SELECT value FROM storemeta WHERE key = 'store_id'").fetchone()
    except sqlite3.Error:
        return False
    return row is not None and row[0] == expected


def attempt(settings: Settings, read: Callable[[Reader], _T]) -> _T | None:
    """``read(reader)`` on the fast path, or None when it cannot serve this store.

    What ``read`` raises passes through (NotFound...); a store that stays locked past the busy
    timeout is ``StoreBusy`` as on the SQLAlchemy path; any other SQLite error is None, so the
    caller's SQLAlchemy path reports it the way it always has.
    """
    conn = connect(settings)
    if conn is None:
        return None
    try:
        conn.execute("BEGIN")  # one snapshot for all of read's queries (a page and its total)
        return read(Reader(conn))
    except sqlite3.Error as exc:
        if _is_busy(exc):
            raise _busy(settings) from None
        return None
    finally:
        conn.close()


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc)
    return "locked" in text or "busy" in text


def _busy(settings: Settings) -> StoreBusy:
    # The words of store.engine.Store._busy_guard: one message whichever path was waiting.
    return StoreBusy(
        f"the job store {settings.db_url} stayed locked by another process for "
        f"more than {settings.busy_timeout:g} s; try again "
        "(or raise VIDGEN_BUSY_TIMEOUT)"
    )
