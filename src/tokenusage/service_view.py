"""Putting a `DashboardView` together from its pieces: estimates, the low-balance flag, the
page of transactions (from the mirror or from a page of history fetched live)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime

from tokenusage.config import Settings
from tokenusage.licenseapi.models import History, Pricing, UserInfo, UserStats
from tokenusage.service_sync import as_row
from tokenusage.store import MirrorRow, MirrorStatus
from tokenusage.usage.estimates import estimate_remaining, is_low_balance
from tokenusage.usage.pagination import PageWindow, paginate
from tokenusage.view import CacheInfo, DashboardView

NONE = CacheInfo("none", None)
MEMO_SECONDS = 1.0
MEMO_PAGES = 64


class ViewMemo:
    """The last warm views, for at most `MEMO_SECONDS` and while the store saw no write.

    Under load many requests ask for the same page within a second; they share one read of
    the store. A write by this process (a sync, a fetch stored) ends every memo at once;
    another replica's writes are seen within a second.
    """

    def __init__(self, seconds: float = MEMO_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self.clock = clock
        self._views: OrderedDict[Hashable, tuple[float, int, DashboardView]] = OrderedDict()

    def get(self, page: object, writes: int) -> DashboardView | None:
        entry = self._views.get(_key(page))
        if entry is None or entry[1] != writes or self.clock() - entry[0] > self.seconds:
            return None
        return entry[2]

    def put(self, page: object, writes: int, view: DashboardView) -> None:
        self._views[_key(page)] = (self.clock(), writes, view)
        self._views.move_to_end(_key(page))
        while len(self._views) > MEMO_PAGES:
            self._views.popitem(last=False)


def _key(page: object) -> Hashable:
    return page if isinstance(page, int | str) else repr(page)


def mirror_page(
    status: MirrorStatus, rows: list[MirrorRow], page: object, per_page: int, source: str
) -> tuple[list[MirrorRow], PageWindow, CacheInfo]:
    info = CacheInfo(
        "live" if source == "live" else "cached",
        status.synced_at,
        status.rows,
        status.upstream_total,
        status.limited,
    )
    return rows, paginate(status.rows, page, per_page), info


def live_page(
    history: History, page: object, per_page: int, at: datetime
) -> tuple[list[MirrorRow], PageWindow, CacheInfo] | None:
    """Page `page` from the newest page of history as fetched, when it lies inside it."""
    window = paginate(history.total, page, per_page)
    fetched = len(history.transactions)
    if window.offset + per_page > fetched and fetched < history.total:
        return None
    newest = sorted(history.transactions, key=lambda t: t.id, reverse=True)
    rows = [as_row(t) for t in newest[window.offset : window.offset + per_page]]
    return rows, window, CacheInfo("live", at, history.total, history.total, False, syncing=True)


def assemble(
    settings: Settings,
    now: datetime,
    info: UserInfo | None,
    stats: UserStats | None,
    pricing: Pricing | None,
    page: tuple[list[MirrorRow], PageWindow, CacheInfo],
    pcache: CacheInfo,
    acache: CacheInfo,
    scache: CacheInfo,
    errors: list[str],
) -> DashboardView:
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
        errors=list(dict.fromkeys(errors)),
        stats_cache=scache,
    )


def empty_view(settings: Settings, now: datetime, errors: list[str]) -> DashboardView:
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
        errors=errors,
    )
