"""Day totals: the aggregates behind the chart, the breakdowns, the runway and filtered counts.

`mirror_days` holds, per generation, business-timezone zone, day, service and type, the count
and exact sums of the rows and the seq range they occupy. `add` folds new rows in (a full
sync's page, an incremental append) inside the transaction that stores them, so the totals and
the rows can never disagree, whatever crashes; `build` computes a zone from scratch the first
time it is asked for. Amounts are summed as Decimal in Python: exact on both engines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, delete, func, insert, select

from tokenusage.store.schema import mirror_days as D
from tokenusage.store.schema import mirror_rows as R
from tokenusage.usage.buckets import DayTotal

BUILD_CHUNK = 50_000
Key = tuple[date, str, str]  # day, service, type


@dataclass
class _Sum:
    count: int
    amount: Decimal
    tokens: int
    images: int
    min_seq: int
    max_seq: int

    def fold(self, other: _Sum) -> None:
        self.count += other.count
        self.amount += other.amount
        self.tokens += other.tokens
        self.images += other.images
        self.min_seq = min(self.min_seq, other.min_seq)
        self.max_seq = max(self.max_seq, other.max_seq)


@dataclass(frozen=True, slots=True)
class DayRow:
    """What `add` needs of one stored row."""

    seq: int
    created_at: datetime
    type: str
    service: str
    amount: Decimal
    tokens: int
    images: int


def _sums(rows: Iterable[DayRow], tz: ZoneInfo) -> dict[Key, _Sum]:
    out: dict[Key, _Sum] = {}
    for r in rows:
        key = (r.created_at.astimezone(tz).date(), r.service, r.type)
        one = _Sum(1, r.amount, r.tokens, r.images, r.seq, r.seq)
        found = out.get(key)
        if found is None:
            out[key] = one
        else:
            found.fold(one)
    return out


def add(conn: Connection, generation: int, zone: str, rows: Sequence[DayRow]) -> None:
    """Fold `rows` into the zone's day totals: read the days they touch, merge, rewrite them."""
    if not rows:
        return
    fresh = _sums(rows, ZoneInfo(zone))
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
        (day, service, type_): _Sum(count, Decimal(amount), tokens, images, lo, hi)
        for day, service, type_, count, amount, tokens, images, lo, hi in stored
    }
    for key, value in fresh.items():
        if key in merged:
            merged[key].fold(value)
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
                "count": v.count,
                "amount": format(v.amount, "f"),
                "tokens": v.tokens,
                "images": v.images,
                "min_seq": v.min_seq,
                "max_seq": v.max_seq,
            }
            for (day, service, type_), v in merged.items()
        ],
    )


def stored_rows(conn: Connection, generation: int, lo: int, hi: int) -> list[DayRow]:
    found = conn.execute(
        select(
            R.c.seq,
            R.c.created_at,
            R.c.type,
            R.c.service_type,
            R.c.amount,
            R.c.tokens_used,
            R.c.images_processed,
        ).where(R.c.generation == generation, R.c.seq >= lo, R.c.seq <= hi)
    ).all()
    return [DayRow(s, c, t, sv, Decimal(a), tk, im) for s, c, t, sv, a, tk, im in found]


def build(conn: Connection, generation: int, zone: str, min_seq: int, max_seq: int) -> None:
    """The zone's day totals from the generation's rows (replacing any), in seq chunks."""
    conn.execute(delete(D).where(D.c.generation == generation, D.c.zone == zone))
    for lo in range(min_seq, max_seq + 1, BUILD_CHUNK):
        add(conn, generation, zone, stored_rows(conn, generation, lo, lo + BUILD_CHUNK - 1))


def read(
    conn: Connection, generation: int, zone: str, first: date | None, last: date | None
) -> list[DayTotal]:
    query = select(
        D.c.day, D.c.service_type, D.c.type, D.c.count, D.c.amount, D.c.tokens, D.c.images
    ).where(D.c.generation == generation, D.c.zone == zone)
    if first is not None:
        query = query.where(D.c.day >= first)
    if last is not None:
        query = query.where(D.c.day <= last)
    return [
        DayTotal(day, service, type_, count, Decimal(amount), tokens, images)
        for day, service, type_, count, amount, tokens, images in conn.execute(query)
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


def services(conn: Connection, generation: int, zone: str) -> tuple[str, ...]:
    found = conn.execute(
        select(D.c.service_type).where(D.c.generation == generation, D.c.zone == zone).distinct()
    ).scalars()
    return tuple(sorted(found))


def last_usage_day(conn: Connection, generation: int, zone: str) -> date | None:
    found: Any = conn.execute(
        select(func.max(D.c.day)).where(
            D.c.generation == generation, D.c.zone == zone, D.c.type == "usage"
        )
    ).scalar_one_or_none()
    return found if found is None or isinstance(found, date) else date.fromisoformat(str(found))


def _usage_amounts(
    conn: Connection, generation: int, bounds: tuple[int, int], after: datetime, upto: datetime
) -> Decimal:
    """Sum of usage amounts with `after` < created_at <= `upto`, scanning one seq range."""
    found = conn.execute(
        select(R.c.amount).where(
            R.c.generation == generation,
            R.c.seq >= bounds[0],
            R.c.seq <= bounds[1],
            R.c.type == "usage",
            R.c.created_at > after,
            R.c.created_at <= upto,
        )
    ).scalars()
    return sum((Decimal(a) for a in found), Decimal(0))


def usage_spend(
    conn: Connection, generation: int, zone: str, start: datetime, end: datetime
) -> Decimal:
    """Spend (minus usage amounts) with start < created_at <= end, exactly.

    Whole days come from the day totals; only the two partial days at the edges read rows,
    and only their seq range, so the cost is O(one day) whatever the ledger's size.
    """
    tz = ZoneInfo(zone)
    d0, d1 = start.astimezone(tz).date(), end.astimezone(tz).date()
    query = (
        select(D.c.day, D.c.amount, D.c.min_seq, D.c.max_seq)
        .where(D.c.generation == generation, D.c.zone == zone, D.c.type == "usage")
        .where(D.c.day >= d0, D.c.day <= d1)
    )
    per_day: dict[date, tuple[Decimal, int, int]] = {}
    for day, amount, lo, hi in conn.execute(query):
        total, a, b = per_day.get(day, (Decimal(0), lo, hi))
        per_day[day] = (total + Decimal(amount), min(a, lo), max(b, hi))
    spent = Decimal(0)
    far_past = start - timedelta(days=2)  # before the edge day began, even a 25-hour one
    for day, (total, lo, hi) in per_day.items():
        if d0 < day < d1:
            spent += total
            continue
        # An edge day: its total minus the rows outside the window, or the rows inside it.
        low_edge = day == d0
        high_edge = day == d1
        if low_edge and not high_edge and start.astimezone(tz).hour >= 12:
            spent += _usage_amounts(conn, generation, (lo, hi), start, end)
        elif low_edge and not high_edge:
            spent += total - _usage_amounts(conn, generation, (lo, hi), far_past, start)
        elif high_edge and not low_edge:
            spent += total - _usage_amounts(
                conn, generation, (lo, hi), end, end + timedelta(days=2)
            )
        else:
            spent += _usage_amounts(conn, generation, (lo, hi), start, end)
    return -spent
