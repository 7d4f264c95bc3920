"""Hour totals of usage (the runway's windows) and the services a generation names (read by
`insights.py`).

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
from tokenusage.store.schema import mirror_hours as H
from tokenusage.store.schema import mirror_services as S
from tokenusage.usage.buckets import exactly

HOUR = timedelta(hours=1)


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


@exactly
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
