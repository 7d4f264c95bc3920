"""The one engine factory, shared by the store and the reference server."""

from __future__ import annotations

from pathlib import Path

from tokenusage.store.engine import SQLITE_BUSY_TIMEOUT_MS, make_engine


def test_postgresql_urls_use_psycopg() -> None:
    engine = make_engine("postgresql://user@localhost/db")  # no connection is made
    assert engine.dialect.driver == "psycopg"


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
