"""The parts of `DashboardService.view` that read and put together: the stored view (with the
filters and the insights asked for), the page of rows it holds, the live page when there is
no store, and the finished `DashboardView`."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tokenusage.config import Settings
from tokenusage.licenseapi.errors import LicenseApiError
from tokenusage.service import insights
from tokenusage.service.assemble import LiveHistory, Page, assemble, mirror_page
from tokenusage.service.context import Context
from tokenusage.service.flights import Deadline, within
from tokenusage.service.model import (
    NONE,
    CacheInfo,
    DashboardView,
    Insights,
    Matching,
    Source,
    SyncProgress,
)
from tokenusage.service.problems import DeadlinePassed, Problem, Where
from tokenusage.store import StoredView
from tokenusage.store.insights import InsightQuery, StoredInsights
from tokenusage.usage.buckets import ZERO
from tokenusage.usage.filters import Filters
from tokenusage.usage.pagination import paginate


async def read(
    ctx: Context, page: int, filters: Filters, asked: InsightQuery, problems: list[Problem]
) -> StoredView | None:
    """Page `page` of the rows matching `filters`, and the insights, in one store trip."""
    per_page = ctx.settings.page_size

    def page_of(rows: int) -> int:
        return paginate(rows, page, per_page).page

    identity = ctx.identity
    return await ctx.stored(
        lambda s: s.read_view(
            identity, identity, per_page, page_of, filters=filters, insights=asked
        ),
        problems,
    )


def page(
    settings: Settings,
    stored: StoredView,
    number: int,
    source: Source,
    progress: SyncProgress | None,
) -> Page:
    total = None if stored.matched is None else stored.matched.count
    return mirror_page(
        stored.mirror, stored.rows, number, settings.page_size, source, progress, total
    )


async def live(
    ctx: Context, history: LiveHistory, number: int, problems: list[Problem], deadline: Deadline
) -> Page:
    """No usable store: the newest page of history straight from the API."""
    settings = ctx.settings
    per_page = settings.page_size
    fetch = ctx.upstream.run(
        "history-live",
        lambda: history.fetch(ctx.client, settings.history_page_size, settings.account_ttl),
    )
    try:
        rows, total, at = await within(fetch, deadline)
    except (LicenseApiError, DeadlinePassed) as exc:
        problems.append(ctx.problem(exc, Where.HISTORY))
        return [], paginate(0, 1, per_page), NONE
    window = paginate(len(rows), number, per_page)
    info = CacheInfo("live", at, len(rows), total, total > len(rows))
    return rows[window.offset : window.offset + per_page], window, info


def _insights(
    ctx: Context, stored: StoredInsights, filters: Filters, asked: InsightQuery, balance: Any
) -> Insights:
    """Built once per stored version, range, second and balance: a warm page does not redo
    the chart and the breakdowns."""
    # The chart and breakdowns are of the stored version and the range (the key pages cache
    # their HTML by); the runway also of the second and the balance.
    shown = (stored.version, filters.first, filters.last, ctx.settings.timezone)
    key = (shown, asked.now, balance)
    found: Insights | None = ctx.built.get(key) if stored.version else None
    if found is None:
        built = insights.build(stored, filters, asked, ctx.settings.tz, balance)
        found = replace(built, key=shown)
        ctx.built[key] = found
    return found


def finish(
    ctx: Context,
    pieces: tuple[Any, Any, Any],
    parts: Page,
    problems: list[Problem],
    filters: Filters,
    stored: StoredView | None,
    asked: InsightQuery,
) -> DashboardView:
    """The view, with the insights built from what was stored and the balance shown."""
    found = None
    matching = None
    if stored is not None and stored.insights is not None:
        stats = pieces[1][0]
        balance = None if stats is None else stats.balance
        found = _insights(ctx, stored.insights, filters, asked, balance)
    if filters.active:
        matched = stored.matched if stored is not None else None
        matching = Matching(matched.count, matched.amount) if matched else Matching(0, ZERO)
    return assemble(
        ctx.settings,
        ctx.clock(),
        pieces,
        parts,
        problems,
        filters=filters,
        matching=matching,
        insights=found,
    )
