"""INSERT … ON CONFLICT DO UPDATE, which both engines support under their own dialect classes."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def upsert(
    conn: Connection,
    table: Table,
    values: Mapping[str, Any],
    *,
    keys: Collection[str],
    update: Collection[str] | None = None,
) -> None:
    """Insert `values`, or on a key conflict overwrite `update` (default: every non-key column).

    One statement instead of select-then-write, so two threads racing cannot both insert.
    """
    columns = [c for c in values if c not in keys] if update is None else list(update)
    if conn.dialect.name == "postgresql":
        pg = postgresql.insert(table).values(dict(values))
        conn.execute(
            pg.on_conflict_do_update(
                index_elements=list(keys), set_={c: pg.excluded[c] for c in columns}
            )
        )
    else:
        lite = sqlite.insert(table).values(dict(values))
        conn.execute(
            lite.on_conflict_do_update(
                index_elements=list(keys), set_={c: lite.excluded[c] for c in columns}
            )
        )


def insert_missing(conn: Connection, table: Table, values: Mapping[str, Any]) -> None:
    """Insert `values` unless a row with the same key exists (INSERT … ON CONFLICT DO NOTHING)."""
    if conn.dialect.name == "postgresql":
        conn.execute(postgresql.insert(table).values(dict(values)).on_conflict_do_nothing())
    else:
        conn.execute(sqlite.insert(table).values(dict(values)).on_conflict_do_nothing())
