"""A store that cannot be used raises `StoreError` with a message a person understands."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, update
from sqlalchemy.engine import make_url

from tests.store.conftest import DOMAIN
from tests.support.pgcluster import free_port
from tokenusage.store import Store, StoreError
from tokenusage.store.schema import store_meta


def broken_url(db_url: str, tmp_path: Path) -> str:
    """SQLite: a file of garbage bytes. PostgreSQL: a database that does not exist."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        Path(str(url.database)).write_bytes(b"this is not a database \x00\xff" * 4096)
        return db_url
    return url.set(database="no_such_database").render_as_string(hide_password=False)


def unreachable_url(db_url: str, tmp_path: Path) -> str:
    """SQLite: a path whose parent is a regular file. PostgreSQL: a port nobody listens on."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        blocker = tmp_path / "blocker"
        blocker.write_text("a file, not a directory")
        return f"sqlite:///{blocker / 'data' / 'store.sqlite3'}"
    return url.set(port=free_port()).render_as_string(hide_password=False)


def test_a_corrupt_store_raises_store_error(db_url: str, tmp_path: Path) -> None:
    url = broken_url(db_url, tmp_path)
    with pytest.raises(StoreError, match=r"^local store unavailable: .+\(.+\)$") as caught:
        Store.open(url)
    assert caught.value.__cause__ is not None

    store = Store(url)
    try:
        for call in (
            lambda: store.page_with_status(DOMAIN, 300, lambda _rows: 1),
            lambda: store.mirror_status(DOMAIN),
            lambda: store.get_pricing("k"),
            lambda: list(store.iter_export(DOMAIN)),
            lambda: store.clear_all(),
        ):
            with pytest.raises(StoreError, match="local store unavailable"):
                call()
    finally:
        store.close()


def test_an_unreachable_store_raises_store_error(db_url: str, tmp_path: Path) -> None:
    url = unreachable_url(db_url, tmp_path)
    with pytest.raises(StoreError, match="local store unavailable"):
        Store.open(url)


def test_location_names_the_file_or_masks_the_password(db_url: str) -> None:
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        with Store(db_url) as store:
            assert store.location() == str(Path(str(url.database)).resolve())
        return
    secret = url.set(password="s3cret-pw").render_as_string(hide_password=False)
    with Store(secret) as store:
        assert "s3cret-pw" not in store.location()
        assert (
            store.location()
            == f"postgresql+psycopg://postgres:***@{url.host}:{url.port}/{url.database}"
        )


def test_open_creates_the_directory_and_the_schema(db_url: str, tmp_path: Path) -> None:
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        nested = tmp_path / "data" / "deeper" / "store.sqlite3"
        db_url = f"sqlite:///{nested}"
    with Store.open(db_url) as store, store._db.read() as conn:
        tables = set(inspect(conn).get_table_names())
        assert {"admins", "mirror_generations", "mirror_rows", "pricing_cache"} <= tables
        if store.backend == "sqlite":
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_schema_creation_is_idempotent(db_url: str) -> None:
    with Store.open(db_url) as store:
        store.upsert_admin("admin", "h")
        store.create_schema()
    with Store.open(db_url) as again:
        assert again.admin_exists("admin")


def test_a_store_from_a_newer_version_is_refused(db_url: str) -> None:
    with Store.open(db_url) as store, store._db.write() as conn:
        conn.execute(update(store_meta).values(value="999"))
    with pytest.raises(StoreError, match="newer tokenusage"):
        Store.open(db_url)


def test_a_store_from_an_older_version_is_taken_to_this_schema(db_url: str) -> None:
    """Then the older version refuses it: it would not keep what this one keeps."""
    from tokenusage.store.schema import SCHEMA_VERSION

    mine = store_meta.c.key == "schema_version"
    with Store.open(db_url) as store, store._db.write() as conn:
        conn.execute(update(store_meta).where(mine).values(value="1"))
    with Store.open(db_url) as store, store._db.read() as conn:
        found = conn.execute(select(store_meta.c.value).where(mine)).scalar_one()
    assert int(found) == SCHEMA_VERSION > 1


def test_a_missing_database_driver_is_a_store_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # `pip install tokenusage` without the `postgres` extra has no psycopg.
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(StoreError, match=r"tokenusage\[postgres\]"):
        Store("postgresql://someone@127.0.0.1:1/db")
