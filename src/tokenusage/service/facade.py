"""`DashboardService`: the one door the web pages, the CLI and the JSON API go through.

Typed inputs in (`page: int`), view models and `Problem`s out. Its collaborators get what they
need passed in (`Context`): freshness (`freshness`), the history mirror (`history`), view
assembly (`assemble`), export and debug. The store is synchronous and runs in worker threads.

A warm view is one trip to the store (`Store.read_view`). A cold view sends its upstream
requests at once and answers from the newest page of history as soon as it is parsed, while
the rest of the history is mirrored behind it. No view waits longer than `timeout` in all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from tokenusage.config import Settings
from tokenusage.licenseapi.client import LicenseApiClient
from tokenusage.licenseapi.models import History
from tokenusage.service import debug as debug_page
from tokenusage.service import export, insights, viewparts
from tokenusage.service.apipages import TransactionPages
from tokenusage.service.assemble import (
    LiveHistory,
    Page,
    ViewMemo,
    empty_view,
    live_page,
)
from tokenusage.service.context import Context
from tokenusage.service.figures import Figures, figures_of
from tokenusage.service.flights import Deadline, Upstream
from tokenusage.service.freshness import ACCOUNT, PRICING, STATS, Fetched, Piece, obtain, source_of
from tokenusage.service.history import FULL, INCREMENTAL, FirstPage, HistorySync
from tokenusage.service.model import (
    DashboardView,
    DebugInfo,
)
from tokenusage.service.problems import Kind, Problem, Where, unique
from tokenusage.store import Cached, Store, StoreError
from tokenusage.usage.buckets import By, UsageRow
from tokenusage.usage.filters import Filters

log = logging.getLogger(__name__)
T = TypeVar("T")
NOT_CONFIGURED = "License configuration missing: set license_key, license_domain and license_email"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DashboardService:
    def __init__(
        self,
        settings: Settings,
        client: LicenseApiClient,
        store: Store | None,
        *,
        store_error: str | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.settings = settings
        self.ctx = Context(settings, client, store, clock, Upstream(settings.failure_backoff))
        if store_error is not None:
            self.ctx.store_problem = self.ctx.problem(StoreError(store_error), Where.STORE)
        self.history = HistorySync(self.ctx)
        self.live = LiveHistory()
        self.memo = ViewMemo(settings.view_memo_seconds)
        self.api_pages = TransactionPages()

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> DashboardService:
        """Open the store; a store that cannot be opened is reported and live data is used."""
        store: Store | None = None
        error = None
        try:
            store = Store.open(settings.store_url, zone=settings.timezone)
        except StoreError as exc:
            error = str(exc)
            log.error("local store unavailable, serving live data only: %s", exc)
        client = LicenseApiClient.from_settings(settings, transport=kwargs.pop("transport", None))
        return cls(settings, client, store, store_error=error, **kwargs)

    @property
    def store(self) -> Store | None:
        return self.ctx.store

    @property
    def client(self) -> LicenseApiClient:
        return self.ctx.client

    @property
    def identity(self) -> str:
        """The key of everything stored for this licence (key, domain and e-mail)."""
        return self.ctx.identity

    @property
    def clock(self) -> Callable[[], datetime]:
        """The service's "now" (UTC); tests may replace it."""
        return self.ctx.clock

    @clock.setter
    def clock(self, clock: Callable[[], datetime]) -> None:
        self.ctx.clock = clock

    @property
    def store_problem(self) -> Problem | None:
        """Why the store could not be opened at start-up, when it could not."""
        return self.ctx.store_problem

    @property
    def syncing(self) -> bool:
        """A full sync is running in this process."""
        return self.ctx.upstream.flights.running(FULL)

    async def aclose(self, *, wait: bool = True) -> None:
        """Close the client and the store. A sync still mirroring the history behind a cold
        view is awaited (a CLI run completes the mirror), or cancelled with `wait=False`
        (a server shutting down); a cancelled sync leaves the previous mirror whole."""
        await self.ctx.upstream.flights.drain(cancel=not wait)
        await self.ctx.client.aclose()
        store = self.ctx.store
        if store is not None:
            await asyncio.to_thread(store.close)

    async def wait_idle(self) -> None:
        """Wait until nothing runs behind a view (a sync mirroring the rest of the history)."""
        await self.ctx.upstream.flights.drain(cancel=False)

    def _problems(self) -> list[Problem]:
        found = self.ctx.store_problem
        return [found] if found is not None else []

    def _not_configured(self) -> Problem:
        return Problem(Kind.CONFIG, Where.CONFIG, NOT_CONFIGURED, self.clock())

    def _deadline(self) -> Deadline:
        return Deadline.after(self.settings.timeout)

    # -- the page ----------------------------------------------------------------------------

    async def view(
        self,
        page: int = 1,
        *,
        filters: Filters | None = None,
        complete: bool = False,
        live_since: datetime | None = None,
    ) -> DashboardView:
        """Everything one page shows: page `page` of the history rows matching `filters`,
        and the insights over their date range. Missing or stale pieces are fetched
        concurrently, within `timeout` in all. `complete` (the CLI): wait for the whole
        history to be mirrored, within `sync_deadline`, instead of answering from its first
        page. Stored data fetched since `live_since` (by the action that led to this page) is
        labelled live."""
        ctx = self.ctx
        if not self.settings.licence_configured:
            return empty_view(self.settings, self.clock(), [self._not_configured()])
        filters = filters if filters is not None else Filters()
        problems = self._problems()
        store = ctx.store
        memo_ok = not complete and live_since is None
        key = (page, filters)
        if store is not None and memo_ok and (memo := self.memo.get(key, store.writes)):
            # Equal filters may come from different input: each page names its own errors.
            return replace(memo, now=self.clock(), filters=filters)
        deadline = self._deadline()
        per_page = self.settings.page_size
        landed = ctx.upstream.snapshot()
        writes = store.writes if store is not None else 0
        asked = insights.query_for(filters, self.clock(), self.settings.tz)
        stored = await viewparts.read(self.ctx, page, filters, asked, problems)
        stale = stored is not None and not self.history.fresh(stored.mirror)

        def covers(h: History) -> bool:
            if complete or filters.active:
                return False
            return live_page(h, page, per_page, self.clock()) is not None

        async def history() -> tuple[bool, FirstPage | None]:
            if stored is None or not stale:
                return False, None
            return await self.history.for_view(
                stored.mirror, problems, landed[INCREMENTAL], covers, None if complete else deadline
            )

        def fresh(piece: Piece[T], cached: Cached[T] | None) -> Awaitable[Fetched[T]]:
            seen = landed[piece.key]
            return obtain(
                ctx, piece, problems, cached, seen=seen, deadline=deadline, live_since=live_since
            )

        # Typed one by one: inside gather(), mypy would infer Piece[X | None].
        account_c = fresh(ACCOUNT, stored.info if stored else None)
        stats_c = fresh(STATS, stored.stats if stored else None)
        pricing_c = fresh(PRICING, stored.pricing if stored else None)
        (synced, first), account, stats, pricing = await asyncio.gather(
            history(), account_c, stats_c, pricing_c
        )
        pieces = (account, stats, pricing)
        progress = self.history.progress
        parts: Page | None = None
        if stored is None:
            parts = await viewparts.live(self.ctx, self.live, page, problems, deadline)
        elif not stale:
            source = source_of(stored.mirror.synced_at, live_since)
            parts = viewparts.page(self.settings, stored, page, source, progress)
            fetched = any(info.source == "live" for _, info in pieces)
            if not fetched and not problems and memo_ok:
                view = viewparts.finish(self.ctx, pieces, parts, problems, filters, stored, asked)
                self.memo.put(key, writes, view)
                return view
        elif first is not None and not filters.active:
            parts = live_page(first[0], page, per_page, first[1], progress)
        else:
            reread = await viewparts.read(self.ctx, page, filters, asked, problems)
            if reread is not None:
                stored = reread
                parts = viewparts.page(
                    self.settings, reread, page, "live" if synced else "cached", progress
                )
        if parts is None and stored is not None:
            parts = viewparts.page(self.settings, stored, page, "cached", None)
        assert parts is not None
        # A sync that failed behind an earlier view is shown until the mirror is current again;
        # a store failure not once the store has answered this view.
        failure = self.history.last_failure if stale or stored is None else None
        if failure is not None and failure.kind is Kind.STORE_UNAVAILABLE and stored is not None:
            failure = None
        if failure is not None and not any(p.where is Where.HISTORY for p in problems):
            problems.append(failure)
        return viewparts.finish(self.ctx, pieces, parts, problems, filters, stored, asked)

    # -- actions -----------------------------------------------------------------------------

    async def refresh_all(self) -> list[Problem]:
        """The manual's Refresh Data: full resync and fresh account, stats and pricing, waited
        for until `timeout` (a longer full sync goes on, and the page shows its progress).
        What cannot be fetched keeps its stored copy."""
        if not self.settings.licence_configured:
            return [self._not_configured()]
        problems = self._problems()
        deadline = self._deadline()
        await asyncio.gather(
            obtain(self.ctx, PRICING, problems, force=True, deadline=deadline),
            obtain(self.ctx, ACCOUNT, problems, force=True, deadline=deadline),
            obtain(self.ctx, STATS, problems, force=True, deadline=deadline),
            self.history.ensure(problems, force_full=True, deadline=deadline),
        )
        return unique(problems)

    async def refresh_pricing(self) -> list[Problem]:
        """Update Pricing: fetch the current prices now. The stored ones are replaced only
        by an answer, so a failing API leaves the page with the last known prices."""
        if not self.settings.licence_configured:
            return [self._not_configured()]
        problems = self._problems()
        await obtain(self.ctx, PRICING, problems, force=True, deadline=self._deadline())
        return problems

    async def sync(self) -> list[Problem]:
        """What auto-refresh does: fresh statistics and an incremental sync, never a purge."""
        problems: list[Problem] = []
        if self.settings.licence_configured:
            deadline = self._deadline()
            await asyncio.gather(
                obtain(self.ctx, STATS, problems, force=True, deadline=deadline),
                self.history.ensure(problems, revalidate=True, deadline=deadline),
            )
        return unique(problems)

    async def clear_transactions(self) -> int:
        """Clear Cache: remove the mirror; the next view does a full sync. Rows removed."""
        self.live.clear()
        await self.history.cancel()  # what a running sync would still write is thrown away
        return await self.ctx.stored_or_raise(lambda s: s.clear_transactions(self.identity))

    async def clear_pricing(self) -> int:
        """Drop the cached prices (the next view fetches them); entries removed."""
        return await self.ctx.stored_or_raise(lambda s: s.clear_pricing(self.identity))

    def export_csv(
        self, problems: list[Problem] | None = None, *, filters: Filters | None = None
    ) -> AsyncIterator[export.CsvChunk]:
        """The complete history (or the rows matching `filters`) as CSV text chunks (BOM and
        header first), bounded memory; `problems` gets what went wrong without stopping it."""
        return export.export_csv(self.ctx, self.history, self.live, problems, filters)

    async def usage(self, filters: Filters, by: By) -> tuple[list[UsageRow], list[Problem]]:
        """Spend, purchases, refunds, counts, tokens and images per day, week, month,
        service or type over the filters' date range; and what went wrong."""
        if not self.settings.licence_configured:
            return [], [self._not_configured()]
        rows, problems = await insights.usage(self.ctx, self.history, filters, by)
        return rows, unique([*self._problems(), *problems])

    async def transactions(
        self, filters: Filters, before_id: int | None, limit: int
    ) -> tuple[bytes | None, list[Problem]]:
        """For the JSON API: the page of up to `limit` rows matching `filters` older than
        transaction `before_id` (the newest without), newest first, as the JSON object
        `{"transactions", "next_cursor"}` (and `problems` when there are); None without a
        mirror. See `apipages`."""
        if not self.settings.licence_configured:
            return None, [self._not_configured()]
        body, problems = await self.api_pages.page(
            self.ctx, self.history, filters, before_id, limit
        )
        return body, unique([*self._problems(), *problems])

    async def figures(self) -> Figures:
        """The ledger's figures of /metrics: balance, runway, spend per service, sync times."""
        view = await self.view(1)
        rows: list[UsageRow] = []
        if view.has_data:
            rows, _ = await self.usage(Filters(), "service")
        return figures_of(view, rows)

    async def debug(self, live: bool = True) -> DebugInfo:
        """The Debug API page: settings, store status and, with `live`, the raw answers of
        fresh user/info, user/stats and first-5-transactions calls."""
        return await debug_page.debug_info(self.ctx, live)
