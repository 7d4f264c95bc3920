"""The ledger's figures for /metrics (and the alerts): one value each, read from the store,
so every replica reports the same numbers for the same ledger rather than counting its own."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from tokenusage.service.model import DashboardView
from tokenusage.service.problems import Problem
from tokenusage.usage.branding import brand
from tokenusage.usage.buckets import EXACT, UsageRow


@dataclass(frozen=True)
class Figures:
    now: datetime
    balance: Decimal | None
    # Whole days the balance lasts at the current burn rate; None: no spend in 30 days.
    runway_days: int | None
    runway_known: bool
    # Spend (minus the usage amounts) per branded service over the whole mirrored ledger.
    spend_by_service: dict[str, Decimal] = field(default_factory=dict)
    last_sync: datetime | None = None
    data_as_of: datetime | None = None
    problems: tuple[Problem, ...] = ()

    @property
    def data_age_seconds(self) -> float | None:
        return None if self.data_as_of is None else (self.now - self.data_as_of).total_seconds()


def figures_of(view: DashboardView, by_service: list[UsageRow]) -> Figures:
    runway = view.insights.runway if view.insights is not None else None
    spend: dict[str, Decimal] = defaultdict(Decimal)
    for row in by_service:
        if not row.totals.spend:  # the "services" of purchases and refunds
            continue
        name = brand(row.bucket) if row.bucket else ""
        spend[name] = EXACT.add(spend[name], row.totals.spend)  # two services, one brand
    return Figures(
        now=view.now,
        balance=view.stats.balance if view.stats is not None else None,
        runway_days=None if runway is None else runway.days_left,
        runway_known=runway is not None,
        spend_by_service=dict(spend),
        last_sync=view.transactions_cache.fetched_at,
        data_as_of=view.data_as_of,
        problems=tuple(view.problems),
    )
