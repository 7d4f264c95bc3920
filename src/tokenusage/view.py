"""What one dashboard view is made of: plain frozen data the pages, the CLI and the JSON API read.

All times are aware UTC; presentation converts to the business timezone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

from tokenusage.licenseapi.exchange import Exchange
from tokenusage.licenseapi.models import Pricing, UserInfo, UserStats
from tokenusage.store import MirrorRow
from tokenusage.usage.estimates import Estimates
from tokenusage.usage.pagination import PageWindow

Source = Literal["live", "cached", "none"]


@dataclass(frozen=True)
class CacheInfo:
    """Where a piece of data came from for this view, and how old the stored copy is."""

    source: Source
    fetched_at: datetime | None
    rows: int | None = None
    upstream_total: int | None = None
    limited: bool = False
    # A sync is still copying the history into the local store (a cold view shows the newest
    # page as fetched meanwhile).
    syncing: bool = False

    def age_seconds(self, now: datetime) -> float | None:
        return (
            None if self.fetched_at is None else max(0.0, (now - self.fetched_at).total_seconds())
        )


@dataclass(frozen=True)
class DashboardView:
    now: datetime
    configured: bool
    account: UserInfo | None
    stats: UserStats | None
    pricing: Pricing | None
    estimates: Estimates | None
    low_balance: bool
    window: PageWindow
    transactions: list[MirrorRow]
    pricing_cache: CacheInfo
    transactions_cache: CacheInfo
    account_cache: CacheInfo
    errors: list[str] = field(default_factory=list)
    stats_cache: CacheInfo = CacheInfo("none", None)

    @property
    def stale(self) -> bool:
        """Some data shown is stored data that could not be refreshed because of an error."""
        stored = any(
            c.source == "cached"
            for c in (
                self.account_cache,
                self.stats_cache,
                self.pricing_cache,
                self.transactions_cache,
            )
        )
        return bool(self.errors) and self.has_data and stored

    @property
    def has_data(self) -> bool:
        return self.account is not None or self.stats is not None or bool(self.transactions)

    @property
    def data_as_of(self) -> datetime | None:
        """The oldest fetch time among what is shown: the honest 'data as of'."""
        times = [
            c.fetched_at
            for c in (
                self.account_cache,
                self.stats_cache,
                self.pricing_cache,
                self.transactions_cache,
            )
            if c.fetched_at is not None
        ]
        return min(times) if times else None

    @property
    def page_amount_total(self) -> Decimal:
        return sum((t.amount for t in self.transactions), Decimal(0))


@dataclass(frozen=True)
class DebugInfo:
    api_url: str
    license_key_masked: str
    domain: str
    email: str
    store_location: str
    store_backend: str
    pricing_cache: CacheInfo
    transactions_cache: CacheInfo
    exchanges: dict[str, Exchange]
    errors: list[str]
