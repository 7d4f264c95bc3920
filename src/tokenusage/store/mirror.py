"""The transaction mirror: reads, incremental appends, status and clean-up.

Each domain has at most one *current* generation; its rows carry a contiguous `seq`, newest
highest, so page N of a 1M-row ledger is one index range scan on (generation, seq) rather than
an OFFSET that walks every earlier row. Full syncs build a new generation (see `sync.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, select, update

from tokenusage.licenseapi.models import Transaction
from tokenusage.store import derived
from tokenusage.store.engine import Database, copy_rows
from tokenusage.store.pagecache import PageCache
from tokenusage.store.records import EMPTY_STATUS, MirrorRow, MirrorStatus
from tokenusage.store.schema import mirror_generations as G
from tokenusage.store.schema import mirror_rows as R

ROW_COLUMNS = (
    R.c.id,
    R.c.created_at,
    R.c.type,
    R.c.service_type,
    R.c.amount,
    R.c.tokens_used,
    R.c.images_processed,
    R.c.description,
    R.c.input_tokens,
    R.c.completion_tokens,
    R.c.cached_tokens,
)


PURGE_CHUNK = 50_000
_INSERT_COLUMNS = ("generation", "seq", *(c.name for c in ROW_COLUMNS))


def _sqlite_stamp(value: datetime) -> str:
    # The text SQLAlchemy's SQLite DATETIME writes and parses back, naive UTC.
    if value.tzinfo is UTC:  # the wire models' times: cut the offset off the text
        return value.isoformat(" ", "microseconds")[:26]
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def storable_text(value: str) -> str:
    """`value` with NUL replaced by U+FFFD: PostgreSQL text cannot hold NUL, and both engines
    must keep the same text (SQLite would store it as is)."""
    return value.replace("\x00", "\ufffd")


def insert_rows(
    conn: Connection, generation: int, numbered: Iterable[tuple[int, Transaction]]
) -> None:
    """Bulk insert `(seq, transaction)` pairs: COPY on psycopg, else one executemany.

    Going under SQLAlchemy's per-row parameter processing halves the cost of a 10,000-row
    page on SQLite, and COPY is several times faster than executemany on PostgreSQL; the only
    conversion the column types would do (UTC timestamps) is done here instead. Amounts
    become plain decimal text: exact, and readable in SQL. Upstream text loses any NUL (see
    `storable_text`).
    """
    sqlite = conn.dialect.name == "sqlite"
    stamp: Callable[[datetime], object] = _sqlite_stamp if sqlite else _utc
    params = [
        (
            generation,
            seq,
            tx.id,
            stamp(tx.created_at),
            tx.type,
            storable_text(tx.service_type),
            format(tx.amount, "f"),
            tx.tokens_used,
            tx.images_processed,
            storable_text(tx.description),
            tx.input_tokens,
            tx.completion_tokens,
            tx.cached_tokens,
        )
        for seq, tx in numbered
    ]
    if not params:
        return
    columns = ", ".join(_INSERT_COLUMNS)
    if conn.dialect.driver == "psycopg":
        copy_rows(conn, R.name, columns, params)
        return
    marks = ", ".join(["?" if sqlite else "%s"] * len(_INSERT_COLUMNS))
    sql = f"INSERT INTO {R.name} ({columns}) VALUES ({marks})"  # noqa: S608 (constants only)
    conn.exec_driver_sql(sql, params)


def mirror_row(r: Sequence[Any]) -> MirrorRow:
    id_, created_at, type_, service, amount, tokens, images, text, inp, comp, cached = r
    return MirrorRow(
        id_, created_at, type_, service, Decimal(amount), tokens, images, text, inp, comp, cached
    )


def current(conn: Connection, domain_hash: str) -> Row[Any] | None:
    return conn.execute(
        select(G).where(G.c.domain_hash == domain_hash, G.c.state == "current")
    ).one_or_none()


def lock_domain(conn: Connection, domain_hash: str) -> Sequence[Row[Any]]:
    """Lock the domain's generation rows, always in generation order so writers cannot deadlock.

    On SQLite FOR UPDATE renders as nothing: BEGIN IMMEDIATE already serialises writers.
    """
    return conn.execute(
        select(G).where(G.c.domain_hash == domain_hash).order_by(G.c.generation).with_for_update()
    ).all()


def rows_between(conn: Connection, generation: int, lo: int, hi: int) -> list[MirrorRow]:
    result = conn.execute(
        select(*ROW_COLUMNS)
        .where(R.c.generation == generation, R.c.seq >= lo, R.c.seq <= hi)
        .order_by(R.c.seq.desc())
    )
    return [mirror_row(r) for r in result.all()]


def _status(gens: Sequence[Row[Any]]) -> tuple[MirrorStatus, Row[Any] | None]:
    syncing = any(g.state == "building" for g in gens)
    gen = next((g for g in gens if g.state == "current"), None)
    if gen is None:
        return replace(EMPTY_STATUS, syncing=syncing), None
    status = MirrorStatus(
        present=True,
        rows=gen.max_seq - gen.min_seq + 1,
        synced_at=gen.synced_at,
        full_synced_at=gen.full_synced_at,
        complete=not gen.limited,
        upstream_total=gen.upstream_total,
        limited=gen.limited,
        newest_id=gen.newest_id,
        syncing=syncing,
    )
    return status, gen


_GENERATIONS = select(G).where(G.c.domain_hash == bindparam("domain"))  # built once


def status(conn: Connection, domain_hash: str) -> MirrorStatus:
    return status_with_current(conn, domain_hash)[0]


def status_with_current(conn: Connection, domain_hash: str) -> tuple[MirrorStatus, Row[Any] | None]:
    """The status and the current generation's row (None without a mirror)."""
    return _status(conn.execute(_GENERATIONS, {"domain": domain_hash}).all())


def page_with_status(
    conn: Connection,
    domain_hash: str,
    per_page: int,
    page_for: Callable[[int], int],
    pages: PageCache | None = None,
) -> tuple[MirrorStatus, list[MirrorRow]]:
    """The status, and the rows of page `page_for(rows)` (1-based) of the same generation;
    from `pages` when it holds them (see `pagecache`)."""
    found, gen = status_with_current(conn, domain_hash)
    return found, page_of(conn, found, gen, per_page, page_for, pages)


def page_of(
    conn: Connection,
    found: MirrorStatus,
    gen: Row[Any] | None,
    per_page: int,
    page_for: Callable[[int], int],
    pages: PageCache | None = None,
) -> list[MirrorRow]:
    if gen is None:
        return []
    number = page_for(found.rows)
    if number < 1 or per_page < 1:
        raise ValueError(f"page and per_page start at 1 (got {number}, {per_page})")
    hi = gen.max_seq - (number - 1) * per_page
    lo = max(gen.min_seq, hi - per_page + 1)
    if lo > hi:
        return []
    if pages is None:
        return rows_between(conn, gen.generation, lo, hi)
    key = (gen.generation, gen.started_at, lo, hi)
    return pages.get(key, lambda: rows_between(conn, gen.generation, lo, hi))


def append_newer(
    conn: Connection,
    domain_hash: str,
    transactions: Iterable[Transaction],
    total: int | None,
    now: datetime,
) -> int:
    """Append rows newer than the newest mirrored id above the current seq range.

    Without a current generation nothing is appended: an empty mirror needs a full sync, and
    rows appended to nothing would claim a history the store does not have.
    """
    gen = next((g for g in lock_domain(conn, domain_hash) if g.state == "current"), None)
    if gen is None:
        return 0
    newest = gen.newest_id
    fresh: dict[int, Transaction] = {}
    for tx in transactions:
        if (newest is None or tx.id > newest) and tx.id not in fresh:
            fresh[tx.id] = tx
    ids = sorted(fresh)
    numbered = [(gen.max_seq + 1 + k, fresh[i]) for k, i in enumerate(ids)]
    insert_rows(conn, gen.generation, numbered)
    derived.record(conn, gen.generation, numbered, live=True)
    changes: dict[str, Any] = {"synced_at": now, "touched_at": now}
    if ids:
        changes.update(max_seq=gen.max_seq + len(ids), newest_id=ids[-1])
    if total is not None:
        changes["upstream_total"] = total
    conn.execute(update(G).where(G.c.generation == gen.generation).values(**changes))
    return len(ids)


def retire(conn: Connection, generations: Iterable[int], now: datetime) -> None:
    wanted = list(generations)
    if wanted:
        conn.execute(
            update(G).where(G.c.generation.in_(wanted)).values(state="retired", touched_at=now)
        )


def purge_retired(db: Database, domain_hash: str | None = None) -> int:
    """Delete retired generations and their rows; returns the number of rows removed.

    Runs after the switch to a new generation has committed, so readers never wait for it.
    Rows go in seq chunks, each its own short transaction, so a 1M-row generation does not
    hold SQLite's write lock for seconds; a crash half-way only leaves invisible rows that
    the next purge finds again.
    """
    with db.read() as conn:
        query = select(G.c.generation, G.c.min_seq, G.c.max_seq).where(G.c.state == "retired")
        if domain_hash is not None:
            query = query.where(G.c.domain_hash == domain_hash)
        doomed = conn.execute(query).all()
    removed = 0
    for generation, min_seq, max_seq in doomed:
        for hi in range(max_seq, min_seq - 1, -PURGE_CHUNK):
            with db.write() as conn:
                removed += conn.execute(
                    delete(R).where(
                        R.c.generation == generation,
                        R.c.seq <= hi,
                        R.c.seq > hi - PURGE_CHUNK,
                    )
                ).rowcount
        with db.write() as conn:
            # Whatever the seq bounds missed (none, barring bugs) must not outlive its key.
            removed += conn.execute(delete(R).where(R.c.generation == generation)).rowcount
            derived.forget(conn, generation)
            conn.execute(delete(G).where(G.c.generation == generation))
    return removed


def clear(db: Database, domain_hash: str, now: datetime) -> int:
    """Remove the domain's mirror, including any full sync in progress (it will be superseded)."""
    with db.write() as conn:
        retire(conn, (g.generation for g in lock_domain(conn, domain_hash)), now)
    return purge_retired(db, domain_hash)


def domains(conn: Connection) -> list[str]:
    return list(conn.execute(select(G.c.domain_hash).distinct()).scalars())
