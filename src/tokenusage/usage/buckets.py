"""Spend by bucket: the chart, the breakdown tables and `tokenusage usage`.

Everything here starts from `DayTotal`s: per business-timezone day, service and type, the
count of entries and the exact sums of amount, tokens and images (the store keeps them up to
date as it syncs). Spend is credits consumed: minus the sum of usage amounts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, localcontext
from functools import wraps
from typing import Literal, ParamSpec, TypeVar

Granularity = Literal["day", "week", "month"]
By = Literal["day", "week", "month", "service", "type"]
OTHER = "\x00other"  # the chart's "Other" series: a key no service can have
TOP_SERVICES = 5
DAYS_MAX = 92
WEEKS_MAX = 371  # 53 weeks: "about a year"
ZERO = Decimal(0)
# Amounts are added and subtracted in this context, where that is exact at any size (the
# default context keeps 28 significant digits, and a ledger's amounts have no such limit).
# Never divide in it.
EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
_P = ParamSpec("_P")
_R = TypeVar("_R")


def exactly(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run `fn` (which adds and subtracts amounts, and never divides) in `EXACT`."""

    @wraps(fn)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with localcontext(EXACT):
            return fn(*args, **kwargs)

    return run


@dataclass(slots=True)  # not frozen: a chart reads about a thousand, and frozen costs 5x
class DayTotal:
    day: date
    service: str
    type: str
    count: int
    amount: Decimal
    tokens: int
    images: int


@dataclass(slots=True)
class Totals:
    """Sums over some DayTotals, split the way every view of them needs."""

    spend: Decimal = ZERO
    purchased: Decimal = ZERO
    refunded: Decimal = ZERO
    count: int = 0
    tokens: int = 0
    images: int = 0

    def add(self, t: DayTotal) -> None:
        if t.type == "usage":
            self.spend = EXACT.subtract(self.spend, t.amount)
        elif t.type == "purchase":
            self.purchased = EXACT.add(self.purchased, t.amount)
        elif t.type == "refund":
            self.refunded = EXACT.add(self.refunded, t.amount)
        self.count += t.count
        self.tokens += t.tokens
        self.images += t.images

    def merge(self, other: Totals) -> None:
        self.spend = EXACT.add(self.spend, other.spend)
        self.purchased = EXACT.add(self.purchased, other.purchased)
        self.refunded = EXACT.add(self.refunded, other.refunded)
        self.count += other.count
        self.tokens += other.tokens
        self.images += other.images

    @property
    def amount(self) -> Decimal:
        """The net sum of the amounts (what the entries did to the balance)."""
        return EXACT.subtract(EXACT.add(self.purchased, self.refunded), self.spend)


def granularity_for(first: date, last: date) -> Granularity:
    days = (last - first).days + 1
    return "day" if days <= DAYS_MAX else "week" if days <= WEEKS_MAX else "month"


def bucket_of(day: date, granularity: Granularity) -> date:
    if granularity == "week":
        return day - timedelta(days=day.weekday())  # ISO weeks start on Monday
    if granularity == "month":
        return day.replace(day=1)
    return day


def next_bucket(start: date, granularity: Granularity) -> date:
    if granularity == "day":
        return start + timedelta(days=1)
    if granularity == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def bucket_key(start: date, granularity: Granularity) -> str:
    """`YYYY-MM-DD` (a day, or a week's Monday) or `YYYY-MM` (a month)."""
    return start.strftime("%Y-%m") if granularity == "month" else start.isoformat()


@dataclass(frozen=True)
class Bucket:
    start: date
    end: date  # inclusive last day inside the range
    spend: dict[str, Decimal]  # by series key (a service, or OTHER)
    totals: Totals

    @property
    def total_spend(self) -> Decimal:
        return self.totals.spend


@dataclass(frozen=True)
class Chart:
    first: date
    last: date
    granularity: Granularity
    series: tuple[str, ...]  # the top services by spend, then OTHER when anything else spent
    buckets: tuple[Bucket, ...]
    totals: Totals = field(default_factory=Totals)

    @property
    def peak(self) -> Decimal:
        return max((b.total_spend for b in self.buckets), default=ZERO)


def _in_range(days: Iterable[DayTotal], first: date, last: date) -> list[DayTotal]:
    return [d for d in days if first <= d.day <= last]


def top_services(days: Iterable[DayTotal], n: int = TOP_SERVICES) -> list[str]:
    spent: dict[str, Decimal] = defaultdict(Decimal)
    for d in days:
        if d.type == "usage":
            spent[d.service] = EXACT.subtract(spent[d.service], d.amount)
    ranked = sorted((s for s, v in spent.items() if v != 0), key=lambda s: (-spent[s], s))
    return ranked[:n]


def bucket_spans(first: date, last: date) -> list[tuple[date, date]]:
    """The chart's buckets over [first, last]: each one's first and last day in the range."""
    granularity = granularity_for(first, last)
    out = []
    start = bucket_of(first, granularity)
    while start <= last:
        after = next_bucket(start, granularity)
        out.append((max(start, first), min(after - timedelta(days=1), last)))
        start = after
    return out


def chart(days: Iterable[DayTotal], first: date, last: date, top: int = TOP_SERVICES) -> Chart:
    """Spend per bucket over [first, last], stacked by the top `top` services plus Other;
    every bucket of the range is present, empty ones included. `days` may be per day or
    already per bucket (dated inside it)."""
    picked = _in_range(days, first, last)
    granularity = granularity_for(first, last)
    leaders = top_services(picked, top)
    chosen = set(leaders)
    spans = bucket_spans(first, last)
    by_bucket: dict[date, tuple[dict[str, Decimal], Totals]] = {
        bucket_of(start, granularity): (defaultdict(Decimal), Totals()) for start, _ in spans
    }
    other = False
    for d in picked:
        spend, totals = by_bucket[bucket_of(d.day, granularity)]
        totals.add(d)
        if d.type == "usage" and d.amount:
            key = d.service if d.service in chosen else OTHER
            other = other or key == OTHER
            spend[key] = EXACT.subtract(spend[key], d.amount)
    buckets = tuple(
        Bucket(start=start, end=end, spend=dict(spend), totals=totals)
        for (start, end), (spend, totals) in zip(spans, by_bucket.values(), strict=True)
    )
    overall = Totals()
    for b in buckets:
        overall.merge(b.totals)
    series = (*leaders, OTHER) if other else tuple(leaders)
    return Chart(first, last, granularity, series, buckets, overall)


@dataclass(frozen=True)
class BreakdownRow:
    key: str  # a service as the API gives it, or a type
    totals: Totals
    share: Decimal | None  # of the range's spend (0..1); None when nothing was spent
    previous: Totals  # the previous period of the same length
    # The change in the row's headline figure (spend; for purchases and refunds, the amount)
    # against the previous period, as a fraction; None when the previous one was zero.
    change: Decimal | None

    @property
    def figure(self) -> Decimal:
        return self.totals.spend if self.key not in ("purchase", "refund") else self.totals.amount


def _figure(key: str, t: Totals) -> Decimal:
    return t.amount if key in ("purchase", "refund") else t.spend


def _rows(
    current: dict[str, Totals], previous: dict[str, Totals], keys: Iterable[str]
) -> list[BreakdownRow]:
    spent = sum((t.spend for t in current.values()), ZERO)
    out = []
    for key in keys:
        now = current.get(key, Totals())
        before = previous.get(key, Totals())
        figure, old = _figure(key, now), _figure(key, before)
        out.append(
            BreakdownRow(
                key=key,
                totals=now,
                share=None if spent == 0 else now.spend / spent,
                previous=before,
                change=None if old == 0 else (figure - old) / abs(old),
            )
        )
    return out


Pairs = dict[tuple[str, str], Totals]  # by (service, type)


def _pairs(days: Iterable[DayTotal]) -> Pairs:
    out: Pairs = {}
    for d in days:
        key = (d.service, d.type)
        found = out.get(key)
        if found is None:
            found = out[key] = Totals()
        found.add(d)
    return out


def _group(pairs: Pairs, by: Literal[0, 1]) -> dict[str, Totals]:
    """The (service, type) totals folded by service (0) or by type (1)."""
    out: dict[str, Totals] = {}
    for key, totals in pairs.items():
        found = out.get(key[by])
        if found is None:
            found = out[key[by]] = Totals()
        found.merge(totals)
    return out


def breakdowns(
    current: Iterable[DayTotal], previous: Iterable[DayTotal]
) -> tuple[list[BreakdownRow], list[BreakdownRow]]:
    """By service: one row per service used in the current range, most spend first
    (purchases and refunds, which name a service of their own in some ledgers, are the type
    breakdown's). By type: usage, purchases and refunds, always all three."""
    now, before = _pairs(current), _pairs(previous)
    services = _group(now, 0)
    used = {service for service, type_ in now if type_ == "usage"}
    keys = sorted(used, key=lambda s: (-services[s].spend, s))
    by_service = _rows(services, _group(before, 0), keys)
    by_type = _rows(_group(now, 1), _group(before, 1), ("usage", "purchase", "refund"))
    return by_service, by_type


def previous_range(first: date, last: date) -> tuple[date, date]:
    length = (last - first).days + 1
    return first - timedelta(days=length), first - timedelta(days=1)


@dataclass(frozen=True)
class UsageRow:
    """One line of `tokenusage usage` and of `/api/v1/usage`."""

    bucket: str
    totals: Totals

    def as_json(self) -> dict[str, object]:
        t = self.totals
        return {
            "bucket": self.bucket,
            "spend": _plain(t.spend),
            "purchased": _plain(t.purchased),
            "refunded": _plain(t.refunded),
            "count": t.count,
            "tokens": t.tokens,
            "images": t.images,
        }


def _plain(amount: Decimal) -> str:
    return format(EXACT.add(amount, ZERO), "f")  # adding 0 turns -0 into 0


def usage_rows(days: Iterable[DayTotal], by: By) -> list[UsageRow]:
    """Buckets that had entries: time buckets oldest first, services and types most spend first."""
    groups: dict[str, Totals] = defaultdict(Totals)
    for d in days:
        if by == "service" or by == "type":
            key = d.service if by == "service" else d.type
        else:
            granularity: Granularity = by
            key = bucket_key(bucket_of(d.day, granularity), granularity)
        groups[key].add(d)
    if by in ("service", "type"):
        keys = sorted(groups, key=lambda k: (-groups[k].spend, k))
    else:
        keys = sorted(groups)
    return [UsageRow(k, groups[k]) for k in keys]
