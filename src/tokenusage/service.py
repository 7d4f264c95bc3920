"""DashboardService: one call builds everything a page needs.

Policy in one place: what is fresh enough to show without asking upstream (pricing 300 s,
account 60 s, transactions 3600 s), what is fetched concurrently, what concurrent views share
(single-flight per upstream resource), and what is shown when the API fails (the stored copy,
labelled with its age and the error). The store is synchronous and runs in worker threads.

A warm view is one trip to the store (`Store.read_view`). A cold view sends its upstream
requests at once and answers from the newest page of history as soon as it is parsed, while
the rest of the history is mirrored behind it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from anyio import to_thread

from tokenusage import service_export
from tokenusage.config import Settings
from tokenusage.licenseapi.client import LicenseApiClient
from tokenusage.licenseapi.errors import LicenseApiError
from tokenusage.service_debug import debug_info
from tokenusage.service_export import CsvChunk
from tokenusage.service_history import FirstPage, HistorySync
from tokenusage.service_pieces import Pieces
from tokenusage.service_sync import LiveHistory
from tokenusage.service_upstream import Upstream
from tokenusage.service_view import ViewMemo, assemble, empty_view, live_page, mirror_page
from tokenusage.store import MirrorRow, Store, StoreError, domain_hash
from tokenusage.usage.pagination import PageWindow, paginate
from tokenusage.view import CacheInfo, DashboardView, DebugInfo

log = logging.getLogger(__name__)
T = TypeVar("T")
NOT_CONFIGURED = "License configuration missing: set license_key, license_domain and license_email"
Page = tuple[list[MirrorRow], PageWindow, CacheInfo]


def store_problem(exc: Exception) -> str:
    detail = str(exc)
    if detail.lower().startswith("local store unavailable: "):
        detail = detail[len("local store unavailable: ") :]
    return f"Local store unavailable: {detail}"


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
        self.client = client
        self.store = store
        self.store_error = store_error
        self.clock = clock
        self.domain_hash = domain_hash(settings.license_domain)
        self.pricing_key = settings.api_url
        self.upstream = Upstream(settings.failure_backoff)
        self.live = LiveHistory()
        self.history = HistorySync(self)
        self.pieces = Pieces(self)
        self.memo = ViewMemo(settings.view_memo_seconds)

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> DashboardService:
        """Open the store; a store that cannot be opened is reported and live data is used."""
        store: Store | None = None
        error = None
        try:
            store = Store.open(settings.store_url)
        except StoreError as exc:
            error = store_problem(exc).removeprefix("Local store unavailable: ")
            log.error("local store unavailable, serving live data only: %s", exc)
        client = LicenseApiClient.from_settings(settings, transport=kwargs.pop("transport", None))
        return cls(settings, client, store, store_error=error, **kwargs)

    async def aclose(self, *, wait: bool = True) -> None:
        """Close the client and the store. A sync still mirroring the history behind a cold
        view is awaited (a CLI run completes the mirror), or cancelled with `wait=False`
        (a server shutting down); a cancelled sync leaves the previous mirror whole."""
        await self.upstream.flights.drain(cancel=not wait)
        await self.client.aclose()
        if self.store is not None:
            await to_thread.run_sync(self.store.close)

    async def wait_idle(self) -> None:
        """Wait until nothing runs behind a view (a sync mirroring the rest of the history)."""
        await self.upstream.flights.drain(cancel=False)

    # -- store access that never takes the page down --------------------------------------

    async def store_call(self, fn: Callable[[], T], errors: list[str]) -> T | None:
        if self.store is None:
            return None
        try:
            return await to_thread.run_sync(fn)
        except StoreError as exc:
            errors.append(store_problem(exc))
            return None

    def _errors(self) -> list[str]:
        return [f"Local store unavailable: {self.store_error}"] if self.store_error else []

    # -- the page of transactions ----------------------------------------------------------

    async def _live_page(self, page: object, errors: list[str]) -> Page:
        """No usable store: the newest page of history straight from the API."""
        per_page = self.settings.page_size
        try:
            rows, total, at = await self.upstream.run(
                "history-live",
                lambda: self.live.fetch(
                    self.client, self.settings.history_page_size, self.settings.account_ttl
                ),
            )
        except LicenseApiError as exc:
            errors.append(str(exc))
            return [], paginate(0, 1, per_page), CacheInfo("none", None)
        window = paginate(len(rows), page, per_page)
        info = CacheInfo("live", at, len(rows), total, total > len(rows))
        return rows[window.offset : window.offset + per_page], window, info

    async def _reread_page(self, page: object, synced: bool, errors: list[str]) -> Page | None:
        store = self.store
        per_page = self.settings.page_size
        if store is None:
            return None
        found = await self.store_call(
            lambda: store.page_with_status(
                self.domain_hash, per_page, lambda rows: paginate(rows, page, per_page).page
            ),
            errors,
        )
        if found is None:
            return None
        return mirror_page(found[0], found[1], page, per_page, "live" if synced else "cached")

    # -- public operations -----------------------------------------------------------------

    async def view(self, page: object = 1) -> DashboardView:
        """Everything one page shows. Missing or stale pieces are fetched concurrently."""
        errors = self._errors()
        if not self.settings.licence_configured:
            return empty_view(self.settings, self.clock(), [NOT_CONFIGURED])
        store = self.store
        if store is not None and (again := self.memo.get(page, store.writes)) is not None:
            return replace(again, now=self.clock())
        per_page = self.settings.page_size
        landed = dict(self.upstream.landed)
        writes = store.writes if store is not None else 0
        stored = None
        if store is not None:
            stored = await self.store_call(
                lambda: store.read_view(
                    self.domain_hash,
                    self.pricing_key,
                    per_page,
                    lambda rows: paginate(rows, page, per_page).page,
                ),
                errors,
            )
        first: FirstPage | None = None
        synced = False
        stale = stored is not None and not self.history.fresh(stored.mirror)

        async def history() -> None:
            nonlocal first, synced
            if stored is not None and stale:
                synced, first = await self.history.for_view(
                    stored.mirror,
                    errors,
                    landed.get("history", 0),
                    lambda h: live_page(h, page, per_page, self.clock()) is not None,
                )

        _, (pricing, pcache), (info, acache), (stats, scache) = await asyncio.gather(
            history(),
            self.pieces.pricing(
                errors, stored.pricing if stored else None, seen=landed.get("pricing", 0)
            ),
            self.pieces.snapshot(
                "user/info",
                errors,
                stored.info if stored else None,
                seen=landed.get("user/info", 0),
            ),
            self.pieces.snapshot(
                "user/stats",
                errors,
                stored.stats if stored else None,
                seen=landed.get("user/stats", 0),
            ),
        )
        parts: Page | None
        if stored is None:
            parts = await self._live_page(page, errors)
        elif not stale:
            parts = mirror_page(stored.mirror, stored.rows, page, per_page, "cached")
            fresh = (pcache.source, acache.source, scache.source) == ("cached",) * 3
            if fresh and not errors:  # nothing was fetched: the same read would give the same
                view = assemble(
                    self.settings,
                    self.clock(),
                    info,
                    stats,
                    pricing,
                    parts,
                    pcache,
                    acache,
                    scache,
                    errors,
                )
                self.memo.put(page, writes, view)
                return view
        elif first is not None:
            parts = live_page(first[0], page, per_page, first[1])
        else:
            parts = await self._reread_page(page, synced, errors)
        if parts is None and stored is not None:
            parts = mirror_page(stored.mirror, stored.rows, page, per_page, "cached")
        assert parts is not None
        return assemble(
            self.settings, self.clock(), info, stats, pricing, parts, pcache, acache, scache, errors
        )

    async def refresh_all(self) -> list[str]:
        """The manual's Refresh Data: full resync and fresh account, stats and pricing. What
        cannot be fetched keeps its stored copy."""
        if not self.settings.licence_configured:
            return [NOT_CONFIGURED]
        errors: list[str] = []
        await asyncio.gather(
            self.pieces.pricing(errors, force=True),
            self.pieces.snapshot("user/info", errors, force=True),
            self.pieces.snapshot("user/stats", errors, force=True),
            self.history.ensure(errors, force_full=True),
        )
        return list(dict.fromkeys(errors))

    async def refresh_pricing(self) -> list[str]:
        """Update Pricing: fetch the current prices now. The stored ones are replaced only
        by an answer, so a failing API leaves the page with the last known prices."""
        errors = self._errors()
        if self.settings.licence_configured:
            await self.pieces.pricing(errors, force=True)
        return errors

    async def clear_transactions(self) -> int:
        """Clear Cache: remove the mirror; the next view does a full sync. Rows removed."""
        store = self.store
        if store is None:
            raise StoreError(self.store_error or "no local store")
        self.live.clear()
        await self.history.cancel()  # what a running sync would still write is thrown away
        return await to_thread.run_sync(lambda: store.clear_transactions(self.domain_hash))

    async def clear_pricing(self) -> int:
        """Drop the cached prices (the next view fetches them); entries removed."""
        store = self.store
        if store is None:
            raise StoreError(self.store_error or "no local store")
        return await to_thread.run_sync(lambda: store.clear_pricing(self.pricing_key))

    async def sync(self) -> list[str]:
        """What auto-refresh does: fresh statistics and an incremental sync, never a purge."""
        errors: list[str] = []
        if self.settings.licence_configured:
            await asyncio.gather(
                self.pieces.snapshot("user/stats", errors, force=True),
                self.history.ensure(errors, revalidate=True),
            )
        return errors

    def export_csv(self, problems: list[str] | None = None) -> AsyncIterator[CsvChunk]:
        """The complete history as CSV text chunks (BOM and header first), bounded memory
        (see `service_export`); `problems` gets what went wrong without stopping it."""
        return service_export.export_csv(self, problems)

    async def debug(self, live: bool = True) -> DebugInfo:
        """The Debug API page: settings, store status and, with `live`, the raw answers of
        fresh user/info, user/stats and first-5-transactions calls."""
        return await debug_info(self, live)
