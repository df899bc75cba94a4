"""The job store: one SQLite file (WAL) by default, any SQLAlchemy URL by configuration.

``Store.read()`` and ``Store.write()`` hand out sessions. On SQLite a write transaction starts with
``BEGIN IMMEDIATE`` so concurrent writers queue on the busy timeout instead of failing with
"database is locked" when a read lock cannot be upgraded. A lock held past the timeout becomes
``StoreBusy`` with a message that says so.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    OperationalError,
    SQLAlchemyError,
)
from sqlmodel import Session, SQLModel, create_engine

from vidgen.errors import InvalidInput, StoreBusy, StoreLost
from vidgen.settings import Settings
from vidgen.store import (
    identity,
    models,  # noqa: F401  (registers the tables on SQLModel.metadata)
)

# 2: the event table; Job.attempts_started and Job.total_cost dropped (cost is derived).
# 3: job.profile (the render profile recorded when the job is queued).
# 4: job.cancel_requested (vidgen cancel of a running job).
# 5: job.lease_epoch (fencing: a runner's writes hold its lease's epoch, see store.leases).
# 6: ix_job_count (a narrow index that makes counting all jobs cheap).
# 7: storemeta (the store's identity) and ownedname (the names it publishes files under).
# 8: the publication table (one approved video on one destination; created by create_all).
# 9: websession (dashboard sign-ins; created by create_all).
# 10: trend.description (what the creator wrote under a trending video).
SCHEMA_VERSION = 10
_DROPPED_COLUMNS = {"job": ("attempts_started", "total_cost")}
# Columns added after a table first shipped: (table, column, SQL type); create_all skips them.
_ADDED_COLUMNS = (
    ("job", "profile", "VARCHAR"),
    ("job", "cancel_requested", "BOOLEAN"),
    # Existing jobs start at epoch 0; a job running when the store is upgraded keeps its
    # lease only if its (old) runner stops: an old runner writes without checking the epoch.
    ("job", "lease_epoch", "INTEGER NOT NULL DEFAULT 0"),
    ("trend", "description", "VARCHAR NOT NULL DEFAULT ''"),
)
_IMMEDIATE = "vidgen_immediate"
_SCHEMA_LOCK_KEY = 0x76696467656E  # "vidgen" in ASCII: any constant other apps are unlikely to use
# The home's record of the stores it has used: {public URL: store id}. It lives in the home
# (not beside the output folder), so a fresh home sharing an output folder starts its own store
# while a home whose store vanished is told so.


# What a store that is down or broken raises (the driver's errors, file-system errors): the
# pipeline treats these as an outage -- one log line, back off -- without importing SQLAlchemy.
STORE_ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, OSError)


# SQLSTATEs of a database server that is going away or not yet accepting connections.
_SERVER_GONE = ("57P01", "57P02", "57P03")


def unreachable(exc: BaseException) -> bool:
    """True if ``exc`` says the store's server could not be reached (refused or dropped
    connection, server shutting down or starting): an outage to wait out, unlike a full disk,
    a constraint or a bug. SQLite files are never "unreachable"."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    if type(orig).__module__.split(".")[0] != "psycopg" or not isinstance(exc, OperationalError):
        return False
    state = getattr(orig, "sqlstate", None)
    # No SQLSTATE: the client itself failed (connection refused, socket gone, server closed
    # the connection); class 08: connection exceptions.
    return state is None or state.startswith("08") or state in _SERVER_GONE


def _sqlite_path(url: str) -> Path | None:
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///"))
    return None


def _make_engine(settings: Settings) -> Engine:
    url = settings.db_url
    path = _sqlite_path(url)
    if path is None:
        return create_engine(url, pool_pre_ping=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"timeout": settings.busy_timeout, "check_same_thread": False}
    )
    busy_ms = int(settings.busy_timeout * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level; we issue BEGIN ourselves (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Store:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.path = _sqlite_path(settings.db_url)
        expected = marked_identity(settings)
        if expected is not None and self.path is not None:
            problem = _file_problem(self.path)
            if problem is not None:
                raise _lost(settings, expected, problem)
        self.engine = _make_engine(settings)
        self._writer = self.engine.execution_options(**{_IMMEDIATE: True})
        try:
            self._ensure_schema()
            self.identity = self._identity(expected)
        except StoreLost:
            self.engine.dispose()
            raise
        except SQLAlchemyError as exc:
            self.engine.dispose()
            if expected is None or (isinstance(exc, OperationalError) and _busy(exc)):
                raise
            # A store file that cannot be read as a database (truncated, overwritten).
            raise _lost(settings, expected, f"it cannot be read ({_reason(exc)})") from None
        # The file this process opened: a worker checks on its beat that it is still the one
        # at the store's path (``check_still_there``).
        self._file_key = _file_key(self.path) if self.path is not None else None
        self._anchor: float | None = None
        self._anchor_lock = threading.Lock()

    def now(self) -> datetime:
        """The store's clock, for leases and worker beats -- never the local wall clock, which
        a clock step (NTP, a VM resumed, ``date -s``) moves by an hour: a lease measured on it
        was reaped at once (clock forward) or kept for the hour (clock back).

        PostgreSQL: the database server's ``clock_timestamp()``, one clock for every machine.
        SQLite (one machine): this boot's monotonic clock, which no clock step moves, plus an
        anchor recorded in the store under the boot id by the first process of this boot
        (the wall clock then, minus the monotonic clock): every process of the boot reads the
        same time, close to the wall clock. A reboot has a new boot id and a new anchor, so
        the old boot's readings are never compared with the new boot's monotonic clock."""
        if self.path is None and self.engine.dialect.name == "postgresql":
            from sqlalchemy import text

            with self.read() as session:
                value = session.connection().execute(text("SELECT clock_timestamp()")).scalar()
            assert isinstance(value, datetime)
            return value.astimezone(UTC)
        return datetime.fromtimestamp(self._boot_anchor() + time.monotonic(), UTC)

    def _boot_anchor(self) -> float:
        if self._anchor is not None:
            return self._anchor
        from vidgen.store.models import StoreMeta

        key = f"clock-anchor:{boot_id()}"
        with self._anchor_lock:
            with self.read() as session:
                row = session.get(StoreMeta, key)
            if row is None:
                with self.write() as session:
                    row = session.get(StoreMeta, key)
                    if row is None:
                        row = StoreMeta(key=key, value=repr(time.time() - time.monotonic()))
                        session.add(row)
            self._anchor = float(row.value)
        return self._anchor

    def _identity(self, expected: str | None) -> str:
        """The store's id: read, or made now for a store without one (a new store, or one an
        older vidgen made) unless the home says it used a store here before."""
        from vidgen.store.models import StoreMeta

        with self.read() as session:  # the usual case: one read, no write lock
            row = session.get(StoreMeta, "store_id")
        if row is None:
            if expected is not None:
                raise _lost(
                    self.settings, expected, "it was replaced by another store (a new, empty one)"
                )
            try:
                with self.write() as session:
                    row = session.get(StoreMeta, "store_id")  # another process may have made it
                    if row is None:
                        row = StoreMeta(key="store_id", value=uuid.uuid4().hex)
                        session.add(row)
                        session.add(
                            StoreMeta(key="created_at", value=datetime.now(UTC).isoformat())
                        )
            except IntegrityError:
                # PostgreSQL: another machine made it at the same instant (its transaction is
                # not serialised with ours as SQLite's BEGIN IMMEDIATE is): use theirs.
                with self.read() as session:
                    row = session.get(StoreMeta, "store_id")
                assert row is not None
        identity = row.value
        if expected is None:
            _write_marker(self.settings, identity)
        elif identity != expected:
            raise _lost(
                self.settings, expected, f"it was replaced by another store (id {identity[:8]})"
            )
        return identity

    def check_still_there(self) -> None:
        """StoreLost if the store file this process opened was deleted, emptied or replaced
        (a SQLite connection keeps writing to an unlinked file: a split brain). A worker calls
        it on every beat and stops. Servers (PostgreSQL) keep their identity in the database,
        checked at start-up."""
        if self.path is None:
            return
        problem = _file_problem(self.path)
        if problem is None and _file_key(self.path) != self._file_key:
            problem = "it was replaced by another file"
        if problem is not None:
            raise _lost(self.settings, self.identity, problem)

    def _ensure_schema(self) -> None:
        with self._busy_guard():
            if _sqlite_path(self.settings.db_url) is not None:
                with self.engine.connect() as conn:
                    version = conn.exec_driver_sql("PRAGMA user_version").scalar()
                    if version == SCHEMA_VERSION:
                        return
            if self.engine.dialect.name == "postgresql":
                # Two processes starting on a new database would both CREATE TABLE and one
                # would fail on PostgreSQL's catalog: serialise them on an advisory lock that
                # the transaction releases, so the second finds the tables and does nothing.
                with self.engine.begin() as conn:
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_SCHEMA_LOCK_KEY})")
                    SQLModel.metadata.create_all(conn)
                    _drop_old_columns(conn)
                    _add_new_columns(conn)
                    _add_new_indexes(conn)
            else:
                with self._writer.begin() as conn:
                    SQLModel.metadata.create_all(conn)
                    _drop_old_columns(conn)
                    _add_new_columns(conn)
                    _add_new_indexes(conn)
            if _sqlite_path(self.settings.db_url) is not None:
                with self.engine.connect() as conn:
                    conn.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    conn.commit()  # without it the rollback on close undoes the version mark

    @contextmanager
    def _busy_guard(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as exc:
            if _busy(exc):
                raise StoreBusy(
                    f"the job store {self.settings.db_url} stayed locked by another process for "
                    f"more than {self.settings.busy_timeout:g} s; try again "
                    "(or raise VIDGEN_BUSY_TIMEOUT)"
                ) from None
            raise

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._busy_guard(), Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose transaction takes the write lock up front and commits on success."""
        with (
            self._busy_guard(),
            Session(self._writer, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def boot_id() -> str:
    """This machine's boot id (Linux); a reboot changes it. Elsewhere "unknown": then a
    reboot is noticed only as the monotonic clock starting again (leases of the old boot
    look valid until they run out on the new clock)."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or "unknown"
    except OSError:
        return "unknown"


def _busy(exc: OperationalError) -> bool:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    return "locked" in text or "busy" in text


def _reason(exc: SQLAlchemyError) -> str:
    return " ".join(str(getattr(exc, "orig", None) or exc).split())


def _file_problem(path: Path) -> str | None:
    """Why the SQLite file at ``path`` is not a store any more, or None."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return "it is missing"
    except OSError as exc:
        return f"it cannot be checked ({exc.strerror})"
    return "it is empty (truncated)" if size == 0 else None


def _file_key(path: Path) -> tuple[int, int] | None:
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_dev, found.st_ino


def marked_identity(settings: Settings) -> str | None:
    """The id of the store this home last used at ``settings.db_url``, or None (a new home,
    a URL it never used, a home from before store identities)."""
    return identity.marked(settings.home, public_url(settings.db_url))


def _write_marker(settings: Settings, store_id: str | None) -> None:
    identity.write_marker(settings.home, public_url(settings.db_url), store_id)


def forget_store(settings: Settings) -> Path | None:
    """Start afresh (``vidgen recover --new-store``): the home forgets the store it used at
    ``settings.db_url``; what is left of a SQLite store file is kept aside as
    ``vidgen.db.lost-<time>`` (returned), never deleted."""
    reset_stores()
    _write_marker(settings, None)
    path = _sqlite_path(settings.db_url)
    if path is None or not path.exists():
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.lost-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        part = Path(f"{path}{suffix}")
        if part.exists():
            os.replace(part, Path(f"{aside}{suffix}"))
    return aside


def _lost(settings: Settings, expected: str, problem: str) -> StoreLost:
    where = public_url(settings.db_url)
    return StoreLost(
        f"the job store {where} that this home ({settings.home}) recorded its jobs in "
        f"(id {expected[:8]}) is lost: {problem}; restore it from a backup, or run "
        f"'{identity.NEW_STORE_HINT}' to start a new, empty store "
        "(the old job ids start again at 1)"
    )


def _drop_old_columns(conn: Any) -> None:
    """Drop columns an older vidgen created (NOT NULL without a default, they break inserts)."""
    from sqlalchemy import inspect

    inspector = inspect(conn)
    for table, columns in _DROPPED_COLUMNS.items():
        present = {column["name"] for column in inspector.get_columns(table)}
        for column in columns:
            if column in present:
                conn.exec_driver_sql(f"ALTER TABLE {table} DROP COLUMN {column}")


_stores: dict[str, Store] = {}


def get_store(settings: Settings) -> Store:
    """One Store (engine, pool) per database URL per process."""
    key = settings.db_url
    store = _stores.get(key)
    if store is None or store.settings != settings:
        store = _open(settings)
        _stores[key] = store
    return store


def _open(settings: Settings) -> Store:
    """A Store, or InvalidInput naming the setting to fix (a bad URL or home is not a crash)."""
    which = "VIDGEN_DATABASE_URL" if settings.database_url else "VIDGEN_HOME"
    try:
        return Store(settings)
    except (StoreBusy, StoreLost):
        raise
    except (ArgumentError, ImportError) as exc:  # unparsable URL, unknown dialect, no driver
        raise InvalidInput(
            f"VIDGEN_DATABASE_URL={public_url(settings.db_url)!r} cannot be used ({exc}); "
            "use sqlite:////path/to/vidgen.db or unset VIDGEN_DATABASE_URL"
        ) from None
    except (OSError, SQLAlchemyError) as exc:  # home is a file, folder not writable, not a db
        if isinstance(exc, OSError):
            reason: object = f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
        else:
            reason = getattr(exc, "orig", None) or exc
        raise InvalidInput(
            f"cannot open the job store {public_url(settings.db_url)} ({reason}); check {which}"
        ) from None


def _add_new_indexes(conn: Any) -> None:
    """Create the indexes a store made by an older vidgen lacks (create_all only makes those
    of tables it creates)."""
    for table in SQLModel.metadata.sorted_tables:
        for index in table.indexes:
            index.create(conn, checkfirst=True)


def _add_new_columns(conn: Any) -> None:
    """Add the columns a store made by an older vidgen lacks (nullable, or with a default)."""
    from sqlalchemy import inspect

    inspector = inspect(conn)
    for table, column, kind in _ADDED_COLUMNS:
        if column not in {c["name"] for c in inspector.get_columns(table)}:
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


def public_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, for messages and /api/health."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def reset_stores() -> None:
    for store in _stores.values():
        store.dispose()
    _stores.clear()
