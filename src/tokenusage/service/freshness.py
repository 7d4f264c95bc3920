"""Freshness: when a stored copy may be shown without asking the License API, and what it is
called on the page.

Account, statistics and pricing are each a stored copy, fresh for its TTL (account and
statistics `account_ttl`, pricing `pricing_ttl`), else fetched (one request shared by every
view that needs it) and stored. When the fetch fails, or does not answer before the view's
deadline, the stored copy is shown labelled with the problem.

A copy fetched from the License API for this view is "live", and so is a stored copy fetched
since `live_since` (the Update Pricing or Refresh Data that led to this page, on any replica);
any other stored copy is "cached".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from tokenusage.licenseapi.errors import LicenseApiError
from tokenusage.licenseapi.models import Pricing, UserInfo, UserStats
from tokenusage.service.context import Context
from tokenusage.service.flights import Deadline, within
from tokenusage.service.model import NONE, CacheInfo, Source
from tokenusage.service.problems import DeadlinePassed, Problem, Where
from tokenusage.store import Cached, MirrorStatus, Store

T = TypeVar("T")


def is_fresh(fetched_at: datetime | None, ttl: float, now: datetime) -> bool:
    return fetched_at is not None and (now - fetched_at).total_seconds() < ttl


def source_of(fetched_at: datetime | None, live_since: datetime | None) -> Source:
    live = fetched_at is not None and live_since is not None and fetched_at >= live_since
    return "live" if live else "cached"


def mirror_fresh(status: MirrorStatus, ttl: float, now: datetime) -> bool:
    return status.present and is_fresh(status.synced_at, ttl, now)


@dataclass(frozen=True)
class Piece(Generic[T]):
    key: str  # the flight's key, also the endpoint
    where: Where
    ttl: Callable[[Context], int]
    get: Callable[[Context, Store], Cached[T] | None]
    fetch: Callable[[Context], Awaitable[T]]
    put: Callable[[Context, Store, T, datetime], None]


PRICING: Piece[Pricing] = Piece(
    "pricing/current",
    Where.PRICING,
    lambda c: c.settings.pricing_ttl,
    lambda c, s: s.get_pricing(c.identity),
    lambda c: c.client.pricing(),
    lambda c, s, v, at: s.put_pricing(c.identity, v, at),
)
M = TypeVar("M", UserInfo, UserStats)


def _snapshot(
    kind: str, where: Where, model: type[M], fetch: Callable[[Context], Awaitable[M]]
) -> Piece[M]:
    """Account and statistics: the licence's last-good snapshots, fresh for `account_ttl`."""
    return Piece(
        kind,
        where,
        lambda c: c.settings.account_ttl,
        lambda c, s: s.get_snapshot(c.identity, kind, model),
        fetch,
        lambda c, s, v, at: s.put_snapshot(c.identity, kind, v, at),
    )


ACCOUNT = _snapshot("user/info", Where.ACCOUNT, UserInfo, lambda c: c.client.user_info())
STATS = _snapshot("user/stats", Where.STATS, UserStats, lambda c: c.client.user_stats())


# A piece as a view shows it: the value (None when there is none) and where it came from.
Fetched = tuple[T | None, CacheInfo]


async def obtain(
    ctx: Context,
    piece: Piece[T],
    problems: list[Problem],
    cached: Cached[T] | None = None,
    *,
    force: bool = False,
    seen: int | None = None,
    deadline: Deadline | None = None,
    live_since: datetime | None = None,
) -> Fetched[T]:
    """The stored copy while fresh (`force`: never); else a fetch, shared and stored; the
    stored copy with a problem when the fetch fails or passes `deadline`."""
    ttl = piece.ttl(ctx)
    if cached is not None and not force and is_fresh(cached.fetched_at, ttl, ctx.clock()):
        return cached.value, CacheInfo(source_of(cached.fetched_at, live_since), cached.fetched_at)
    landed = ctx.upstream.landed(piece.key) if seen is None else seen

    async def fetch_and_store() -> tuple[T, datetime]:
        if not force and ctx.upstream.landed(piece.key) != landed:  # it may be stored already
            again = await ctx.stored(lambda s: piece.get(ctx, s), [])
            if again is not None and is_fresh(again.fetched_at, ttl, ctx.clock()):
                return again.value, again.fetched_at
        value = await piece.fetch(ctx)
        at = ctx.clock()
        try:
            await ctx.stored(lambda s: piece.put(ctx, s, value, at), [])
        finally:
            ctx.upstream.land(piece.key)
        return value, at

    flight: Awaitable[tuple[T, datetime]] = ctx.upstream.run(
        piece.key, fetch_and_store, force=force
    )
    try:
        value, at = await within(flight, deadline)
    except (LicenseApiError, DeadlinePassed) as exc:
        problems.append(ctx.problem(exc, piece.where))
        if cached is not None:
            return cached.value, CacheInfo("cached", cached.fetched_at)
        return None, NONE
    return value, CacheInfo("live", at)
