"""The history narrowed by `Filters`: how many rows match, their net amount, a page of them,
and all of them for the CSV export.

Without a search, the count and the amount come from the day totals (the filters' days are
business days, as the totals' are), so they cost O(days). A page scans the mirror newest
first inside the seq range the day totals give for those days, types and services. A search
goes through the generation's search table (`search.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, String, func, select, type_coerce
from sqlalchemy.sql import Select

from tokenusage.store import days, search
from tokenusage.store.schema import mirror_days as D
from tokenusage.store.schema import mirror_rows as R
from tokenusage.usage.export import ExportRecord
from tokenusage.usage.filters import Filters

SeqRange = tuple[int, int]


@dataclass(frozen=True)
class Matched:
    count: int
    amount: Decimal
    # The seq range holding every matching row, as the day totals give it for the filters'
    # days, types and services (None when those do not narrow the generation).
    seq_range: SeqRange | None = None


NONE_MATCH = Matched(0, Decimal(0))


def _narrows(filters: Filters) -> bool:
    return bool(filters.first or filters.last or filters.types or filters.services)


def _seq_range(conn: Connection, generation: int, zone: str, filters: Filters) -> SeqRange | None:
    """The seq range of the filters' days, types and services (None: no row there)."""
    return days.seq_bounds(
        conn, generation, zone, filters.first, filters.last, filters.types, filters.services
    )


def conditions(
    conn: Connection,
    generation: int,
    zone: str,
    filters: Filters,
    seq_range: SeqRange | None = None,
) -> list[ColumnElement[bool]] | None:
    """WHERE conditions on `mirror_rows` for the filters; None when nothing can match.
    `seq_range`: the filters' seq range when the caller has it (`Matched.seq_range`)."""
    out: list[ColumnElement[bool]] = [R.c.generation == generation]
    if seq_range is None and _narrows(filters):
        seq_range = _seq_range(conn, generation, zone, filters)
        if seq_range is None:
            return None
    if seq_range is not None:
        out += [R.c.seq >= seq_range[0], R.c.seq <= seq_range[1]]
    start, end = filters.utc_bounds(ZoneInfo(zone))
    if start is not None:
        out.append(R.c.created_at >= start)
    if end is not None:
        out.append(R.c.created_at < end)
    if filters.types:
        out.append(R.c.type.in_(filters.types))
    if filters.services:
        out.append(R.c.service_type.in_(filters.services))
    if filters.q:
        out.append(search.matches(conn, generation, filters.q))
    return out


def matched(conn: Connection, generation: int, zone: str, filters: Filters) -> Matched:
    """How many rows match and their net amount (the sum of their amounts), exactly, and
    where they are."""
    if filters.q:
        return _searched(conn, generation, zone, filters)
    picked = select(D.c.count, D.c.amount, D.c.min_seq, D.c.max_seq).where(
        D.c.generation == generation, D.c.zone == zone, *_day_clauses(filters)
    )
    found = conn.execute(picked).all()
    if not found:
        return NONE_MATCH
    count, amount = sum(r[0] for r in found), sum((Decimal(r[1]) for r in found), Decimal(0))
    seq_range = (min(r[2] for r in found), max(r[3] for r in found))
    return Matched(count, amount, seq_range if _narrows(filters) else None)


def _searched(conn: Connection, generation: int, zone: str, filters: Filters) -> Matched:
    seq_range: SeqRange | None = None
    if _narrows(filters):
        seq_range = _seq_range(conn, generation, zone, filters)
        if seq_range is None:
            return NONE_MATCH
    where = conditions(conn, generation, zone, filters, seq_range)
    assert where is not None  # only a missing seq range makes it None
    amounts = conn.execute(select(R.c.amount).where(*where)).scalars().all()
    return Matched(len(amounts), sum(map(Decimal, amounts), Decimal(0)), seq_range)


def _day_clauses(filters: Filters) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if filters.first:
        out.append(D.c.day >= filters.first)
    if filters.last:
        out.append(D.c.day <= filters.last)
    if filters.types:
        out.append(D.c.type.in_(filters.types))
    if filters.services:
        out.append(D.c.service_type.in_(filters.services))
    return out


def page(
    conn: Connection,
    generation: int,
    zone: str,
    filters: Filters,
    columns: tuple[Any, ...],
    offset: int,
    limit: int,
    found: Matched | None = None,
) -> list[Any]:
    """Rows offset..offset+limit of the matches, newest first; `found`: what `matched` said
    of these filters, if the caller has it."""
    if found is not None and found.count <= offset:
        return []
    where = conditions(conn, generation, zone, filters, found.seq_range if found else None)
    if where is None:
        return []
    query = select(*columns).where(*where).order_by(R.c.seq.desc()).offset(offset).limit(limit)
    return list(conn.execute(query).all())


def before(
    conn: Connection,
    generation: int,
    zone: str,
    filters: Filters,
    columns: tuple[Any, ...],
    before_id: int | None,
    limit: int,
) -> list[Any]:
    """Up to `limit` matching rows older than transaction `before_id`, newest first: a keyset
    page, which stays put while newer rows arrive. Ids grow with seq, so the cursor becomes a
    seq bound through the (generation, id) index and the page is one range scan."""
    where = conditions(conn, generation, zone, filters)
    if where is None:
        return []
    if before_id is not None:
        below = conn.execute(
            select(R.c.seq)
            .where(R.c.generation == generation, R.c.id < before_id)
            .order_by(R.c.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        if below is None:
            return []
        where += [R.c.seq <= below, R.c.id < before_id]
    query = select(*columns).where(*where).order_by(R.c.seq.desc()).limit(limit)
    return list(conn.execute(query).all())


def export_query(conn: Connection, generation: int, zone: str, filters: Filters) -> Select[Any]:
    """The export's columns (as `ExportRecord`) of the matching rows, newest first."""
    if conn.dialect.name == "sqlite":
        stamp: Any = type_coerce(R.c.created_at, String)  # naive UTC text as stored
    else:
        stamp = func.to_char(func.timezone("UTC", R.c.created_at), "YYYY-MM-DD HH24:MI:SS.US")
    where = conditions(conn, generation, zone, filters)
    query = select(
        stamp,
        R.c.type,
        R.c.service_type,
        R.c.amount,
        R.c.tokens_used,
        R.c.images_processed,
        R.c.description,
    ).order_by(R.c.seq.desc())
    return query.where(*where) if where is not None else query.where(R.c.generation == -1)


def iter_export(
    conn: Connection, generation: int, zone: str, filters: Filters, batch: int
) -> Iterator[list[ExportRecord]]:
    result = conn.execution_options(stream_results=True, yield_per=batch).execute(
        export_query(conn, generation, zone, filters)
    )
    for part in result.partitions(batch):
        yield [tuple(r) for r in part]
