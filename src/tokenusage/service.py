"""DashboardService: one call builds everything a page needs.

Policy in one place: what is fresh enough to show without asking upstream (pricing 300 s,
account 60 s, transactions 3600 s), what is fetched concurrently, what concurrent views share
(single-flight per upstream resource), and what is shown when the API fails (the stored copy,
labelled with its age and the error). The store is synchronous and runs in worker threads.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from anyio import to_thread

from tokenusage import service_export
from tokenusage.config import Settings
from tokenusage.licenseapi.client import LicenseApiClient
from tokenusage.licenseapi.errors import LicenseApiError, mask_key
from tokenusage.licenseapi.models import Pricing, UserInfo, UserStats
from tokenusage.service_export import CsvChunk
from tokenusage.service_sync import LiveHistory, full_sync, incremental_sync
from tokenusage.singleflight import SingleFlight
from tokenusage.store import Cached, MirrorRow, MirrorStatus, Store, StoreError, domain_hash
from tokenusage.usage.estimates import estimate_remaining, is_low_balance
from tokenusage.usage.pagination import paginate
from tokenusage.view import CacheInfo, DashboardView, DebugInfo

log = logging.getLogger(__name__)
T = TypeVar("T")
NOT_CONFIGURED = "License configuration missing: set license_key, license_domain and license_email"


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
        self.flights = SingleFlight()
        self.live = LiveHistory()
        # Flights landed per key: a flight re-reads the store before fetching only when
        # another flight for its key landed since its caller read the store.
        self._landed: Counter[str] = Counter()

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

    async def aclose(self) -> None:
        await self.client.aclose()
        if self.store is not None:
            await to_thread.run_sync(self.store.close)

    # -- store access that never takes the page down --------------------------------------

    async def _stored(self, fn: Callable[[], T], errors: list[str]) -> T | None:
        if self.store is None:
            return None
        try:
            return await to_thread.run_sync(fn)
        except StoreError as exc:
            errors.append(store_problem(exc))
            return None

    async def _save(self, fn: Callable[[], object], errors: list[str]) -> None:
        await self._stored(fn, errors)

    # -- the pieces of a view --------------------------------------------------------------

    async def _cached_model(
        self,
        key: str,
        ttl: int,
        get: Callable[[], Cached[T] | None],
        fetch: Callable[[], Any],
        put: Callable[[T, datetime], object],
        errors: list[str],
        force: bool = False,
    ) -> tuple[T | None, CacheInfo]:
        landed = self._landed[key]
        cached = await self._stored(get, errors)
        now = self.clock()
        if cached is not None and not force and cached.is_fresh(ttl, now):
            return cached.value, CacheInfo("cached", cached.fetched_at)

        async def fetch_and_store() -> tuple[T, datetime]:
            if not force and self._landed[key] != landed:  # it may have stored what we need
                again = await self._stored(get, [])
                if again is not None and again.is_fresh(ttl, self.clock()):
                    return again.value, again.fetched_at
            value: T = await fetch()
            at = self.clock()
            try:
                await self._save(lambda: put(value, at), [])
            finally:
                self._landed[key] += 1
            return value, at

        try:
            value, at = await self.flights.do(key, fetch_and_store)
        except LicenseApiError as exc:
            errors.append(str(exc))
            if cached is not None:
                return cached.value, CacheInfo("cached", cached.fetched_at)
            return None, CacheInfo("none", None)
        return value, CacheInfo("live", at)

    async def _pricing(
        self, errors: list[str], force: bool = False
    ) -> tuple[Pricing | None, CacheInfo]:
        store = self.store
        return await self._cached_model(
            "pricing",
            self.settings.pricing_ttl,
            lambda: store.get_pricing(self.pricing_key) if store else None,
            self.client.pricing,
            lambda v, at: store.put_pricing(self.pricing_key, v, at) if store else None,
            errors,
            force,
        )

    async def _snapshot(
        self, kind: str, model: type[Any], fetch: Callable[[], Any], errors: list[str], force: bool
    ) -> tuple[Any, CacheInfo]:
        store = self.store
        return await self._cached_model(
            kind,
            self.settings.account_ttl,
            lambda: store.get_snapshot(self.domain_hash, kind, model) if store else None,
            fetch,
            lambda v, at: store.put_snapshot(self.domain_hash, kind, v, at) if store else None,
            errors,
            force,
        )

    async def _ensure_history(
        self, errors: list[str], force_full: bool = False, revalidate: bool = False
    ) -> None:
        """Bring the mirror up to date: full sync when empty or asked, incremental when stale
        or when revalidating (auto-refresh), nothing when fresh."""
        store = self.store
        if store is None:
            return
        landed = self._landed["history"]
        status = await self._stored(lambda: store.mirror_status(self.domain_hash), errors)
        if status is None:
            return
        if self._history_fresh(status) and not force_full and not revalidate:
            return
        full = force_full or not status.present
        key = "history-full" if full else "history"
        page_size = self.settings.history_page_size

        async def run() -> None:
            known = status
            if not (force_full or revalidate) and self._landed["history"] != landed:
                # A sync that ended since the read above may have done it already.
                known = await to_thread.run_sync(lambda: store.mirror_status(self.domain_hash))
                if self._history_fresh(known):
                    return
            try:
                if full:
                    await full_sync(self.client, store, self.domain_hash, page_size)
                else:
                    await incremental_sync(
                        self.client, store, self.domain_hash, page_size, known.newest_id
                    )
            finally:
                self._landed["history"] += 1

        try:
            await self.flights.do(key, run)
        except (LicenseApiError, StoreError) as exc:
            errors.append(str(exc))

    def _history_fresh(self, status: MirrorStatus) -> bool:
        return (
            status.present
            and status.synced_at is not None
            and (self.clock() - status.synced_at).total_seconds() < self.settings.transactions_ttl
        )

    async def _transactions(
        self, page: object, errors: list[str]
    ) -> tuple[list[MirrorRow], Any, CacheInfo]:
        store = self.store
        per_page = self.settings.page_size
        if store is not None:
            # Status and rows from one snapshot, in one trip to the store.
            found = await self._stored(
                lambda: store.page_with_status(
                    self.domain_hash, per_page, lambda rows: paginate(rows, page, per_page).page
                ),
                errors,
            )
            if found is not None and found[0].present:
                status, rows = found
                window = paginate(status.rows, page, per_page)
                info = CacheInfo(
                    "cached", status.synced_at, status.rows, status.upstream_total, status.limited
                )
                return rows, window, info
        # No usable mirror: the newest page of history straight from the API.
        try:
            live_rows, total, at = await self.flights.do(
                "history-live",
                lambda: self.live.fetch(
                    self.client, self.settings.history_page_size, self.settings.account_ttl
                ),
            )
        except LicenseApiError as exc:
            errors.append(str(exc))
            return [], paginate(0, 1, per_page), CacheInfo("none", None)
        window = paginate(len(live_rows), page, per_page)
        rows = live_rows[window.offset : window.offset + per_page]
        info = CacheInfo("live", at, len(live_rows), total, total > len(live_rows))
        return rows, window, info

    # -- public operations -----------------------------------------------------------------

    async def view(self, page: object = 1) -> DashboardView:
        """Everything one page shows. Missing or stale pieces are fetched concurrently."""
        errors: list[str] = []
        if self.store_error:
            errors.append(f"Local store unavailable: {self.store_error}")
        if not self.settings.licence_configured:
            return self._empty_view([NOT_CONFIGURED])
        # History first: on a cold view its request is the long one, so it goes out first.
        _, (pricing, pcache), (info, acache), (stats, _) = await asyncio.gather(
            self._ensure_history(errors),
            self._pricing(errors),
            self._snapshot("user/info", UserInfo, self.client.user_info, errors, False),
            self._snapshot("user/stats", UserStats, self.client.user_stats, errors, False),
        )
        rows, window, tcache = await self._transactions(page, errors)
        return self._assemble(info, stats, pricing, rows, window, pcache, tcache, acache, errors)

    def _assemble(
        self,
        info: UserInfo | None,
        stats: UserStats | None,
        pricing: Pricing | None,
        rows: list[MirrorRow],
        window: Any,
        pcache: CacheInfo,
        tcache: CacheInfo,
        acache: CacheInfo,
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
        low = stats is not None and is_low_balance(
            stats.balance, self.settings.low_balance_threshold
        )
        return DashboardView(
            now=self.clock(),
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
        )

    def _empty_view(self, errors: list[str]) -> DashboardView:
        none = CacheInfo("none", None)
        return DashboardView(
            now=self.clock(),
            configured=False,
            account=None,
            stats=None,
            pricing=None,
            estimates=None,
            low_balance=False,
            window=paginate(0, 1, self.settings.page_size),
            transactions=[],
            pricing_cache=none,
            transactions_cache=none,
            account_cache=none,
            errors=errors,
        )

    async def refresh_all(self) -> list[str]:
        """The manual's Refresh Data: full resync and fresh account, stats and pricing."""
        if not self.settings.licence_configured:
            return [NOT_CONFIGURED]
        errors: list[str] = []
        await asyncio.gather(
            self._pricing(errors, force=True),
            self._snapshot("user/info", UserInfo, self.client.user_info, errors, True),
            self._snapshot("user/stats", UserStats, self.client.user_stats, errors, True),
            self._ensure_history(errors, force_full=True),
        )
        return list(dict.fromkeys(errors))

    async def refresh_pricing(self) -> list[str]:
        """Update Pricing: drop the cached prices and fetch the current ones."""
        errors: list[str] = []
        store = self.store
        if store is not None:
            await self._stored(lambda: store.clear_pricing(self.pricing_key), errors)
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

    async def sync(self) -> list[str]:
        """What auto-refresh does: an incremental sync, never a purge."""
        errors: list[str] = []
        if self.settings.licence_configured:
            await asyncio.gather(
                self._snapshot("user/stats", UserStats, self.client.user_stats, errors, True),
                self._ensure_history(errors, revalidate=True),
            )
        return errors

    async def export_rows(self) -> AsyncIterator[list[MirrorRow]]:
        """The complete history for the CSV, in batches, newest first, bounded memory."""
        async for batch in service_export.export_rows(self):
            yield batch

    def export_csv(self) -> AsyncIterator[CsvChunk]:
        """The complete history as CSV text chunks (BOM and header first), bounded memory;
        the fast road for large ledgers (see `service_export`)."""
        return service_export.export_csv(self)

    async def clear_pricing(self) -> int:
        """Drop the cached prices (the next view fetches them); entries removed."""
        store = self.store
        if store is None:
            raise StoreError(self.store_error or "no local store")
        return await to_thread.run_sync(lambda: store.clear_pricing(self.pricing_key))

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
        pstatus = (
            await self._stored(lambda: store.pricing_status(self.pricing_key), errors)
            if store
            else None
        )
        mstatus = (
            await self._stored(lambda: store.mirror_status(self.domain_hash), errors)
            if store
            else None
        )
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
            ),
            exchanges=dict(self.client.exchanges),
            errors=errors,
        )
