"""Engines and transactions: one place that knows how SQLite and PostgreSQL differ.

`make_engine` is the one engine factory of the package: the dashboard's store and the
reference server (`licenseserver/`) both use it, so both get the same SQLite set-up.

Every database access in the package goes through `Database.read()` or `Database.write()`, so
every SQLAlchemy or driver failure leaves the public API as a `StoreError` with a message a
person understands, and the service can fall back to live data.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from tokenusage.store import exact
from tokenusage.store.files import private_database
from tokenusage.store.records import StoreError

SQLITE_BUSY_TIMEOUT_MS = 15_000
PING_AFTER_IDLE_SECONDS = 1.0
# libpq: seconds to establish a connection (the server's first answer included), and TCP
# keepalives that find a dead peer in about a minute (30 s idle, then 3 probes 10 s apart).
PG_CONNECTION_DEFAULTS = {
    "connect_timeout": "10",
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
}
_WRITE = "tokenusage_write"


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take BEGIN away from the sqlite3 module so `_sqlite_begin` decides its kind.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()
    exact.register(dbapi_connection)


def _sqlite_begin(conn: Connection) -> None:
    # A writer that starts with a plain BEGIN and upgrades later can fail with SQLITE_BUSY
    # without waiting; BEGIN IMMEDIATE queues on busy_timeout instead. Readers stay deferred
    # so they never block each other.
    immediate = conn.get_execution_options().get(_WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"


def copy_rows(conn: Connection, table: str, columns: str, rows: Iterable[Sequence[Any]]) -> None:
    """`rows` into `table (columns)` with PostgreSQL's COPY (psycopg): a bulk insert without
    a statement per row. PostgreSQL only."""
    driver: Any = conn.connection.driver_connection
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Check a connection before use only when it has been idle `idle_seconds` or more: a
    server that restarted since gets a fresh connection (the pool retries), and a busy
    dashboard does not pay a round trip per read. A restart in the last second is met by the
    read itself (a store problem shown once; SQLAlchemy then drops the whole pool)."""

    def checkin(_dbapi: Any, record: Any) -> None:
        record.info["used"] = time.monotonic()

    def checkout(dbapi: Any, record: Any, _proxy: Any) -> None:
        used = record.info.get("used")
        if used is not None and time.monotonic() - used < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi)
        except Exception as exc:  # whatever the driver says: this connection is unusable
            raise DisconnectionError(str(exc)) from exc

    event.listen(engine.pool, "checkin", checkin)
    event.listen(engine.pool, "checkout", checkout)


def make_engine(url: str | URL, *, isolation_level: str | None = None) -> Engine:
    """An engine whose pool is safe to share between threads (the service uses worker threads).

    A SQLite file gets WAL (readers never wait for the writer), a busy timeout, foreign keys,
    and its parent directory (0700, the file 0600: see `files`). In-memory SQLite is a single
    shared connection: tests only. Transactions are deferred (`BEGIN`) unless made through
    `for_writes`. `postgresql://` means psycopg 3, the driver of the `postgres` extra;
    `isolation_level` is then set once per connection of the pool (the read pool, whose
    connections are also checked only after a second idle).
    """
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        # A server that stops answering (a dead host, a dropped route) fails a store call
        # within seconds instead of holding its worker thread for minutes; the URL's own
        # values win.
        defaults = {k: v for k, v in PG_CONNECTION_DEFAULTS.items() if k not in parsed.query}
        parsed = parsed.update_query_dict(defaults)
        if isolation_level is None:
            return create_engine(parsed, pool_pre_ping=True)
        reads = create_engine(parsed, isolation_level=isolation_level)
        _ping_when_idle(reads, PING_AFTER_IDLE_SECONDS)
        return reads
    kwargs: dict[str, Any] = {
        "connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    }
    if _is_memory(parsed):
        kwargs["poolclass"] = StaticPool
    else:
        path = Path(str(parsed.database)).expanduser()
        private_database(path)
        parsed = parsed.set(database=str(path))
    engine = create_engine(parsed, **kwargs)
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def for_writes(engine: Engine) -> Engine:
    """`engine` (same pool) for write transactions: on SQLite they start with BEGIN IMMEDIATE,
    so a transaction that reads before it writes queues on the busy timeout instead of
    failing on SQLITE_BUSY when it upgrades its lock. Other engines are unaffected."""
    return engine.execution_options(**{_WRITE: True})


def describe_location(url: URL) -> str:
    """The SQLite file path, or the server URL with its password masked."""
    if url.get_backend_name() == "sqlite":
        if _is_memory(url):
            return ":memory:"
        return str(Path(str(url.database)).expanduser().resolve())
    return url.render_as_string(hide_password=True)


def _reason(exc: BaseException) -> str:
    cause: BaseException = exc.orig if isinstance(exc, DBAPIError) and exc.orig else exc
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


class Database:
    """An engine plus read/write transaction helpers that translate failures to `StoreError`."""

    def __init__(self, url: str) -> None:
        try:
            self.url = make_url(url)
        except ArgumentError as exc:
            raise StoreError(f"local store unavailable: invalid database URL ({exc})") from exc
        self.location = describe_location(self.url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        # Write transactions of this process so far (see `Store.writes`).
        self.writes = 0
        self._count_lock = threading.Lock()
        self._errors: tuple[type[BaseException], ...] = (SQLAlchemyError, sqlite3.Error, OSError)
        self._writer: AbstractContextManager[object] = (
            threading.RLock() if self.is_sqlite else nullcontext()
        )
        with self.translate():
            try:
                self.engine = make_engine(self.url)
                # PostgreSQL reads get a pool of their own whose connections are REPEATABLE
                # READ from the start: setting it per read (and SQLAlchemy resetting it on
                # return) cost two of a page view's seven round trips.
                self._reads = (
                    self.engine
                    if self.is_sqlite
                    else make_engine(self.url, isolation_level="REPEATABLE READ")
                )
            except ModuleNotFoundError as exc:
                raise StoreError(
                    f"local store unavailable: the driver for {self.url.get_backend_name()} is "
                    f"not installed ({exc.name}); for PostgreSQL install "
                    "'tokenusage[postgres]'"
                ) from exc
        # Raw DB-API cursors (the export's read) raise the driver's own errors.
        self._errors += (self.engine.dialect.loaded_dbapi.Error,)

    @contextmanager
    def translate(self) -> Iterator[None]:
        try:
            yield
        except StoreError:
            raise
        except self._errors as exc:
            raise StoreError(f"local store unavailable: {_reason(exc)} ({self.location})") from exc

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A snapshot-consistent read: several statements see the same mirror generation."""
        with self.translate(), self._reads.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self, *, counted: bool = True) -> Iterator[Connection]:
        """A write transaction; on PostgreSQL row locks (FOR UPDATE) serialise competing writers.

        SQLite has one writer at a time, and a writer that finds the lock taken polls for it
        with sleeps of up to 100 ms; writers of this process queue on a lock instead and go
        as soon as the previous one commits (a page view's writes would otherwise add tens
        of milliseconds to a cold page). Other processes still meet the busy timeout.
        `counted=False`: a write no view shows (sessions, throttle, leases) leaves `writes`.
        """
        try:
            with self._writer, self.translate(), self.engine.connect() as conn:
                if self.is_sqlite:
                    conn.execution_options(**{_WRITE: True})  # as `for_writes`
                with conn.begin():
                    yield conn
        finally:
            if counted:
                with self._count_lock:  # committed or not, what readers memoised may be stale
                    self.writes += 1

    def dispose(self) -> None:
        self.engine.dispose()
        self._reads.dispose()
