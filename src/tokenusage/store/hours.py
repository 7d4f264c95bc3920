"""Hour totals of usage (the runway's windows) and the services a generation names.

`mirror_hours` keeps, per UTC hour, the spend of the usage rows and their seq range. A window
(start, end] is then its whole hours plus a scan of the two partial hours at its ends, so the
runway costs O(hours in the window) at any ledger size and in every timezone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from tokenusage.store.days import DayRow
from tokenusage.store.exact import decimal, exact_sum
from tokenusage.store.schema import mirror_hours as H
from tokenusage.store.schema import mirror_rows as R
from tokenusage.store.schema import mirror_services as S

HOUR = timedelta(hours=1)


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def add(conn: Connection, generation: int, rows: Iterable[DayRow]) -> None:
    """Fold rows into the hour totals and the service list, in the caller's transaction."""
    fresh: dict[datetime, list[Any]] = {}
    services: set[str] = set()
    for seq, created_at, service, type_, amount, *_ in rows:
        services.add(service)
        if type_ != "usage":
            continue
        hour = floor_hour(created_at)
        found = fresh.get(hour)
        if found is None:
            fresh[hour] = [-amount, seq, seq]
        else:
            found[0] -= amount
            found[1] = min(found[1], seq)
            found[2] = max(found[2], seq)
    _add_services(conn, generation, services)
    if not fresh:
        return
    where = (H.c.generation == generation, H.c.hour.in_(list(fresh)))
    stored = conn.execute(select(H.c.hour, H.c.spend, H.c.min_seq, H.c.max_seq).where(*where)).all()
    for hour, spend, lo, hi in stored:
        mine = fresh[hour]
        mine[0] += Decimal(spend)
        mine[1], mine[2] = min(mine[1], lo), max(mine[2], hi)
    if stored:
        conn.execute(delete(H).where(*where))
    conn.execute(
        insert(H),
        [
            {
                "generation": generation,
                "hour": hour,
                "spend": format(v[0], "f"),
                "min_seq": v[1],
                "max_seq": v[2],
            }
            for hour, v in fresh.items()
        ],
    )


def _add_services(conn: Connection, generation: int, services: set[str]) -> None:
    if not services:
        return
    known = set(
        conn.execute(
            select(S.c.service_type).where(
                S.c.generation == generation, S.c.service_type.in_(sorted(services))
            )
        ).scalars()
    )
    new = sorted(services - known)
    if new:
        conn.execute(insert(S), [{"generation": generation, "service_type": s} for s in new])


def forget(conn: Connection, generation: int) -> None:
    conn.execute(delete(H).where(H.c.generation == generation))
    conn.execute(delete(S).where(S.c.generation == generation))


def services(conn: Connection, generation: int) -> tuple[str, ...]:
    found = conn.execute(select(S.c.service_type).where(S.c.generation == generation)).scalars()
    return tuple(sorted(found))


def _raw_spend(
    conn: Connection, generation: int, bounds: tuple[int, int], after: datetime, upto: datetime
) -> Decimal:
    """Spend of the usage rows with `after` < created_at <= `upto` in one hour's seq range."""
    found = conn.execute(
        select(exact_sum(R.c.amount, conn.dialect.name)).where(
            R.c.generation == generation,
            R.c.seq >= bounds[0],
            R.c.seq <= bounds[1],
            R.c.type == "usage",
            R.c.created_at > after,
            R.c.created_at <= upto,
        )
    ).scalar_one()
    return -decimal(found)


def _spend_between(conn: Connection, generation: int, first: datetime, last: datetime) -> Decimal:
    """The spend of the whole hours first..last (their starts, inclusive)."""
    if last < first:
        return Decimal(0)
    found = conn.execute(
        select(exact_sum(H.c.spend, conn.dialect.name)).where(
            H.c.generation == generation, H.c.hour >= first, H.c.hour <= last
        )
    ).scalar_one()
    return decimal(found)


def window_spends(
    conn: Connection, generation: int, end: datetime, days: Iterable[int]
) -> dict[int, Decimal]:
    """Spend (minus usage amounts) with end - N days < created_at <= end, for each N."""
    wanted = sorted(set(days))
    starts = {n: end - timedelta(days=n) for n in wanted}
    edges = [floor_hour(end), *(floor_hour(s) for s in starts.values())]
    bounds = {
        hour: (lo, hi)
        for hour, lo, hi in conn.execute(
            select(H.c.hour, H.c.min_seq, H.c.max_seq).where(
                H.c.generation == generation, H.c.hour.in_(edges)
            )
        )
    }
    tail = Decimal(0)
    if floor_hour(end) in bounds:
        tail = _raw_spend(conn, generation, bounds[floor_hour(end)], floor_hour(end) - _TICK, end)
    out = {}
    # Whole hours of the shortest window first; each longer one adds the hours before it.
    whole = Decimal(0)
    newest_counted = floor_hour(end) - HOUR  # the newest hour that ends by `end`
    for n in wanted:
        head_hour = floor_hour(starts[n])
        whole += _spend_between(conn, generation, head_hour + HOUR, newest_counted)
        newest_counted = head_hour
        head = Decimal(0)
        if head_hour in bounds:
            head = _raw_spend(
                conn, generation, bounds[head_hour], starts[n], head_hour + HOUR - _TICK
            )
        out[n] = whole + head + tail
    return out


_TICK = timedelta(microseconds=1)  # created_at has microseconds: (x - tick, y] == [x, y]
