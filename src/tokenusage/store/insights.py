"""What the insights read from the store in one snapshot: day totals over a range, the spend
of the runway's two rolling windows, the newest day with usage and the services known."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row

from tokenusage.store import days, hours
from tokenusage.store.pagecache import Memo
from tokenusage.usage.buckets import DayTotal
from tokenusage.usage.runway import WINDOWS


@dataclass(frozen=True)
class InsightQuery:
    first: date  # day totals over [first, last], business days
    last: date
    now: datetime  # the runway's windows end here


@dataclass(frozen=True)
class StoredInsights:
    days: list[DayTotal]
    spend_7d: Decimal
    spend_30d: Decimal
    last_spend_on: date | None
    services: tuple[str, ...]
    # What these figures are of: equal versions, equal figures (for memos of what is built
    # from them).
    version: tuple[Any, ...] = ()


def read(
    conn: Connection, gen: Row[Any], zone: str, query: InsightQuery, memo: Memo[Any]
) -> StoredInsights:
    """From `memo` when this generation, at this size, was read for the same question: rows
    of a generation never change, and appends move `max_seq`."""
    version = (gen.generation, gen.started_at, gen.max_seq, zone)

    def totals() -> tuple[list[DayTotal], date | None, tuple[str, ...]]:
        return (
            days.read(conn, gen.generation, zone, query.first, query.last),
            days.last_usage_day(conn, gen.generation, zone),
            hours.services(conn, gen.generation),
        )

    def spends() -> tuple[Decimal, Decimal]:
        found = hours.window_spends(conn, gen.generation, query.now, WINDOWS.values())
        return found[WINDOWS["7d"]], found[WINDOWS["30d"]]

    found, last_spend, services = memo.get(("days", *version, query.first, query.last), totals)
    spend_7d, spend_30d = memo.get(("spend", *version, query.now), spends)
    key = (*version, query.first, query.last, query.now)
    return StoredInsights(found, spend_7d, spend_30d, last_spend, services, key)
