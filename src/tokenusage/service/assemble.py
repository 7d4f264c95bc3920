"""Putting a `DashboardView` together: estimates, the low-balance flag, and the page of
transactions from the mirror, from the first page a running full sync fetched, or (without a
usable store) from the newest page of history fetched live."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from datetime import UTC, datetime

from cachetools import LRUCache

from tokenusage.config import Settings
from tokenusage.licenseapi.client import LicenseApiClient
from tokenusage.licenseapi.models import History, Pricing, UserInfo, UserStats
from tokenusage.service.model import (
    NONE,
    CacheInfo,
    DashboardView,
    Insights,
    Matching,
    Source,
    SyncProgress,
)
from tokenusage.service.problems import Problem, unique
from tokenusage.store import MirrorRow, MirrorStatus
from tokenusage.usage.estimates import estimate_remaining, is_low_balance
from tokenusage.usage.filters import Filters
from tokenusage.usage.pagination import PageWindow, paginate

MEMO_PAGES = 64
Page = tuple[list[MirrorRow], PageWindow, CacheInfo]


class ViewMemo:
    """The last warm views, for at most `seconds` and while the store saw no write.

    Under load many requests ask for the same page within a second; they share one read of
    the store. A write by this process (a sync, a fetch stored) ends every memo at once;
    another replica's writes are seen within `seconds`.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self._views: LRUCache[Hashable, tuple[float, int, DashboardView]] = LRUCache(MEMO_PAGES)

    def get(self, page: Hashable, writes: int) -> DashboardView | None:
        entry = self._views.get(page)
        if entry is None or entry[1] != writes or self.clock() - entry[0] > self.seconds:
            return None
        return entry[2]

    def put(self, page: Hashable, writes: int, view: DashboardView) -> None:
        if self.seconds > 0:
            self._views[page] = (self.clock(), writes, view)


def mirror_page(
    status: MirrorStatus,
    rows: list[MirrorRow],
    page: int,
    per_page: int,
    source: Source,
    progress: SyncProgress | None = None,
    total: int | None = None,
) -> Page:
    """`total`: how many rows match the filters (default: the whole mirror)."""
    info = CacheInfo(
        source if status.present else "none",
        status.synced_at,
        status.rows,
        status.upstream_total,
        status.limited,
        syncing=status.syncing,
        progress=progress if status.syncing else None,
    )
    return rows, paginate(status.rows if total is None else total, page, per_page), info


def live_page(
    history: History,
    page: int,
    per_page: int,
    at: datetime,
    progress: SyncProgress | None = None,
) -> Page | None:
    """Page `page` from the newest page of history as fetched, when it lies inside it."""
    window = paginate(history.total, page, per_page)
    fetched = len(history.transactions)
    if window.offset + per_page > fetched and fetched < history.total:
        return None
    newest = sorted(history.transactions, key=lambda t: t.id, reverse=True)
    rows = [MirrorRow.from_transaction(t) for t in newest[window.offset : window.offset + per_page]]
    info = CacheInfo("live", at, history.total, history.total, syncing=True, progress=progress)
    return rows, window, info


class LiveHistory:
    """The newest page of history fetched live, for when there is no usable local store."""

    def __init__(self) -> None:
        self._rows: list[MirrorRow] = []
        self._total = 0
        self._at: datetime | None = None

    async def fetch(
        self, client: LicenseApiClient, limit: int, ttl: float
    ) -> tuple[list[MirrorRow], int, datetime]:
        """Fetch, or reuse the last fetch while it is younger than `ttl` seconds."""
        if self._at is not None and (datetime.now(UTC) - self._at).total_seconds() < ttl:
            return self._rows, self._total, self._at
        page = await client.history(limit=limit)
        rows = sorted(
            (MirrorRow.from_transaction(t) for t in page.transactions),
            key=lambda r: r.id,
            reverse=True,
        )
        self._rows, self._total, self._at = rows, page.total, datetime.now(UTC)
        return rows, page.total, self._at

    def clear(self) -> None:
        self._rows, self._total, self._at = [], 0, None


def assemble(
    settings: Settings,
    now: datetime,
    pieces: tuple[
        tuple[UserInfo | None, CacheInfo],
        tuple[UserStats | None, CacheInfo],
        tuple[Pricing | None, CacheInfo],
    ],
    page: Page,
    problems: list[Problem],
    *,
    filters: Filters | None = None,
    matching: Matching | None = None,
    insights: Insights | None = None,
) -> DashboardView:
    (info, acache), (stats, scache), (pricing, pcache) = pieces
    estimates = None
    if stats is not None and pricing is not None:
        estimates = estimate_remaining(
            stats.balance,
            image_per_10k=pricing.image_processing_per_10k,
            input_per_1m=pricing.input_tokens_per_1m,
            completion_per_1m=pricing.completion_tokens_per_1m,
            cached_per_1m=pricing.cached_tokens_per_1m,
        )
    low = stats is not None and is_low_balance(stats.balance, settings.low_balance_threshold)
    rows, window, tcache = page
    return DashboardView(
        now=now,
        configured=True,
        account=info,
        stats=stats,
        pricing=pricing,
        estimates=estimates,
        low_balance=low,
        window=window,
        transactions=rows,
        pricing_cache=pcache,
        transactions_cache=tcache,
        account_cache=acache,
        stats_cache=scache,
        problems=unique(problems),
        filters=filters or Filters(),
        matching=matching,
        insights=insights,
    )


def empty_view(settings: Settings, now: datetime, problems: list[Problem]) -> DashboardView:
    return DashboardView(
        now=now,
        configured=False,
        account=None,
        stats=None,
        pricing=None,
        estimates=None,
        low_balance=False,
        window=paginate(0, 1, settings.page_size),
        transactions=[],
        pricing_cache=NONE,
        transactions_cache=NONE,
        account_cache=NONE,
        problems=problems,
    )
