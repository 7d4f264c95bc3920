"""Everything stored that one page view shows, read in one trip: one connection, one snapshot.

A warm view then costs one worker-thread hop and a handful of small queries (the page's rows
come from the page cache), instead of a hop per piece.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection

from tokenusage.licenseapi.models import Pricing, UserInfo, UserStats
from tokenusage.store import cache, mirror
from tokenusage.store.pagecache import PageCache
from tokenusage.store.records import Cached, MirrorRow, MirrorStatus


@dataclass(frozen=True, slots=True)
class StoredView:
    pricing: Cached[Pricing] | None
    info: Cached[UserInfo] | None
    stats: Cached[UserStats] | None
    mirror: MirrorStatus
    rows: list[MirrorRow]


def read_view(
    conn: Connection,
    domain_hash: str,
    pricing_key: str,
    per_page: int,
    page_for: Callable[[int], int],
    pages: PageCache,
) -> StoredView:
    status, rows = mirror.page_with_status(conn, domain_hash, per_page, page_for, pages)
    return StoredView(
        pricing=cache.get_pricing(conn, pricing_key),
        info=cache.get_snapshot(conn, domain_hash, "user/info", UserInfo),
        stats=cache.get_snapshot(conn, domain_hash, "user/stats", UserStats),
        mirror=status,
        rows=rows,
    )
