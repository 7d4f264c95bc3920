"""What the insights read from the store in one snapshot: the running totals at the ends
of the chart's buckets, of its range, of the previous period and of the month's spans (one
statement), then one row of sums (the spend of the runway's two rolling windows, the newest
day with usage and the services known).

Every range's totals are the difference of two running totals (`running.py`), so what crosses
from the database is one value per bucket and span, at any ledger size. The sums statement
is built once per dialect.

A rolling window (start, end] of usage spend is its whole UTC hours from `mirror_hours`, plus
the rows of the two partial hours at its ends, found through those hours' seq ranges.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Connection, Row, Select, bindparam, func, select
from sqlalchemy.sql import ColumnElement

from tokenusage.store import running
from tokenusage.store.exact import decimal, exact_sum
from tokenusage.store.hours import HOUR, floor_hour
from tokenusage.store.pagecache import Memo
from tokenusage.store.schema import mirror_days as D
from tokenusage.store.schema import mirror_hours as H
from tokenusage.store.schema import mirror_rows as R
from tokenusage.store.schema import mirror_services as S
from tokenusage.usage.buckets import EXACT, DayTotal, bucket_spans
from tokenusage.usage.runway import WINDOWS

Span = tuple[date, date]  # business days, inclusive
_TICK = timedelta(microseconds=1)  # created_at has microseconds: (x - tick, y] == [x, y]
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class InsightQuery:
    first: date  # the chart's days, [first, last]
    last: date
    previous: Span  # totals per service and type over these days
    spans: tuple[Span, ...]  # the usage spend of each
    now: datetime  # the runway's windows end here


@dataclass(frozen=True)
class StoredInsights:
    buckets: list[DayTotal]  # per chart bucket, service and type, dated the bucket's first day
    current: list[DayTotal]  # per service and type over the chart's range, dated its first day
    previous: list[DayTotal]  # the same over the previous period, dated its first day
    spends: tuple[Decimal, ...]  # of `InsightQuery.spans`
    spend_7d: Decimal
    spend_30d: Decimal
    last_spend_on: date | None
    services: tuple[str, ...]
    # What the day totals and sums are of: equal versions, equal figures (for memos of what
    # is built from them). The two window spends are also of `InsightQuery.now`.
    version: tuple[Any, ...] = ()


def _mine(table: Any, zoned: bool = True) -> list[ColumnElement[bool]]:
    where = [table.c.generation == bindparam("g")]
    return [*where, table.c.zone == bindparam("zone")] if zoned else where


def _hours_sum(name: str, dialect: str) -> Any:
    """The spend of the whole hours `name`_first..`name`_last (their starts, inclusive)."""
    hour = H.c.hour.type
    return (
        select(exact_sum(H.c.spend, dialect))
        .where(*_mine(H, zoned=False))
        .where(H.c.hour >= bindparam(f"{name}_first", type_=hour))
        .where(H.c.hour <= bindparam(f"{name}_last", type_=hour))
        .scalar_subquery()
    )


def _rows_sum(name: str, dialect: str) -> Any:
    """The usage amounts with `name`_after < created_at <= `name`_upto, all inside hour
    `name`_hour, found through that hour's seq range (none when it has no usage)."""
    at = R.c.created_at.type

    def bound(column: Any) -> Any:
        hour = bindparam(f"{name}_hour", type_=H.c.hour.type)
        return select(column).where(*_mine(H, zoned=False), H.c.hour == hour).scalar_subquery()

    return (
        select(exact_sum(R.c.amount, dialect))
        .where(*_mine(R, zoned=False), R.c.type == "usage")
        .where(R.c.seq >= bound(H.c.min_seq), R.c.seq <= bound(H.c.max_seq))
        .where(R.c.created_at > bindparam(f"{name}_after", type_=at))
        .where(R.c.created_at <= bindparam(f"{name}_upto", type_=at))
        .scalar_subquery()
    )


@cache
def _sums_statement(dialect: str) -> Select[Any]:
    """One row: the newest day with usage, the services (a JSON array), then the runway's
    rows after `end`'s hour and, per window, its whole hours and the rows of its first,
    partial hour."""
    listed = func.json_group_array if dialect == "sqlite" else func.json_agg
    services = select(listed(S.c.service_type)).where(*_mine(S, zoned=False))
    last_day = select(func.max(D.c.day)).where(*_mine(D), D.c.type == "usage")
    columns = [last_day.scalar_subquery(), services.scalar_subquery()]
    columns.append(_rows_sum("tail", dialect))
    for n in WINDOWS.values():
        columns += [_hours_sum(f"whole{n}", dialect), _rows_sum(f"head{n}", dialect)]
    return select(*columns)


def _window_params(end: datetime) -> dict[str, datetime]:
    """Each window (end - N days, end]: the rows of end's own hour up to `end`, the whole
    hours after the start's hour and before end's, and the rows of the start's hour after it."""
    params = {"tail_hour": floor_hour(end), "tail_after": floor_hour(end) - _TICK}
    params["tail_upto"] = end
    for n in WINDOWS.values():
        start = end - timedelta(days=n)
        head = floor_hour(start)
        params |= {f"whole{n}_first": head + HOUR, f"whole{n}_last": floor_hour(end) - HOUR}
        params |= {f"head{n}_hour": head, f"head{n}_after": start}
        params[f"head{n}_upto"] = head + HOUR - _TICK
    return params


def _day(value: object) -> date | None:
    return value if value is None or isinstance(value, date) else date.fromisoformat(str(value))


def read(
    conn: Connection, gen: Row[Any], zone: str, query: InsightQuery, memo: Memo[Any]
) -> StoredInsights:
    """From `memo` when this generation, at this size, was read for the same question: rows
    of a generation never change, and appends move `max_seq`."""
    version = (gen.generation, gen.started_at, gen.max_seq, zone)
    dialect = conn.dialect.name
    mine = {"g": gen.generation, "zone": zone}

    def totals() -> tuple[list[DayTotal], list[DayTotal], list[DayTotal], tuple[Decimal, ...]]:
        spans = bucket_spans(query.first, query.last)
        before_first = query.previous[0]
        ends = [*spans, *query.spans, query.previous]  # with the range: spans[0] to spans[-1]
        points = [d for first, last in ends for d in (first - ONE_DAY, last)]
        at = running.at(conn, gen.generation, zone, points)
        buckets = [t for f, b in spans for t in running.between(at[b], at[f - ONE_DAY], f)]
        before = at[query.first - ONE_DAY]
        current = running.between(at[query.last], before, query.first)
        previous = running.between(before, at[before_first - ONE_DAY], before_first)
        spends = tuple(running.spend(at[b], at[f - ONE_DAY]) for f, b in query.spans)
        return buckets, current, previous, spends

    def sums() -> tuple[Any, ...]:
        row = conn.execute(_sums_statement(dialect), {**mine, **_window_params(query.now)}).one()
        last_day, services, tail = row[:3]
        wholes, heads = row[3::2], row[4::2]
        window = {  # whole hours are stored as spend, the partial hours' rows as amounts
            days: EXACT.subtract(EXACT.subtract(decimal(whole), decimal(head)), decimal(tail))
            for days, whole, head in zip(WINDOWS.values(), wholes, heads, strict=True)
        }
        named = json.loads(services) if isinstance(services, str) else services or ()
        return window[WINDOWS["7d"]], window[WINDOWS["30d"]], _day(last_day), tuple(sorted(named))

    asked = (query.first, query.last, query.previous, query.spans)
    buckets, current, previous, spends = memo.get(("totals", *version, asked), totals)
    spend_7d, spend_30d, last_spend, services = memo.get(("sums", *version, query.now), sums)
    key = (*version, asked)  # what the totals and sums are of; the runway's also of `now`
    return StoredInsights(
        buckets, current, previous, spends, spend_7d, spend_30d, last_spend, services, key
    )
