"""Account, statistics and pricing for the service: each a stored copy, fresh for its TTL,
else fetched (one request shared by every view that needs it) and stored; when the fetch
fails, the stored copy is shown labelled with the error."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from tokenusage.licenseapi.errors import LicenseApiError
from tokenusage.licenseapi.models import Pricing, UserInfo, UserStats
from tokenusage.store import Cached
from tokenusage.view import CacheInfo

if TYPE_CHECKING:
    from tokenusage.service import DashboardService

T = TypeVar("T")


class Pieces:
    def __init__(self, service: DashboardService) -> None:
        self.service = service

    async def piece(
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
        service = self.service
        if cached is not None and not force and cached.is_fresh(ttl, service.clock()):
            return cached.value, CacheInfo("cached", cached.fetched_at)
        landed = service.upstream.landed[key] if seen is None else seen

        async def fetch_and_store() -> tuple[T, datetime]:
            if not force and service.upstream.landed[key] != landed:  # it may be stored already
                again = await service.store_call(get, [])
                if again is not None and again.is_fresh(ttl, service.clock()):
                    return again.value, again.fetched_at
            value: T = await fetch()
            at = service.clock()
            try:
                await service.store_call(lambda: put(value, at), [])
            finally:
                service.upstream.landed[key] += 1
            return value, at

        try:
            value, at = await service.upstream.run(key, fetch_and_store, force=force)
        except LicenseApiError as exc:
            errors.append(str(exc))
            if cached is not None:
                return cached.value, CacheInfo("cached", cached.fetched_at)
            return None, CacheInfo("none", None)
        return value, CacheInfo("live", at)

    async def pricing(
        self,
        errors: list[str],
        cached: Cached[Pricing] | None = None,
        *,
        force: bool = False,
        seen: int | None = None,
    ) -> tuple[Pricing | None, CacheInfo]:
        service = self.service
        store = service.store
        return await self.piece(
            "pricing",
            service.settings.pricing_ttl,
            cached,
            lambda: store.get_pricing(service.pricing_key) if store else None,
            service.client.pricing,
            lambda v, at: store.put_pricing(service.pricing_key, v, at) if store else None,
            errors,
            force=force,
            seen=seen,
        )

    async def snapshot(
        self,
        kind: str,
        errors: list[str],
        cached: Cached[Any] | None = None,
        *,
        force: bool = False,
        seen: int | None = None,
    ) -> tuple[Any, CacheInfo]:
        service = self.service
        store = service.store
        model, fetch = (
            (UserInfo, service.client.user_info)
            if kind == "user/info"
            else (UserStats, service.client.user_stats)
        )
        return await self.piece(
            kind,
            service.settings.account_ttl,
            cached,
            lambda: store.get_snapshot(service.domain_hash, kind, model) if store else None,
            fetch,
            lambda v, at: store.put_snapshot(service.domain_hash, kind, v, at) if store else None,
            errors,
            force=force,
            seen=seen,
        )
