"""The pricing cache and the last-good snapshots (user/info, user/stats): what the dashboard
shows when the License API cannot answer (a base of `Store`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel

from tokenusage.licenseapi.models import Pricing
from tokenusage.store import cache
from tokenusage.store.engine import Database
from tokenusage.store.records import Cached, CacheStatus

M = TypeVar("M", bound=BaseModel)


class CachedDocuments:
    _db: Database
    _clock: Callable[[], datetime]

    # -- pricing cache ---------------------------------------------------------------------

    def put_pricing(self, key: str, pricing: Pricing, fetched_at: datetime | None = None) -> None:
        with self._db.write() as conn:
            cache.put_pricing(conn, key, pricing, fetched_at or self._clock())

    def get_pricing(self, key: str) -> Cached[Pricing] | None:
        with self._db.read() as conn:
            return cache.get_pricing(conn, key)

    def pricing_status(self, key: str) -> CacheStatus:
        with self._db.read() as conn:
            return cache.pricing_status(conn, key)

    def clear_pricing(self, key: str | None = None) -> int:
        """Remove the pricing for `key` (every key when None); returns entries removed."""
        with self._db.write() as conn:
            return cache.clear_pricing(conn, key)

    # -- last-good snapshots (user/info, user/stats) ---------------------------------------

    def put_snapshot(
        self, domain_hash: str, kind: str, value: BaseModel, fetched_at: datetime | None = None
    ) -> None:
        with self._db.write() as conn:
            cache.put_snapshot(conn, domain_hash, kind, value, fetched_at or self._clock())

    def get_snapshot(self, domain_hash: str, kind: str, model: type[M]) -> Cached[M] | None:
        with self._db.read() as conn:
            return cache.get_snapshot(conn, domain_hash, kind, model)

    def clear_snapshots(self, domain_hash: str | None = None) -> int:
        with self._db.write() as conn:
            return cache.clear_snapshots(conn, domain_hash)
