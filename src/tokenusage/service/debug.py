"""The Debug API page's data: the configuration (key masked), the store's status, and the
raw exchanges of fresh calls, as the manual's debug mode shows them."""

from __future__ import annotations

import asyncio

from tokenusage.licenseapi.errors import LicenseApiError
from tokenusage.licenseapi.redact import mask_key
from tokenusage.service.context import Context
from tokenusage.service.model import CacheInfo, DebugInfo
from tokenusage.service.problems import Problem, Where

_WHERE = (Where.ACCOUNT, Where.STATS, Where.HISTORY)


async def debug_info(ctx: Context, live: bool) -> DebugInfo:
    problems: list[Problem] = [ctx.store_problem] if ctx.store_problem else []
    settings = ctx.settings
    if live and settings.licence_configured:
        calls = (ctx.client.user_info(), ctx.client.user_stats(), ctx.client.history(limit=5))
        results = await asyncio.gather(*calls, return_exceptions=True)
        for where, result in zip(_WHERE, results, strict=True):
            if isinstance(result, LicenseApiError):
                problems.append(ctx.problem(result, where))
    pstatus = await ctx.stored(lambda s: s.pricing_status(ctx.identity), problems)
    mstatus = await ctx.stored(lambda s: s.mirror_status(ctx.identity), problems)
    indexed = await ctx.stored(lambda s: s.search_indexed, problems)
    store = ctx.store
    unavailable = ctx.store_problem.message if ctx.store_problem else "no store"
    return DebugInfo(
        api_url=settings.api_url,
        license_key_masked=mask_key(settings.license_key),
        domain=settings.license_domain,
        email=settings.license_email,
        store_location=store.location() if store else unavailable,
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
        exchanges=dict(ctx.client.exchanges),
        problems=problems,
        search_indexed=indexed,
    )
