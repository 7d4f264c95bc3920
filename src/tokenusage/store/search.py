"""Text search over a generation's rows: one search table per generation.

The searched text is what the admin reads on screen: the branded description and the branded
service. SQLite keeps it in an FTS5 table with the trigram tokenizer (`LIKE '%q%'` then uses
the index for three characters or more); PostgreSQL in a plain table with a `pg_trgm` GIN
index (`ILIKE`). A table per generation is dropped with its generation in one statement,
instead of deleting a million index entries. Without `pg_trgm` the search still works, as a
scan, and the store says so (`Store.search_indexed`).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, column, select, table, text
from sqlalchemy.sql.elements import ColumnClause
from sqlalchemy.sql.expression import TableClause

from tokenusage.store.days import DayRow
from tokenusage.store.engine import copy_rows
from tokenusage.store.schema import mirror_rows as R
from tokenusage.store.schema import store_meta
from tokenusage.usage.branding import brand

TRGM_KEY = "pg_trgm"
BUILD_MEMORY = "128MB"  # for a GIN build: the default 64MB spills to disk sooner


def name(generation: int) -> str:
    return f"mirror_search_{int(generation)}"


@lru_cache(maxsize=1024)
def _branded_service(service: str) -> str:
    return brand(service)  # a ledger has a handful of services: brand each once


def body(description: str, service: str) -> str:
    return f"{brand(description)}\n{_branded_service(service)}".replace("\x00", "\ufffd")


def enable_trgm(conn: Connection) -> bool:
    """On PostgreSQL, try `CREATE EXTENSION pg_trgm` once and remember the outcome."""
    if conn.dialect.name != "postgresql":
        return True
    try:
        with conn.begin_nested():
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        ok = True
    except Exception:
        ok = False
    conn.execute(store_meta.delete().where(store_meta.c.key == TRGM_KEY))
    conn.execute(store_meta.insert().values(key=TRGM_KEY, value="yes" if ok else "missing"))
    return ok


def trgm_available(conn: Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return True
    found = conn.execute(
        select(store_meta.c.value).where(store_meta.c.key == TRGM_KEY)
    ).scalar_one_or_none()
    return found == "yes"


def create(conn: Connection, generation: int, *, indexed: bool = True) -> None:
    """The generation's search table; on PostgreSQL without its index unless `indexed`: a
    table filled in bulk first gets its index at the end (`index`), one build instead of a
    million GIN insertions."""
    t = name(generation)
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {t} USING "
            "fts5(body, tokenize='trigram', detail='none', columnsize=0)"
        )
        return
    conn.exec_driver_sql(f"CREATE TABLE IF NOT EXISTS {t} (seq BIGINT PRIMARY KEY, body TEXT)")
    if indexed:
        index(conn, generation)


def index(conn: Connection, generation: int) -> None:
    """Build the PostgreSQL trigram index of a filled search table (FTS5 is its own index)."""
    if conn.dialect.name == "sqlite" or not trgm_available(conn):
        return
    t = name(generation)
    conn.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'")
    conn.exec_driver_sql(
        f"CREATE INDEX IF NOT EXISTS {t}_trgm ON {t} USING gin (body gin_trgm_ops)"
    )


def drop(conn: Connection, generation: int) -> None:
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name(generation)}")


def insert(conn: Connection, generation: int, rows: Iterable[DayRow]) -> None:
    """Index rows (seq, ..., service, ..., description: see `days.DayRow`).

    In ascending seq order: FTS5 flushes its pending terms whenever a rowid is not above the
    last one, and a full sync numbers its rows downwards (a flush per row was 20x slower)."""
    params = sorted((r[0], body(r[7], r[2])) for r in rows)
    if not params:
        return
    if conn.dialect.driver == "psycopg":
        copy_rows(conn, name(generation), "seq, body", params)
        return
    key = "rowid" if conn.dialect.name == "sqlite" else "seq"
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    conn.exec_driver_sql(
        f"INSERT INTO {name(generation)} ({key}, body) VALUES ({mark}, {mark})",  # noqa: S608
        params,
    )


def _escaped(q: str) -> str:
    return q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _table(conn: Connection, generation: int) -> tuple[TableClause, ColumnClause[Any]]:
    key = "rowid" if conn.dialect.name == "sqlite" else "seq"
    t = table(name(generation), column(key), column("body"))
    return t, t.c[key]


def matches(conn: Connection, generation: int, q: str) -> ColumnElement[bool]:
    """A condition on `mirror_rows` true for the rows whose text contains `q` (any case)."""
    t, key = _table(conn, generation)
    pattern = f"%{_escaped(q)}%"
    plain = _escaped(q) == q
    if conn.dialect.name == "sqlite":
        # The trigram index serves LIKE only without an ESCAPE clause.
        cond = t.c.body.like(pattern) if plain else t.c.body.like(pattern, escape="\\")
    else:
        cond = t.c.body.ilike(pattern, escape="\\")
    # Driven by the search index: the matching seqs first, then their rows by primary key.
    return R.c.seq.in_(select(key).where(cond))
