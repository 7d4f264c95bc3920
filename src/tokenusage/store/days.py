"""Day totals: the aggregates behind the chart, the breakdowns, the runway and filtered counts.

`mirror_days` holds, per generation, business-timezone zone, day, service and type, the count
and exact sums of the rows and the seq range they occupy. `add` folds new rows in (a full
sync's page, an incremental append) inside the transaction that stores them, so the totals and
the rows can never disagree, whatever crashes; a zone is computed from scratch the first
time it is asked for (`derived.ensure`). Amounts are folded as Decimal; reads that group
sum in SQL, exactly (`exact.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, delete, func, insert, select

from tokenusage.store.schema import mirror_days as D
from tokenusage.store.schema import mirror_rows as R
from tokenusage.usage.buckets import DayTotal, exactly

Key = tuple[date, str, str]  # day, service, type


# One stored row as everything derived from rows reads it (day and hour totals, search):
# seq, created_at (aware), service, type, amount, tokens, images, description. Plain tuples:
# a full sync folds a million of them.
DayRow = tuple[int, datetime, str, str, Decimal, int, int, str]
# count, amount, tokens, images, min_seq, max_seq
_Sum = list[Any]


def _sums(rows: Iterable[DayRow], tz: ZoneInfo) -> dict[Key, _Sum]:
    out: dict[Key, _Sum] = {}
    for seq, created_at, service, type_, amount, tokens, images, _ in rows:
        key = (created_at.astimezone(tz).date(), service, type_)
        found = out.get(key)
        if found is None:
            out[key] = [1, amount, tokens, images, seq, seq]
        else:
            found[0] += 1
            found[1] += amount
            found[2] += tokens
            found[3] += images
            if seq < found[4]:
                found[4] = seq
            elif seq > found[5]:
                found[5] = seq
    return out


def _fold(into: _Sum, other: _Sum) -> None:
    into[0] += other[0]
    into[1] += other[1]
    into[2] += other[2]
    into[3] += other[3]
    into[4] = min(into[4], other[4])
    into[5] = max(into[5], other[5])


@exactly
def add(conn: Connection, generation: int, zone: str, rows: Iterable[DayRow]) -> date | None:
    """Fold `rows` into the zone's day totals: read the days they touch, merge, rewrite them.
    Returns the first day touched (None for no rows)."""
    fresh = _sums(rows, ZoneInfo(zone))
    if not fresh:
        return None
    days = sorted({k[0] for k in fresh})
    where = and_(D.c.generation == generation, D.c.zone == zone, D.c.day.in_(days))
    stored = conn.execute(
        select(
            D.c.day,
            D.c.service_type,
            D.c.type,
            D.c.count,
            D.c.amount,
            D.c.tokens,
            D.c.images,
            D.c.min_seq,
            D.c.max_seq,
        ).where(where)
    ).all()
    merged: dict[Key, _Sum] = {
        (day, service, type_): [count, Decimal(amount), tokens, images, lo, hi]
        for day, service, type_, count, amount, tokens, images, lo, hi in stored
    }
    for key, value in fresh.items():
        if key in merged:
            _fold(merged[key], value)
        else:
            merged[key] = value
    if stored:
        conn.execute(delete(D).where(where))
    conn.execute(
        insert(D),
        [
            {
                "generation": generation,
                "zone": zone,
                "day": day,
                "service_type": service,
                "type": type_,
                "count": v[0],
                "amount": format(v[1], "f"),
                "tokens": v[2],
                "images": v[3],
                "min_seq": v[4],
                "max_seq": v[5],
            }
            for (day, service, type_), v in merged.items()
        ],
    )
    return days[0]


# A stored day total as `DayTotal` reads it.
TOTAL_COLUMNS = (D.c.day, D.c.service_type, D.c.type, D.c.count, D.c.amount, D.c.tokens, D.c.images)


def read(
    conn: Connection, generation: int, zone: str, first: date | None, last: date | None
) -> list[DayTotal]:
    query = select(*TOTAL_COLUMNS).where(D.c.generation == generation, D.c.zone == zone)
    if first is not None:
        query = query.where(D.c.day >= first)
    if last is not None:
        query = query.where(D.c.day <= last)
    return [
        DayTotal(day, service, type_, count, Decimal(amount), tokens, images)
        for day, service, type_, count, amount, tokens, images in conn.execute(query).all()
    ]


def seq_bounds(
    conn: Connection,
    generation: int,
    zone: str,
    first: date | None,
    last: date | None,
    types: Sequence[str] = (),
    services: Sequence[str] = (),
) -> tuple[int, int] | None:
    """The smallest seq range holding every row of those days, types and services."""
    query = select(func.min(D.c.min_seq), func.max(D.c.max_seq)).where(
        D.c.generation == generation, D.c.zone == zone
    )
    if first is not None:
        query = query.where(D.c.day >= first)
    if last is not None:
        query = query.where(D.c.day <= last)
    if types:
        query = query.where(D.c.type.in_(types))
    if services:
        query = query.where(D.c.service_type.in_(services))
    lo, hi = conn.execute(query).one()
    return None if lo is None else (int(lo), int(hi))


def newest_of_type(conn: Connection, generation: int, zone: str, type_: str) -> int | None:
    """The transaction id of the newest row of `type_`, found through the day totals."""
    top = conn.execute(
        select(func.max(D.c.max_seq)).where(
            D.c.generation == generation, D.c.zone == zone, D.c.type == type_
        )
    ).scalar_one_or_none()
    if top is None:
        return None
    return conn.execute(
        select(R.c.id).where(R.c.generation == generation, R.c.seq == top)
    ).scalar_one_or_none()
