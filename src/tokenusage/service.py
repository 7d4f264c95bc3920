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
from tokenusage.licenseapi.errors import LicenseApiError, mask_key
from tokenusage.licenseapi.models import History, Pricing, UserInfo, UserStats
from tokenusage.service_export import CsvChunk
from tokenusage.service_history import HistorySync
from tokenusage.service_sync import LiveHistory
from tokenusage.service_upstream import Upstream
from tokenusage.service_view import ViewMemo, assemble, empty_view, live_page, mirror_page
from tokenusage.store import Cached, MirrorRow, Store, StoreError, domain_hash
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
        self._memo = ViewMemo()

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

    async def _stored(self, fn: Callable[[], T], errors: list[str]) -> T | None:
        if self.store is None:
            return None
        try:
            return await to_thread.run_sync(fn)
        except StoreError as exc:
            errors.append(store_problem(exc))
            return None

    def _errors(self) -> list[str]:
        return [f"Local store unavailable: {self.store_error}"] if self.store_error else []

    # -- account, statistics and pricing ---------------------------------------------------

    async def _piece(
        self,
        key: str,
        ttl: int,
        cached: Cached[T] | None,
        get: Callable[[], Cached[T] | None],
        fetch: Callable[[], Any],
        put: Callable[[T, datetime], object],
        errors: list[str],
        *,
        force: bool = False,
        seen: int | None = None,
    ) -> tuple[T | None, CacheInfo]:
        """The stored copy while fresh; else a fetch (shared, stored), and the stored copy
        labelled with the error when the fetch fails."""
        if cached is not None and not force and cached.is_fresh(ttl, self.clock()):
            return cached.value, CacheInfo("cached", cached.fetched_at)
        landed = self.upstream.landed[key] if seen is None else seen

        async def fetch_and_store() -> tuple[T, datetime]:
            if not force and self.upstream.landed[key] != landed:  # it may be stored already
                again = await self._stored(get, [])
                if again is not None and again.is_fresh(ttl, self.clock()):
                    return again.value, again.fetched_at
            value: T = await fetch()
            at = self.clock()
            try:
                await self._stored(lambda: put(value, at), [])
            finally:
                self.upstream.landed[key] += 1
            return value, at

        try:
            value, at = await self.upstream.run(key, fetch_and_store, force=force)
        except LicenseApiError as exc:
            errors.append(str(exc))
            if cached is not None:
                return cached.value, CacheInfo("cached", cached.fetched_at)
            return None, CacheInfo("none", None)
        return value, CacheInfo("live", at)

    async def _pricing(
        self,
        errors: list[str],
        cached: Cached[Pricing] | None = None,
        *,
        force: bool = False,
        seen: int | None = None,
    ) -> tuple[Pricing | None, CacheInfo]:
        store = self.store
        return await self._piece(
            "pricing",
            self.settings.pricing_ttl,
            cached,
            lambda: store.get_pricing(self.pricing_key) if store else None,
            self.client.pricing,
            lambda v, at: store.put_pricing(self.pricing_key, v, at) if store else None,
            errors,
            force=force,
            seen=seen,
        )

    async def _snapshot(
        self,
        kind: str,
        errors: list[str],
        cached: Cached[Any] | None = None,
        *,
        force: bool = False,
        seen: int | None = None,
    ) -> tuple[Any, CacheInfo]:
        store = self.store
        model, fetch = (
            (UserInfo, self.client.user_info)
            if kind == "user/info"
            else (UserStats, self.client.user_stats)
        )
        return await self._piece(
            kind,
            self.settings.account_ttl,
            cached,
            lambda: store.get_snapshot(self.domain_hash, kind, model) if store else None,
            fetch,
            lambda v, at: store.put_snapshot(self.domain_hash, kind, v, at) if store else None,
            errors,
            force=force,
            seen=seen,
        )

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
        found = await self._stored(
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
        if store is not None and (again := self._memo.get(page, store.writes)) is not None:
            return replace(again, now=self.clock())
        per_page = self.settings.page_size
        landed = dict(self.upstream.landed)
        writes = store.writes if store is not None else 0
        stored = None
        if store is not None:
            stored = await self._stored(
                lambda: store.read_view(
                    self.domain_hash,
                    self.pricing_key,
                    per_page,
                    lambda rows: paginate(rows, page, per_page).page,
                ),
                errors,
            )
        first: History | None = None
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
            self._pricing(
                errors, stored.pricing if stored else None, seen=landed.get("pricing", 0)
            ),
            self._snapshot(
                "user/info",
                errors,
                stored.info if stored else None,
                seen=landed.get("user/info", 0),
            ),
            self._snapshot(
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
                self._memo.put(page, writes, view)
                return view
        elif first is not None:
            parts = live_page(first, page, per_page, self.clock())
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
            self._pricing(errors, force=True),
            self._snapshot("user/info", errors, force=True),
            self._snapshot("user/stats", errors, force=True),
            self.history.ensure(errors, force_full=True),
        )
        return list(dict.fromkeys(errors))

    async def refresh_pricing(self) -> list[str]:
        """Update Pricing: fetch the current prices now. The stored ones are replaced only
        by an answer, so a failing API leaves the page with the last known prices."""
        errors = self._errors()
        if self.settings.licence_configured:
            await self._pricing(errors, force=True)
        return errors

    async def clear_transactions(self) -> int:
        """Clear Cache: remove the mirror; the next view does a full sync. Rows removed."""
        store = self.store
        if store is None:
            raise StoreError(self.store_error or "no local store")
        self.live.clear()
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
                self._snapshot("user/stats", errors, force=True),
                self.history.ensure(errors, revalidate=True),
            )
        return errors

    async def _ensure_history(self, errors: list[str]) -> None:
        """Bring the mirror up to date when it is stale (the CSV export reads it next)."""
        await self.history.ensure(errors)

    async def export_rows(self) -> AsyncIterator[list[MirrorRow]]:
        """The complete history for the CSV, in batches, newest first, bounded memory."""
        async for batch in service_export.export_rows(self):
            yield batch

    def export_csv(self) -> AsyncIterator[CsvChunk]:
        """The complete history as CSV text chunks (BOM and header first), bounded memory;
        the fast road for large ledgers (see `service_export`)."""
        return service_export.export_csv(self)

    async def debug(self, live: bool = True) -> DebugInfo:
        """The Debug API page: settings, store status and, with `live`, the raw answers of
        fresh user/info, user/stats and first-5-transactions calls."""
        errors: list[str] = []
        if live and self.settings.licence_configured:
            calls = (
                self.client.user_info(),
                self.client.user_stats(),
                self.client.history(limit=5),
            )
            for result in await asyncio.gather(*calls, return_exceptions=True):
                if isinstance(result, LicenseApiError):
                    errors.append(str(result))
        store = self.store
        pstatus = mstatus = None
        if store is not None:
            pstatus = await self._stored(lambda: store.pricing_status(self.pricing_key), errors)
            mstatus = await self._stored(lambda: store.mirror_status(self.domain_hash), errors)
        return DebugInfo(
            api_url=self.settings.api_url,
            license_key_masked=mask_key(self.settings.license_key),
            domain=self.settings.license_domain,
            email=self.settings.license_email,
            store_location=store.location() if store else f"unavailable: {self.store_error}",
            store_backend=store.backend if store else "none",
            pricing_cache=CacheInfo(
                "cached" if pstatus and pstatus.present else "none",
                pstatus.fetched_at if pstatus else None,
            ),
            transactions_cache=CacheInfo(
                "cached" if mstatus and mstatus.present else "none",
                mstatus.synced_at if mstatus else None,
                mstatus.rows if mstatus else None,
                mstatus.upstream_total if mstatus else None,
                mstatus.limited if mstatus else False,
                syncing=bool(mstatus and mstatus.syncing),
            ),
            exchanges=dict(self.client.exchanges),
            errors=errors,
        )
