"""Insights are exact: every figure equals a computation of its own over the reference ledger.

The ledger has entries one second either side of local midnight in each zone tested, and
across both of New York's DST changes in 2026 (a 23-hour day on March 8, a 25-hour day on
November 1). The expected numbers are computed here from the ledger's own entries with
nothing but the standard library; the dashboard reads its store's day totals. Both store
engines.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.fixtures import RunningLicenseServer, running_license_server
from tests.service.conftest import make_service
from tokenusage.service import DashboardService
from tokenusage.usage.branding import brand
from tokenusage.usage.buckets import OTHER
from tokenusage.usage.filters import parse_filters

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 20, 15, 30, 12, tzinfo=UTC)
ZONES = ["UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/Sao_Paulo", "America/New_York"]
SERVICES = [
    "Image processing",
    "Title generation via openai (gpt-4o-mini)",
    "Tag enrichment via anthropic (claude-3-5-sonnet)",
    "Translation via google (gemini-1.5-pro)",
    "Moderation review",
    "Chat assistant",
    "Image search",
    "Face detection",
]
EDGE_DAYS = [date(2026, 3, 8), date(2026, 3, 9), date(2026, 11, 1), date(2026, 11, 2)]
EDGE_DAYS += [NOW.date() - timedelta(days=n) for n in (0, 1, 7, 8, 29, 30, 31)]


def _ledger_rows(licence_id: int) -> list[dict[str, object]]:
    rng = random.Random(8)
    rows: list[dict[str, object]] = []

    def add(at: datetime, type_: str, service: str, units: int, n: int) -> None:
        usage = type_ == "usage"
        rows.append(
            {
                "licence_id": licence_id,
                "created_at": at,
                "type": type_,
                "service_type": service if usage else "",
                "amount_units": -units if usage else units,
                "input_tokens": n * 37 if usage else 0,
                "completion_tokens": n * 11 if usage else 0,
                "cached_tokens": 0,
                "images": n if usage and "Image" in service else 0,
                "description": f"job {n} for gallery #{n % 97} ({service})",
            }
        )

    start = NOW - timedelta(days=300)
    for _ in range(2500):
        at = start + timedelta(seconds=rng.randrange(300 * 86400))
        add(at, "usage", rng.choice(SERVICES[:7]), rng.randrange(1, 900_000), rng.randrange(1, 500))
    for zone in ZONES:
        tz = ZoneInfo(zone)
        for day in EDGE_DAYS:
            midnight = datetime.combine(day, datetime.min.time(), tzinfo=tz).astimezone(UTC)
            for offset in (-1, 0, 1):
                at = midnight + timedelta(seconds=offset)
                if at <= NOW:
                    add(at, "usage", rng.choice(SERVICES), rng.randrange(1, 50_000), 3)
    for n in range(25):
        at = start + timedelta(days=12 * n, hours=5)
        add(at, "purchase", "", 50_000_000 + n, n)
        if n % 3 == 0:
            add(at + timedelta(hours=1), "refund", "", 1_000_000 + n, n)
    # The runway's windows (now - N days, now] end and start inside an hour: entries either
    # side of each edge, in the edge's own hour and in the hours next to it.
    for edge in (NOW, NOW - timedelta(days=7), NOW - timedelta(days=30)):
        for offset in (-3600, -1200, -1, 0, 1, 1200, 3600):
            at = edge + timedelta(seconds=offset)
            if at <= NOW:
                add(at, "usage", rng.choice(SERVICES), rng.randrange(1, 50_000), 2)
    # A usage entry a little after "now" (clock skew): outside every window ending now.
    add(NOW + timedelta(minutes=5), "usage", SERVICES[0], 7, 1)
    rows.sort(key=lambda r: r["created_at"])  # type: ignore[arg-type,return-value]
    return rows


@dataclass(frozen=True)
class Entry:
    at: datetime
    type: str
    service: str
    amount: Decimal
    tokens: int
    images: int
    text: str


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLicenseServer]:
    path = tmp_path_factory.mktemp("insights") / "ledger.sqlite3"
    with running_license_server(f"sqlite:///{path}") as srv:
        srv.ledger.add_entries(_ledger_rows(srv.licence_id))
        yield srv


def _entries(srv: RunningLicenseServer) -> list[Entry]:
    payload = srv.ledger.history(srv.licence_id, limit=100_000)
    out = []
    for t in payload["transactions"]:
        at = datetime.fromisoformat(str(t["created_at"]).replace("Z", "+00:00"))
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
        out.append(
            Entry(
                at,
                t["type"],
                t["service_type"],
                Decimal(str(t["amount"])),
                int(t["tokens_used"]),
                int(t["images_processed"]),
                f"{brand(t['description'])}\n{brand(t['service_type'])}",
            )
        )
    return out


@pytest.fixture
async def service(
    ledger: RunningLicenseServer, db_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[DashboardService]:
    zone = request.param
    svc = make_service(ledger, db_url, tmp_path, timezone=zone, history_page_size=1000)
    svc.clock = lambda: NOW
    try:
        await svc.view(1, complete=True)
        yield svc
    finally:
        await svc.aclose()


def _spend(entries: list[Entry], keep: object) -> Decimal:
    return -sum((e.amount for e in entries if e.type == "usage" and keep(e)), Decimal(0))  # type: ignore[operator]


def _week(d: date) -> date:
    return d - timedelta(days=d.weekday())


@pytest.mark.parametrize("service", ZONES, indirect=True)
async def test_chart_breakdown_and_runway_equal_the_ledger(
    service: DashboardService, ledger: RunningLicenseServer
) -> None:
    tz = service.settings.tz
    entries = _entries(ledger)
    day_of = {id(e): e.at.astimezone(tz).date() for e in entries}
    today = NOW.astimezone(tz).date()

    view = await service.view(1)
    found = view.insights
    assert found is not None and found.default_range
    first = today - timedelta(days=29)
    assert (found.first, found.last) == (first, today)
    assert found.chart.granularity == "day" and len(found.chart.buckets) == 30

    # Daily spend per service over the last 30 business days, top 5 and Other.
    in_range = [e for e in entries if first <= day_of[id(e)] <= today]
    per_service: dict[str, Decimal] = defaultdict(Decimal)
    for e in in_range:
        if e.type == "usage":
            per_service[e.service] -= e.amount
    top = sorted((s for s in per_service if per_service[s]), key=lambda s: (-per_service[s], s))[:5]
    assert list(found.chart.series[:5]) == top
    for bucket in found.chart.buckets:
        day_entries = [e for e in in_range if day_of[id(e)] == bucket.start]
        for key, value in bucket.spend.items():
            expected = _spend(
                day_entries,
                lambda e, k=key: e.service == k or (k == OTHER and e.service not in top),
            )
            assert value == expected, (bucket.start, key)
        assert bucket.total_spend == _spend(day_entries, lambda e: True)
        purchased = sum((e.amount for e in day_entries if e.type == "purchase"), Decimal(0))
        assert bucket.totals.purchased == purchased
        assert bucket.totals.count == len(day_entries)

    # Breakdown by service against the previous 30 days.
    before = [e for e in entries if first - timedelta(days=30) <= day_of[id(e)] < first]
    for row in found.by_service:
        mine = [e for e in in_range if e.service == row.key]
        assert row.totals.count == len(mine)
        assert row.totals.spend == _spend(mine, lambda e: True)
        assert row.totals.tokens == sum(e.tokens for e in mine)
        assert row.totals.images == sum(e.images for e in mine)
        old = _spend([e for e in before if e.service == row.key], lambda e: True)
        assert row.change == (None if old == 0 else (row.totals.spend - old) / abs(old))
    assert {r.key for r in found.by_service} == {e.service for e in in_range if e.type == "usage"}
    by_type = {r.key: r for r in found.by_type}
    refunds = [e for e in in_range if e.type == "refund"]
    assert by_type["refund"].totals.amount == sum((e.amount for e in refunds), Decimal(0))

    # Runway: rolling windows (now - N days, now], balance from user/stats.
    spend_7 = _spend(entries, lambda e: NOW - timedelta(days=7) < e.at <= NOW)
    spend_30 = _spend(entries, lambda e: NOW - timedelta(days=30) < e.at <= NOW)
    runway = found.runway
    assert runway is not None and view.stats is not None
    assert runway.burn_7d == spend_7 / 7 and runway.burn_30d == spend_30 / 30
    balance = sum((e.amount for e in entries), Decimal(0))
    assert view.stats.balance == balance
    assert runway.basis == "7d"
    assert runway.days_left == math.floor(balance / (spend_7 / 7))

    # Spend today and this month against the same days of last month.
    month_first = today.replace(day=1)
    prev_first = (month_first - timedelta(days=1)).replace(day=1)
    prev_same = prev_first.replace(day=today.day)
    spend = found.spend
    assert spend.today == _spend(entries, lambda e: day_of[id(e)] == today)
    assert spend.month_to_date == _spend(entries, lambda e: month_first <= day_of[id(e)] <= today)
    assert spend.previous_month_same_days == _spend(
        entries, lambda e: prev_first <= day_of[id(e)] <= prev_same
    )


@pytest.mark.parametrize("service", ZONES, indirect=True)
async def test_filters_count_total_rows_and_csv_equal_the_ledger(
    service: DashboardService, ledger: RunningLicenseServer
) -> None:
    tz = service.settings.tz
    entries = _entries(ledger)
    cases = [
        parse_filters("2026-03-08", "2026-03-08"),  # a 23-hour day in New York
        parse_filters("2026-11-01", "2026-11-01"),  # a 25-hour day in New York
        parse_filters("2026-10-25", "2026-11-09", ["usage"], [SERVICES[1], SERVICES[3]]),
        parse_filters("", "", ["purchase", "refund"]),
        parse_filters("", "", [], [], "GALLERY #42 "),
        parse_filters("2026-06-01", "", ["usage"], [], "ComusThumbz"),
    ]
    for filters in cases:
        assert not filters.errors
        want = [
            e
            for e in entries
            if filters.matches(
                day=e.at.astimezone(tz).date(), type_=e.type, service=e.service, text=e.text
            )
        ]
        assert want, f"the case {filters} should match something"
        view = await service.view(1, filters=filters)
        assert view.matching is not None
        assert view.matching.count == len(want), filters
        assert view.matching.amount == sum((e.amount for e in want), Decimal(0))
        assert view.window.total == len(want)
        shown = view.transactions
        assert [r.created_at for r in shown] == sorted((e.at for e in want), reverse=True)[:300]

        chunks = [c async for c in service.export_csv([], filters=filters)]
        lines = "".join(c.text for c in chunks).strip("\ufeff").splitlines()
        assert len(lines) - 1 == len(want) == sum(c.rows for c in chunks)


@pytest.mark.parametrize("service", ["America/New_York"], indirect=True)
async def test_weekly_and_monthly_buckets(
    service: DashboardService, ledger: RunningLicenseServer
) -> None:
    tz = service.settings.tz
    entries = _entries(ledger)
    for first, last, granularity in [
        (date(2026, 2, 1), date(2026, 11, 20), "week"),
        (date(2025, 10, 1), date(2026, 11, 20), "month"),
    ]:
        filters = parse_filters(first.isoformat(), last.isoformat())
        view = await service.view(1, filters=filters)
        assert view.insights is not None
        chart = view.insights.chart
        assert chart.granularity == granularity
        starts = [b.start for b in chart.buckets]
        assert starts[0] == first and starts == sorted(starts)
        for bucket in chart.buckets:

            def inside(e: Entry, b: object = bucket) -> bool:
                d = e.at.astimezone(tz).date()
                return bool(b.start <= d <= b.end)  # type: ignore[attr-defined]

            assert bucket.total_spend == _spend(entries, inside)
            if granularity == "week" and bucket.start != first:
                assert bucket.start == _week(bucket.start)
            if granularity == "month" and bucket.start != first:
                assert bucket.start.day == 1
