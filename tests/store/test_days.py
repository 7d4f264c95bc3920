"""The day totals, their running totals and the search table stay equal to a recomputation
over the mirror's rows after full syncs, incremental syncs, Clear Cache, a crash mid-sync and
a timezone change."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Context, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, inspect, select

from tests.store.conftest import DOMAIN, T0, Clock, tx
from tokenusage.licenseapi.models import Transaction
from tokenusage.store import Store, running
from tokenusage.store import sync as sync_module
from tokenusage.store.insights import InsightQuery
from tokenusage.store.schema import mirror_days, mirror_features, mirror_running
from tokenusage.usage.buckets import DayTotal
from tokenusage.usage.filters import parse_filters

SERVICES = ("chat via openai", "Image processing", "Moderation review")


def ledger(ids: range, seed: int = 1) -> list[Transaction]:
    rng = random.Random(seed)
    out = []
    for i in ids:
        out.append(
            tx(
                i,
                created_at=T0 + timedelta(minutes=37 * i),
                type=rng.choice(("usage", "usage", "usage", "purchase", "refund")),
                service_type=rng.choice(SERVICES),
                amount=Decimal(rng.randrange(1, 10**9)) / 10**8,
            )
        )
    return [t if t.type != "usage" else t.model_copy(update={"amount": -t.amount}) for t in out]


def expected(
    rows: list[Transaction], zone: str
) -> dict[tuple[date, str, str], tuple[int, Decimal]]:
    tz = ZoneInfo(zone)
    out: dict[tuple[date, str, str], list[object]] = defaultdict(lambda: [0, Decimal(0)])
    for t in rows:
        cell = out[(t.created_at.astimezone(tz).date(), t.service_type, t.type)]
        cell[0] = int(cell[0]) + 1  # type: ignore[call-overload]
        cell[1] = cell[1] + t.amount  # type: ignore[operator]
    return {k: (int(v[0]), Decimal(v[1])) for k, v in out.items()}  # type: ignore[call-overload]


def stored(days: list[DayTotal] | None) -> dict[tuple[date, str, str], tuple[int, Decimal]]:
    assert days is not None
    return {(d.day, d.service, d.type): (d.count, d.amount) for d in days}


def full_sync(store: Store, rows: list[Transaction], page: int = 100) -> None:
    newest_first = sorted(rows, key=lambda t: t.id, reverse=True)
    with store.full_sync(DOMAIN) as sync:
        for k in range(0, len(newest_first), page):
            sync.add_page(newest_first[k : k + page])
        sync.finish(total=len(rows))


def test_totals_follow_full_and_incremental_syncs(db_url: str, clock: Clock) -> None:
    with Store.open(db_url, clock=clock, zone="Asia/Kathmandu") as store:
        rows = ledger(range(1, 701))
        full_sync(store, rows)
        assert stored(store.usage_days(DOMAIN, None, None)) == expected(rows, "Asia/Kathmandu")
        newer = ledger(range(701, 760), seed=2)
        store.append_newer(DOMAIN, newer)
        rows += newer
        assert stored(store.usage_days(DOMAIN, None, None)) == expected(rows, "Asia/Kathmandu")
        # A full sync of a different history replaces the totals with its own.
        other = ledger(range(1, 300), seed=3)
        full_sync(store, other)
        assert stored(store.usage_days(DOMAIN, None, None)) == expected(other, "Asia/Kathmandu")


def running_expected(
    rows: list[Transaction], zone: str, day: date
) -> dict[tuple[str, str], tuple[int, Decimal, int, int]]:
    """What the rows up to the end of `day` (in `zone`) add up to, per service and type."""
    tz = ZoneInfo(zone)
    out: dict[tuple[str, str], tuple[int, Decimal, int, int]] = {}
    wide = Context(prec=1000)  # sums exact at any size (the default context keeps 28 digits)
    for t in rows:
        if t.created_at.astimezone(tz).date() <= day:
            n, a, tk, im = out.get((t.service_type, t.type), (0, Decimal(0), 0, 0))
            out[(t.service_type, t.type)] = (
                n + 1,
                wide.add(a, t.amount),
                tk + t.tokens_used,
                im + t.images_processed,
            )
    return out


def assert_running(store: Store, rows: list[Transaction], zone: str) -> None:
    """The running totals through every day of the rows (and the days around them)."""
    tz = ZoneInfo(zone)
    dates = {t.created_at.astimezone(tz).date() for t in rows}
    every = [min(dates) + timedelta(days=k) for k in range(-1, (max(dates) - min(dates)).days + 2)]
    with store._db.read() as conn:
        (generation,) = conn.execute(
            select(mirror_features.c.generation).where(
                mirror_features.c.feature == f"running:{zone}"
            )
        ).one()
        found = running.at(conn, generation, zone, every)
    for day in every:
        assert found[day] == running_expected(rows, zone, day), day


def test_running_totals_follow_full_and_incremental_syncs_and_late_rows(
    db_url: str, clock: Clock
) -> None:
    """Through a 25-hour day (New York, November): after a full sync, appends of newer rows
    and an append of a row dated days back (a newer id with an older time)."""
    zone = "America/New_York"
    rows = [
        t.model_copy(update={"created_at": t.created_at + timedelta(days=300)})
        for t in ledger(range(1, 400))
    ]
    with Store.open(db_url, clock=clock, zone=zone) as store:
        full_sync(store, rows)
        assert_running(store, rows, zone)
        newer = [
            t.model_copy(update={"created_at": t.created_at + timedelta(days=300)})
            for t in ledger(range(400, 430), seed=5)
        ]
        store.append_newer(DOMAIN, newer)
        rows += newer
        assert_running(store, rows, zone)
        late = tx(430, created_at=rows[40].created_at, service_type="Late service", amount=-1)
        store.append_newer(DOMAIN, [late])
        rows.append(late)
        assert_running(store, rows, zone)
        other = ledger(range(1, 120), seed=6)
        full_sync(store, other)
        assert_running(store, other, zone)
        with store._db.read() as conn:
            kept = {g for (g,) in conn.execute(select(mirror_running.c.generation).distinct())}
        assert len(kept) == 1


def test_a_new_timezone_is_built_once_and_then_kept(db_url: str, clock: Clock) -> None:
    rows = ledger(range(1, 400))
    with Store.open(db_url, clock=clock, zone="UTC") as store:
        full_sync(store, rows)
    with Store.open(db_url, clock=clock, zone="America/New_York") as store:
        assert stored(store.usage_days(DOMAIN, None, None)) == expected(rows, "America/New_York")
        newer = ledger(range(400, 420), seed=4)
        store.append_newer(DOMAIN, newer)
    with Store.open(db_url, clock=clock, zone="UTC") as store:
        # Both zones were kept by the append.
        assert stored(store.usage_days(DOMAIN, None, None)) == expected(rows + newer, "UTC")


def test_clear_and_a_crashed_sync_leave_no_orphan_totals(db_url: str, clock: Clock) -> None:
    with Store.open(db_url, clock=clock, zone="UTC") as store:
        rows = ledger(range(1, 300))
        full_sync(store, rows)
        before = stored(store.usage_days(DOMAIN, None, None))
        # A full sync that dies after one page (no finish, no discard): a killed process.
        builder = sync_module.begin(store._db, DOMAIN, clock, "UTC")
        builder.add_page(ledger(range(5000, 5100), seed=9))
        assert stored(store.usage_days(DOMAIN, None, None)) == before
        clock.advance(3600)
        store.discard_abandoned()
        with store._db.read() as conn:
            for table in (mirror_days, mirror_running):
                gens = {g for (g,) in conn.execute(select(table.c.generation).distinct())}
                assert builder.generation not in gens and len(gens) == 1
            tables = inspect(conn).get_table_names()
            assert f"mirror_search_{builder.generation}" not in tables
        assert stored(store.usage_days(DOMAIN, None, None)) == before
        store.clear_transactions(DOMAIN)
        assert store.usage_days(DOMAIN, None, None) is None
        with store._db.read() as conn:
            assert conn.execute(select(func.count()).select_from(mirror_days)).scalar_one() == 0
            assert conn.execute(select(func.count()).select_from(mirror_running)).scalar_one() == 0
            assert conn.execute(select(func.count()).select_from(mirror_features)).scalar_one() == 0
            assert not [
                t for t in inspect(conn).get_table_names() if t.startswith("mirror_search_")
            ]


def test_search_follows_appends_and_is_case_insensitive(db_url: str, clock: Clock) -> None:
    with Store.open(db_url, clock=clock, zone="UTC") as store:
        rows = [tx(i, description=f"Thumbnail batch {i}") for i in range(1, 50)]
        full_sync(store, rows)
        store.append_newer(DOMAIN, [tx(50, description="special NEEDLE run")])
        view = store.read_view(DOMAIN, "", 300, lambda _: 1, filters=parse_filters(q="needle"))
        assert view.matched is not None and view.matched.count == 1
        assert [r.id for r in view.rows] == [50]
        view = store.read_view(DOMAIN, "", 300, lambda _: 1, filters=parse_filters(q="batch 4"))
        assert sorted(r.id for r in view.rows) == [4, *range(40, 50)]
        # A literal % is searched for, not a wildcard.
        view = store.read_view(DOMAIN, "", 300, lambda _: 1, filters=parse_filters(q="100%"))
        assert view.matched is not None and view.matched.count == 0


def test_a_store_from_before_the_insights_builds_them_on_first_use(
    db_url: str, clock: Clock
) -> None:
    """A mirror synced by an older version has no search table, hour totals, day totals or
    running totals: the first view that needs them builds them from the stored rows, once."""
    from datetime import UTC, datetime

    from tokenusage.store import search
    from tokenusage.store.schema import mirror_hours, mirror_services

    rows = [tx(i, description=f"Thumbnail batch {i}") for i in range(1, 120)]
    with Store.open(db_url, clock=clock, zone="UTC") as store:
        full_sync(store, rows)
        with store._db.write() as conn:
            (generation,) = conn.execute(select(mirror_features.c.generation).distinct()).one()
            search.drop(conn, generation)
            for table in (mirror_features, mirror_days, mirror_hours, mirror_running):
                conn.execute(table.delete())
            conn.execute(mirror_services.delete())
    with Store.open(db_url, clock=clock, zone="UTC") as store:
        view = store.read_view(DOMAIN, "", 300, lambda _: 1, filters=parse_filters(q="batch 11"))
        assert sorted(r.id for r in view.rows) == [11, *range(110, 120)]
        day = rows[0].created_at.date()
        now = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        asked = InsightQuery(day, day, (day, day), ((day, day),), now)
        view = store.read_view(DOMAIN, "", 300, lambda _: 1, insights=asked)
        assert view.insights is not None
        want = -sum((t.amount for t in rows if t.type == "usage"), Decimal(0))
        assert view.insights.spend_7d == want == view.insights.spends[0]
        assert view.insights.services == ("chat via openai",)


def test_day_totals_without_running_totals_get_them_on_first_use(db_url: str, clock: Clock) -> None:
    """A mirror from the version before running totals keeps its day totals and gains them."""
    from tokenusage.usage.buckets import previous_range

    zone = "Asia/Kolkata"
    rows = ledger(range(1, 300))
    with Store.open(db_url, clock=clock, zone=zone) as store:
        full_sync(store, rows)
        with store._db.write() as conn:
            conn.execute(mirror_running.delete())
            conn.execute(
                mirror_features.delete().where(mirror_features.c.feature.like("running:%"))
            )
    tz = ZoneInfo(zone)
    first = min(t.created_at.astimezone(tz).date() for t in rows)
    last = max(t.created_at.astimezone(tz).date() for t in rows)
    asked = InsightQuery(first, last, previous_range(first, last), ((first, last),), clock.now)
    with Store.open(db_url, clock=clock, zone=zone) as store:
        view = store.read_view(DOMAIN, "", 300, lambda _: 1, insights=asked)
        assert view.insights is not None
        want = -sum((t.amount for t in rows if t.type == "usage"), Decimal(0))
        assert view.insights.spends == (want,)
        assert sum(t.count for t in view.insights.current) == len(rows)
        assert_running(store, rows, zone)


def test_totals_stay_exact_past_28_significant_digits(db_url: str, clock: Clock) -> None:
    """Python's default decimal context keeps 28 significant digits; a ledger's amounts have
    no such limit, and neither may its day totals, running totals or the insights."""
    from datetime import UTC, datetime
    from decimal import localcontext

    tiny = Decimal("-0.000000000000000000000000000000123")  # 33 fraction digits
    rows = [tx(1, type="purchase", amount=Decimal(10**15), created_at=T0)]
    with localcontext(Context(prec=1000)):
        rows += [
            tx(i, amount=-(10**12) + tiny * i, created_at=T0 + timedelta(hours=i))
            for i in range(2, 60)
        ]
    with localcontext(Context(prec=1000)):
        spent = -sum((t.amount for t in rows if t.type == "usage"), Decimal(0))
        net = sum((t.amount for t in rows), Decimal(0))
    assert len(str(net).replace(".", "")) > 40  # what 28 digits would round
    with Store.open(db_url, clock=clock, zone="UTC") as store:
        full_sync(store, rows[:30])
        store.append_newer(DOMAIN, rows[30:])
        assert_running(store, rows, "UTC")
        days = store.usage_days(DOMAIN, None, None)
        assert days is not None
        with localcontext(Context(prec=1000)):
            assert sum((d.amount for d in days), Decimal(0)) == net
        first, last = T0.date(), (T0 + timedelta(hours=60)).date()
        now = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        asked = InsightQuery(first, last, (first, first), ((first, last),), now)
        view = store.read_view(DOMAIN, "", 300, lambda _: 1, insights=asked)
        assert view.insights is not None
        assert view.insights.spends == (spent,)
        assert view.insights.spend_30d == spent
        with localcontext(Context(prec=1000)):
            charted = sum((t.amount for t in view.insights.buckets), Decimal(0))
        assert charted == net
