"""Insights for a view: which days to read, and the `Insights` made from what was read.

The chart and the breakdowns cover the date filter's range (the last 30 days without one);
the breakdowns compare with the period of the same length just before it; "spend so far"
compares this month to date with the same days of last month. All of it comes from one read
of running totals (at the ends of the chart's buckets and of those periods), plus the
runway's two window sums.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import Decimal

from tokenusage.service.context import Context
from tokenusage.service.history import HistorySync
from tokenusage.service.model import Insights
from tokenusage.service.problems import Problem, unique
from tokenusage.store.insights import InsightQuery, StoredInsights
from tokenusage.usage.buckets import (
    By,
    UsageRow,
    breakdowns,
    chart,
    previous_range,
    usage_rows,
)
from tokenusage.usage.filters import Filters
from tokenusage.usage.runway import SpendSoFar, forecast, month_ranges


def anchor(now: datetime) -> datetime:
    """The runway's windows end at `now` to the second, so views within one second share
    one computation."""
    return now.replace(microsecond=0)


def query_for(filters: Filters, now: datetime, tz: tzinfo) -> InsightQuery:
    """What to read for the insights of `filters` at `now`: the chart's days, the period
    before them, and today / this month / the same days of last month."""
    today = now.astimezone(tz).date()
    first, last = filters.insight_range(today)
    (month_first, _), (prev_first, prev_same) = month_ranges(today)
    spans = ((today, today), (month_first, today), (prev_first, prev_same))
    return InsightQuery(first, last, previous_range(first, last), spans, anchor(now))


def build(
    stored: StoredInsights,
    filters: Filters,
    query: InsightQuery,
    tz: tzinfo,
    balance: Decimal | None,
) -> Insights:
    first, last = query.first, query.last
    before_first, before_last = query.previous
    today_s, month_s, before_s = stored.spends
    spend = SpendSoFar(today_s, month_s, before_s, query.spans[0][0])
    by_service, by_type = breakdowns(stored.current, stored.previous)
    runway = None
    if balance is not None:
        runway = forecast(
            balance, stored.spend_7d, stored.spend_30d, query.now, tz, stored.last_spend_on
        )
    return Insights(
        first=first,
        last=last,
        default_range=not filters.dated,
        chart=chart(stored.buckets, first, last),
        by_service=by_service,
        by_type=by_type,
        previous_first=before_first,
        previous_last=before_last,
        spend=spend,
        runway=runway,
        services=stored.services,
    )


async def usage(
    ctx: Context, history: HistorySync, filters: Filters, by: By
) -> tuple[list[UsageRow], list[Problem]]:
    """`tokenusage usage`: the buckets of the mirror (brought up to date first) over the
    filters' date range, or every day without one. An empty list when nothing is stored."""
    problems: list[Problem] = []
    await history.ensure(problems)
    found = await ctx.stored(
        lambda s: s.usage_days(ctx.identity, filters.first, filters.last), problems
    )
    return ([] if found is None else usage_rows(found, by)), unique(problems)
