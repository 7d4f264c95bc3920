"""Everything stored that one page view shows, read in one trip: one connection, one snapshot.

A warm view then costs one worker-thread hop and a handful of small queries (the page's rows,
the filtered counts and the insights come from in-process memos keyed by the generation and
its size), instead of a hop per piece.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import Connection, Row

from tokenusage.licenseapi.models import Pricing, UserInfo, UserStats
from tokenusage.store import cache, derived, filtered, insights, mirror
from tokenusage.store.filtered import Matched
from tokenusage.store.insights import InsightQuery, StoredInsights
from tokenusage.store.pagecache import Memo, PageCache
from tokenusage.store.records import Cached, MirrorRow, MirrorStatus
from tokenusage.usage.filters import Filters

SNAPSHOT_MODELS: dict[str, type[BaseModel]] = {"user/info": UserInfo, "user/stats": UserStats}


@dataclass(frozen=True, slots=True)
class StoredView:
    pricing: Cached[Pricing] | None
    info: Cached[UserInfo] | None
    stats: Cached[UserStats] | None
    mirror: MirrorStatus
    rows: list[MirrorRow]
    matched: Matched | None = None  # with active filters: what matches them
    insights: StoredInsights | None = None
    # Derived features the current generation lacks (built by the caller, then read again).
    missing: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class ViewQuery:
    per_page: int
    page_for: Callable[[int], int]  # total matching rows -> the 1-based page to show
    zone: str
    filters: Filters | None = None
    insights: InsightQuery | None = None


def wanted_features(query: ViewQuery) -> set[str]:
    wanted = set()
    if query.insights is not None or (query.filters is not None and query.filters.active):
        wanted.add(derived.zone_feature(query.zone))
    if query.insights is not None:
        wanted |= {derived.HOURS, derived.running_feature(query.zone)}
    if query.filters is not None and query.filters.q:
        wanted.add(derived.SEARCH)
    return wanted


def missing_features(
    conn: Connection, gen: Row[Any], wanted: set[str], known: set[tuple[Any, ...]]
) -> frozenset[str]:
    """What of `wanted` the generation lacks; `known` remembers what was seen present."""
    version = (gen.generation, gen.started_at)
    if all((*version, f) in known for f in wanted):
        return frozenset()
    have = derived.features(conn, gen.generation)
    known.update((*version, f) for f in have)
    return frozenset(wanted - have)


def _filtered_page(
    conn: Connection, gen: Row[Any], query: ViewQuery, pages: PageCache, memo: Memo[Any]
) -> tuple[Matched, list[MirrorRow]]:
    assert query.filters is not None
    filters = query.filters
    version = (gen.generation, gen.started_at, gen.max_seq, query.zone, filters)
    found: Matched = memo.get(
        ("matched", *version),
        lambda: filtered.matched(conn, gen.generation, query.zone, filters),
    )
    number = query.page_for(found.count)
    if number < 1 or query.per_page < 1:
        raise ValueError(f"page and per_page start at 1 (got {number}, {query.per_page})")
    offset = (number - 1) * query.per_page

    def load() -> list[MirrorRow]:
        picked = filtered.page(
            conn,
            gen.generation,
            query.zone,
            filters,
            mirror.ROW_COLUMNS,
            offset,
            query.per_page,
            found,
        )
        return [mirror.mirror_row(r) for r in picked]

    return found, pages.get(("filtered", *version, offset, query.per_page), load)


def read_view(
    conn: Connection,
    domain_hash: str,
    pricing_key: str,
    query: ViewQuery,
    pages: PageCache,
    memo: Memo[Any],
    known: set[tuple[Any, ...]],
) -> StoredView:
    filters = query.filters if query.filters is not None and query.filters.active else None
    matched: Matched | None = None
    found_insights: StoredInsights | None = None
    missing: frozenset[str] = frozenset()
    status, gen = mirror.status_with_current(conn, domain_hash)
    rows: list[MirrorRow] = []
    if filters is None:
        rows = mirror.page_of(conn, status, gen, query.per_page, query.page_for, pages)
    if gen is not None:
        missing = missing_features(conn, gen, wanted_features(query), known)
        if not missing:
            if filters is not None:
                matched, rows = _filtered_page(conn, gen, query, pages, memo)
            if query.insights is not None:
                found_insights = insights.read(conn, gen, query.zone, query.insights, memo)
    elif filters is not None:
        matched = filtered.NONE_MATCH
    pricing, snaps = cache.view_documents(conn, pricing_key, domain_hash, SNAPSHOT_MODELS)
    return StoredView(
        pricing=pricing,
        info=cast("Cached[UserInfo] | None", snaps.get("user/info")),
        stats=cast("Cached[UserStats] | None", snaps.get("user/stats")),
        mirror=status,
        rows=rows,
        matched=matched,
        insights=found_insights,
        missing=missing,
    )
