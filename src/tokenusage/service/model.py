"""What one dashboard view is made of: plain frozen data the pages, the CLI and the JSON API read.

All times are aware UTC; presentation converts to the business timezone.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from tokenusage.licenseapi.exchange import Exchange
from tokenusage.licenseapi.models import Pricing, UserInfo, UserStats
from tokenusage.service.problems import Problem
from tokenusage.store import MirrorRow
from tokenusage.usage.buckets import BreakdownRow, Chart
from tokenusage.usage.estimates import Estimates
from tokenusage.usage.filters import Filters
from tokenusage.usage.pagination import PageWindow
from tokenusage.usage.runway import Runway, SpendSoFar

# live: fetched from the License API for this view (or moments ago); cached: the stored copy;
# none: not available at all.
Source = Literal["live", "cached", "none"]


@dataclass(frozen=True)
class SyncProgress:
    """How far a running full sync has copied the history (total: as the server reports it)."""

    rows: int
    total: int | None


@dataclass(frozen=True)
class CacheInfo:
    """Where a piece of data came from for this view, and how old the stored copy is."""

    source: Source
    fetched_at: datetime | None
    rows: int | None = None
    upstream_total: int | None = None
    limited: bool = False
    # A full sync is copying the history into the local store right now.
    syncing: bool = False
    progress: SyncProgress | None = None

    def age_seconds(self, now: datetime) -> float | None:
        return (
            None if self.fetched_at is None else max(0.0, (now - self.fetched_at).total_seconds())
        )


NONE = CacheInfo("none", None)


@dataclass(frozen=True)
class Matching:
    """The rows of the history that match the filters: how many, and their net amount."""

    count: int
    amount: Decimal


@dataclass(frozen=True)
class Insights:
    """Where the credit goes (chart and breakdowns over a range of business days) and when it
    runs out (runway, spend so far). Every figure is exact, from the store's aggregates."""

    first: date  # the range, inclusive, in the business timezone
    last: date
    default_range: bool  # no date filter: the last 30 days
    chart: Chart
    by_service: list[BreakdownRow]
    by_type: list[BreakdownRow]
    previous_first: date  # the period the changes compare with
    previous_last: date
    spend: SpendSoFar
    runway: Runway | None  # None without a known balance
    services: tuple[str, ...]  # every service in the ledger, for the filter (as the API gives)
    # Equal keys, equal chart and breakdowns: the stored version they were read from and the
    # range (None when made by hand). Pages key the panel's cached HTML by it.
    key: Hashable | None = field(default=None, compare=False)


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
    stats_cache: CacheInfo = NONE
    problems: list[Problem] = field(default_factory=list)
    filters: Filters = field(default_factory=Filters)
    # With filters: what matches ("Showing X-Y of N", total amount). None without filters.
    matching: Matching | None = None
    insights: Insights | None = None

    @property
    def caches(self) -> tuple[CacheInfo, ...]:
        return (self.account_cache, self.stats_cache, self.pricing_cache, self.transactions_cache)

    @property
    def stale(self) -> bool:
        """Some data shown is a stored copy that could not be refreshed because of a problem."""
        stored = any(c.source == "cached" for c in self.caches)
        return bool(self.problems) and self.has_data and stored

    @property
    def has_data(self) -> bool:
        return self.account is not None or self.stats is not None or bool(self.transactions)

    @property
    def complete(self) -> bool:
        """Everything asked for is shown, fresh, whole and without a problem."""
        tcache = self.transactions_cache
        return not self.problems and not tcache.limited and not tcache.syncing

    @property
    def data_as_of(self) -> datetime | None:
        """The oldest fetch time among what is shown: the honest 'data as of'."""
        times = [c.fetched_at for c in self.caches if c.fetched_at is not None]
        return min(times) if times else None


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
    problems: list[Problem]
    # Text search uses an index (False: PostgreSQL without pg_trgm); None without a store.
    search_indexed: bool | None = None
