"""Running totals: per business-timezone day with rows, what a generation's rows add up to
through the end of that day, per service and type (count, exact amount, tokens, images).

The totals of any range of days are then the difference of two of them, so the chart (one
difference per bucket), the breakdowns and the month sums read a fixed number of values per
bucket, whatever the ledger's size or how many services it names each day.

They are rebuilt from the day totals (`days.py`) in the transaction that changes those: an
append from the first day it touched (normally today: one row). A full sync builds them
once, as it is swapped in (`derived.complete`): its pages come newest first, and each would
otherwise rewrite every later day.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select

from tokenusage.store.days import TOTAL_COLUMNS
from tokenusage.store.schema import mirror_days as D
from tokenusage.store.schema import mirror_running as T
from tokenusage.usage.buckets import DayTotal, exactly

Key = tuple[str, str]  # service, type
Sums = tuple[int, Decimal, int, int]  # count, amount, tokens, images
Vector = dict[Key, Sums]
ONE_DAY = timedelta(days=1)


def encode(totals: dict[Key, list[Any]]) -> str:
    return json.dumps(
        [[s, t, n, format(a, "f"), tk, im] for (s, t), (n, a, tk, im) in sorted(totals.items())],
        separators=(",", ":"),
    )


def decode(text: str | None) -> Vector:
    if text is None:
        return {}
    return {(s, t): (n, Decimal(a), tk, im) for s, t, n, a, tk, im in json.loads(text)}


@exactly
def rebuild(conn: Connection, generation: int, zone: str, since: date | None = None) -> None:
    """Rewrite the running totals of the days from `since` (of every day without) from the
    zone's day totals."""
    mine = (T.c.generation == generation, T.c.zone == zone)
    running: dict[Key, list[Any]] = {}
    days = select(*TOTAL_COLUMNS).where(D.c.generation == generation, D.c.zone == zone)
    if since is None:
        conn.execute(delete(T).where(*mine))
    else:
        before = select(T.c.totals).where(*mine, T.c.day < since).order_by(T.c.day.desc())
        running = {k: list(v) for k, v in decode(conn.execute(before.limit(1)).scalar()).items()}
        conn.execute(delete(T).where(*mine, T.c.day >= since))
        days = days.where(D.c.day >= since)

    def through(day: date) -> dict[str, Any]:
        return {"generation": generation, "zone": zone, "day": day, "totals": encode(running)}

    out: list[dict[str, Any]] = []
    current: date | None = None
    for day, service, type_, count, amount, tokens, images in conn.execute(days.order_by(D.c.day)):
        if day != current and current is not None:
            out.append(through(current))
        current = day
        cell = running.get((service, type_))
        if cell is None:
            running[(service, type_)] = [count, Decimal(amount), tokens, images]
        else:
            cell[0] += count
            cell[1] += Decimal(amount)
            cell[2] += tokens
            cell[3] += images
    if current is not None:
        out.append(through(current))
    if out:
        conn.execute(insert(T), out)


@cache
def _through_statement() -> Any:
    """The stored running totals from the newest one on or before `low` up to `high`."""
    mine = (T.c.generation == bindparam("g"), T.c.zone == bindparam("zone"))
    low = bindparam("low", type_=T.c.day.type)
    start = select(func.max(T.c.day)).where(*mine, T.c.day <= low).scalar_subquery()
    return (
        select(T.c.day, T.c.totals)
        .where(*mine, T.c.day >= func.coalesce(start, low))
        .where(T.c.day <= bindparam("high", type_=T.c.day.type))
        .order_by(T.c.day)
    )


def at(conn: Connection, generation: int, zone: str, days: Iterable[date]) -> dict[date, Vector]:
    """The running totals through the end of each of `days` (empty before the first row)."""
    wanted = sorted(set(days))
    if not wanted:
        return {}
    params = {"g": generation, "zone": zone, "low": wanted[0], "high": wanted[-1]}
    stored = conn.execute(_through_statement(), params).all()
    out: dict[date, Vector] = {}
    decoded: dict[int, Vector] = {-1: {}}
    i = -1
    for day in wanted:
        while i + 1 < len(stored) and stored[i + 1][0] <= day:
            i += 1
        if i not in decoded:
            decoded[i] = decode(stored[i][1])
        out[day] = decoded[i]
    return out


@exactly
def between(later: Vector, earlier: Vector, day: date) -> list[DayTotal]:
    """What the rows after `earlier` up to `later` add up to, per service and type, dated
    `day` (running totals only grow: a generation's rows are never taken away)."""
    out = []
    for (service, type_), (n, amount, tokens, images) in later.items():
        before = earlier.get((service, type_))
        if before is None:
            out.append(DayTotal(day, service, type_, n, amount, tokens, images))
        elif n != before[0]:
            out.append(
                DayTotal(
                    day,
                    service,
                    type_,
                    n - before[0],
                    amount - before[1],
                    tokens - before[2],
                    images - before[3],
                )
            )
    return out


@exactly
def spend(later: Vector, earlier: Vector) -> Decimal:
    """Credits consumed between the two: minus the usage amounts."""
    used = between(later, earlier, date.min)
    return -sum((t.amount for t in used if t.type == "usage"), Decimal(0))


def forget(conn: Connection, generation: int) -> None:
    conn.execute(delete(T).where(T.c.generation == generation))
