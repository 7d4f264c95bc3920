"""The one engine factory, shared by the store and the reference server."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from tests.support.pgcluster import running_cluster
from tokenusage.store.engine import (
    PING_AFTER_IDLE_SECONDS,
    SQLITE_BUSY_TIMEOUT_MS,
    Database,
    make_engine,
)


def test_postgresql_urls_use_psycopg() -> None:
    engine = make_engine("postgresql://user@localhost/db")  # no connection is made
    assert engine.dialect.driver == "psycopg"


def test_a_postgresql_server_that_never_answers_fails_the_connection_in_time() -> None:
    """A listener that accepts but never speaks: libpq gets the connection's time limit from
    the URL, the store's defaults filling what the URL leaves out."""
    assert make_engine("postgresql://u@h/db").url.query["connect_timeout"] == "10"
    assert make_engine("postgresql://u@h/db").url.query["keepalives_idle"] == "30"
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        engine = make_engine(f"postgresql://u@127.0.0.1:{port}/db?connect_timeout=1")
        assert engine.url.query["connect_timeout"] == "1", "the URL's own value wins"
        started = time.monotonic()
        with pytest.raises(OperationalError, match="timeout"):
            engine.connect()
        assert time.monotonic() - started < 5
        engine.dispose()


def test_sqlite_file_gets_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'x.sqlite3'}")
    try:
        with engine.connect() as conn:
            pragma = conn.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS
            assert pragma("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_postgresql_read_after_a_restart_gets_a_live_connection() -> None:
    """The read pool checks a connection idle for a second or more, so the first read after
    the server came back works; within the second, reads skip the check (no round trip)."""
    with running_cluster() as own:
        db = Database(own.create_database())
        try:

            def read() -> int:
                with db.read() as conn:
                    return int(conn.exec_driver_sql("SELECT 1").scalar_one())

            assert read() == 1
            own.stop()
            own.resume()
            time.sleep(PING_AFTER_IDLE_SECONDS + 0.1)
            assert read() == 1  # the pooled connection died with the server: replaced
            pings = 0
            ping = db._reads.dialect.do_ping

            def counting(dbapi: Any) -> bool:
                nonlocal pings
                pings += 1
                return bool(ping(dbapi))

            db._reads.dialect.do_ping = counting  # type: ignore[method-assign]
            for _ in range(5):
                read()
            assert pings == 0, "a connection used within the second is not pinged"
            time.sleep(PING_AFTER_IDLE_SECONDS + 0.1)
            read()
            assert pings == 1
        finally:
            db.dispose()
