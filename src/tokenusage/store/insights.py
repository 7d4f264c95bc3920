"""What the insights read from the store in one snapshot: the day totals of the chart's range,
the previous period's totals per service and type, the usage spend of a few date ranges, the
spend of the runway's two rolling windows, the newest day with usage and the services known.

Everything but the chart's days is summed in SQL, exactly (`exact.py`), so what crosses from
the database is a few hundred rows at any ledger size.
"""

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

Span = tuple[date, date]  # business days, inclusive


@dataclass(frozen=True)
class InsightQuery:
    first: date  # the chart's days, [first, last]
    last: date
    previous: Span  # totals per service and type over these days
    spans: tuple[Span, ...]  # the usage spend of each
    now: datetime  # the runway's windows end here


@dataclass(frozen=True)
class StoredInsights:
    days: list[DayTotal]
    previous: list[DayTotal]  # one per service and type, dated the period's first day
    spends: tuple[Decimal, ...]  # of `InsightQuery.spans`
    spend_7d: Decimal
    spend_30d: Decimal
    last_spend_on: date | None
    services: tuple[str, ...]
    # What the day totals and sums are of: equal versions, equal figures (for memos of what
    # is built from them). The two window spends are also of `InsightQuery.now`.
    version: tuple[Any, ...] = ()


def read(
    conn: Connection, gen: Row[Any], zone: str, query: InsightQuery, memo: Memo[Any]
) -> StoredInsights:
    """From `memo` when this generation, at this size, was read for the same question: rows
    of a generation never change, and appends move `max_seq`."""
    version = (gen.generation, gen.started_at, gen.max_seq, zone)
    g = gen.generation

    def totals() -> tuple[Any, ...]:
        return (
            days.read(conn, g, zone, query.first, query.last),
            days.grouped(conn, g, zone, *query.previous),
            days.usage_spends(conn, g, zone, query.spans),
            days.last_usage_day(conn, g, zone),
            hours.services(conn, g),
        )

    def spends() -> tuple[Decimal, Decimal]:
        found = hours.window_spends(conn, g, query.now, WINDOWS.values())
        return found[WINDOWS["7d"]], found[WINDOWS["30d"]]

    asked = (query.first, query.last, query.previous, query.spans)
    current, previous, spans, last_spend, services = memo.get(("days", *version, asked), totals)
    spend_7d, spend_30d = memo.get(("spend", *version, query.now), spends)
    key = (*version, asked)  # what the days and sums are of; the runway's also of `now`
    return StoredInsights(current, previous, spans, spend_7d, spend_30d, last_spend, services, key)
