"""The Debug API page's data: the configuration (key masked), the store's status, and the
raw exchanges of fresh calls, as the manual's debug mode shows them."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from tokenusage.licenseapi.errors import LicenseApiError, mask_key
from tokenusage.view import CacheInfo, DebugInfo

if TYPE_CHECKING:
    from tokenusage.service import DashboardService


async def debug_info(service: DashboardService, live: bool) -> DebugInfo:
    errors: list[str] = []
    if live and service.settings.licence_configured:
        calls = (
            service.client.user_info(),
            service.client.user_stats(),
            service.client.history(limit=5),
        )
        for result in await asyncio.gather(*calls, return_exceptions=True):
            if isinstance(result, LicenseApiError):
                errors.append(str(result))
    store = service.store
    pstatus = mstatus = None
    if store is not None:
        pstatus = await service.store_call(
            lambda: store.pricing_status(service.pricing_key), errors
        )
        mstatus = await service.store_call(lambda: store.mirror_status(service.domain_hash), errors)
    return DebugInfo(
        api_url=service.settings.api_url,
        license_key_masked=mask_key(service.settings.license_key),
        domain=service.settings.license_domain,
        email=service.settings.license_email,
        store_location=store.location() if store else f"unavailable: {service.store_error}",
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
        exchanges=dict(service.client.exchanges),
        errors=errors,
    )
