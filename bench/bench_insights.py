"""Issue 8: insights and filters at 1,000,000 rows, on SQLite and on PostgreSQL.

The same demo ledgers (1,000,000 and 10,000 rows, over two years) are fully synced from the
reference server over loopback into a SQLite store and a throwaway PostgreSQL store; then,
with every memo off (each measurement reads the store), medians of:

1. chart + breakdowns over 90 days, 1M mirror: <= 1.5x the same on a 10k mirror, and <= 10%
   of a plain GROUP BY over the raw mirror table (day, service, type) of the same 90 days.
   The figure is of one snapshot read of the current generation and its insight totals (the
   running totals at the ends of the chart's buckets, the range and the previous period,
   then the runway's sums: two statements) plus building the chart and the breakdowns from
   them. The overview's whole store read with the insights (also the documents and the
   first page of 300 rows) is printed beside it. The 10k control ledger spans the same two
   years as the 1M one, so it is sparse: fewer services on each day. The read takes the same
   number of running totals at any size; what is built from them still grows with the
   (bucket, service, type) totals they differ by, printed for each size. The same read is
   also timed on a 100k ledger over the same two years, and on the demo's own 10k ledger
   (40 days, so fewer days with data);
2. a history page filtered by type, service and 90 days at 1M: <= 3x the unfiltered page;
3. a text search (count, total and first page) at 1M: <= 10% of a full-scan LIKE.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))
from tests.support.pgcluster import running_cluster

from _common import licenseserver_process
from tokenusage.config import load_settings
from tokenusage.licenseserver import demo
from tokenusage.licenseserver.demo import LLM_SERVICES, seed_demo
from tokenusage.licenseserver.ledger import Ledger
from tokenusage.service import DashboardService
from tokenusage.service import insights as insight_views
from tokenusage.store import Store, mirror, running
from tokenusage.store import insights as store_insights
from tokenusage.store.engine import make_engine
from tokenusage.store.pagecache import Memo, PageCache
from tokenusage.usage.filters import Filters, parse_filters

BIG = 1_000_000
MID = 100_000
SMALL = 10_000
REPEAT = 25
ZONE = "America/Sao_Paulo"
SEARCH = "gallery #4242"  # a selective search, as an admin looking for one job types


def p50(fn: Callable[[], object], repeat: int = REPEAT) -> float:
    for _ in range(min(repeat, 5)):  # warm: caches, and psycopg prepares from the 5th run
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def settings_for(url: str, store_url: str, data: Path, licence: Any) -> Any:
    return load_settings(
        license_key=licence.key,
        license_domain=licence.domain,
        license_email=licence.email,
        api_url=url,
        data_dir=data,
        database_url=store_url,
        timezone=ZONE,
        timeout=600,
    )


async def sync(url: str, store_url: str, data: Path, licence: Any) -> tuple[str, float]:
    service = DashboardService.from_settings(settings_for(url, store_url, data, licence))
    start = time.perf_counter()
    problems = await service.refresh_all()
    await service.wait_idle()
    took = time.perf_counter() - start
    assert not problems, problems
    identity = service.identity
    await service.aclose()
    return identity, took


class Probe:
    """One store with its memos off, and the questions the benchmark asks it."""

    def __init__(self, store_url: str, identity: str) -> None:
        self.store = Store.open(store_url, zone=ZONE)
        self.store.pages = PageCache(0)
        self.store.memo = Memo(0)
        self.identity = identity
        self.now = datetime.now(UTC)
        self.zoneinfo = ZoneInfo(ZONE)
        today = self.now.date()
        self.range = parse_filters((today - timedelta(days=89)).isoformat(), today.isoformat())

    def _read(self) -> tuple[Any, store_insights.StoredInsights]:
        """One snapshot read of the current generation's insight totals."""
        query = insight_views.query_for(self.range, self.now, self.zoneinfo)
        with self.store._db.read() as conn:
            _, gen = mirror.status_with_current(conn, self.identity)
            assert gen is not None
            return query, store_insights.read(conn, gen, ZONE, query, self.store.memo)

    def charts(self) -> object:
        """The chart and the breakdowns: what they read, and what is built from it."""
        query, stored = self._read()
        return insight_views.build(stored, self.range, query, self.zoneinfo, None)

    def totals_read(self) -> int:
        """The totals the chart and the breakdowns are built from: per bucket, service and
        type, and per service and type over the range and over the previous period."""
        _, stored = self._read()
        return len(stored.buckets) + len(stored.current) + len(stored.previous)

    def rebuild_running(self) -> None:
        """What a full sync's swap adds: the running totals built from the day totals."""
        with self.store._db.write() as conn:
            _, gen = mirror.status_with_current(conn, self.identity)
            assert gen is not None
            running.rebuild(conn, gen.generation, ZONE)

    def overview(self) -> object:
        """The overview's whole store read with the insights, and the insights built."""
        query = insight_views.query_for(self.range, self.now, self.zoneinfo)
        view = self.store.read_view(self.identity, "", 300, lambda _: 1, insights=query)
        assert view.insights is not None
        return insight_views.build(view.insights, self.range, query, self.zoneinfo, None)

    def page(self, filters: Filters | None) -> int:
        view = self.store.read_view(self.identity, "", 300, lambda _: 1, filters=filters)
        assert len(view.rows) == 300 or (filters is not None and filters.q)
        return len(view.rows)

    def raw(self, sql: str, **params: object) -> object:
        with self.store._db.read() as conn:
            generation = conn.execute(
                text(
                    "SELECT generation FROM mirror_generations WHERE state = 'current' "
                    "AND domain_hash = :d"
                ),
                {"d": self.identity},
            ).scalar_one()
            return conn.execute(text(sql), {"g": generation, **params}).all()


def group_by_sql(sqlite: bool) -> str:
    day = "date(created_at)" if sqlite else "date(created_at AT TIME ZONE 'UTC')"
    amount = "sum(CAST(amount AS REAL))" if sqlite else "sum(CAST(amount AS NUMERIC))"
    return (
        f"SELECT {day}, service_type, type, count(*), {amount}, sum(tokens_used), "  # noqa: S608
        "sum(images_processed) FROM mirror_rows WHERE generation = :g AND created_at >= :since "
        "GROUP BY 1, 2, 3"
    )


def _spread(rng: Any, n: int, end: datetime, timestamps: Any) -> tuple[datetime, list[int]]:
    """`n` demo timestamps over the two years a 1M-row demo ledger covers (as the demo's
    `_timestamps`: the period's start and sorted second offsets from it)."""
    start, wide = timestamps(rng, 730 * 250, end)
    return start, sorted(rng.sample(wide, n))


def measure(engine: str, big: Probe, small: Probe, short: Probe, mid: Probe) -> list[str]:
    sqlite = engine == "sqlite"
    since = big.now - timedelta(days=90)
    since_param: object = since.replace(tzinfo=None).isoformat(" ") if sqlite else since
    ins_big, ins_small, ins_short = p50(big.charts), p50(small.charts), p50(short.charts)
    ins_mid = p50(mid.charts)
    read = {name: p.totals_read() for name, p in (("10k", small), ("100k", mid), ("1M", big))}
    whole = p50(big.overview)
    rebuilt = p50(big.rebuild_running, 5)
    group = p50(lambda: big.raw(group_by_sql(sqlite), since=since_param), 5)
    service = LLM_SERVICES[0][0]
    filtered = parse_filters(
        (big.now.date() - timedelta(days=89)).isoformat(), "", ["usage"], [service]
    )
    plain = p50(lambda: big.page(None))
    narrowed = p50(lambda: big.page(filtered))
    search = parse_filters(q=SEARCH)
    found = p50(lambda: big.page(search))
    like = p50(
        lambda: big.raw(
            "SELECT count(*) FROM mirror_rows WHERE generation = :g AND "
            "(lower(description) LIKE :q OR lower(service_type) LIKE :q)",
            q=f"%{SEARCH}%",
        ),
        5,
    )
    return [
        f"{engine}: 1. chart + breakdowns over 90 days: 1M {ins_big:.1f} ms, 10k over the same "
        f"two years {ins_small:.1f} ms, ratio {ins_big / ins_small:.2f}x (target <= 1.5x; "
        f"against the demo's 10k over 40 days, {ins_short:.1f} ms: "
        f"{ins_big / ins_short:.2f}x); plain GROUP BY "
        f"of the raw 90 days {group:.0f} ms, chart + breakdowns = {ins_big / group:.1%} of it "
        f"(target <= 10%); the overview's whole store read with them (documents, first page "
        f"of 300 rows) {whole:.1f} ms = {whole / group:.1%}",
        f"{engine}: 1b. the same read by ledger size, all over the same two years: 10k "
        f"{ins_small:.1f} ms ({read['10k']} totals), 100k {ins_mid:.1f} ms "
        f"({read['100k']}), 1M {ins_big:.1f} ms ({read['1M']}): 1M/100k "
        f"{ins_big / ins_mid:.2f}x; the 1M mirror's running totals built from scratch (what a "
        f"full sync adds to its swap transaction) {rebuilt:.0f} ms",
        f"{engine}: 2. history page filtered by type, service and 90 days: {narrowed:.1f} ms, "
        f"unfiltered {plain:.1f} ms, ratio {narrowed / plain:.2f}x (target <= 3x)",
        f"{engine}: 3. text search {SEARCH!r} (count, total, first page): {found:.1f} ms, "
        f"full-scan LIKE {like:.0f} ms = {found / like:.1%} (target <= 10%)",
    ]


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmpdir, running_cluster() as cluster:
        tmp = Path(tmpdir)
        ledger_url = f"sqlite:///{tmp}/ledger.sqlite3"
        engine = make_engine(ledger_url)
        ledger = Ledger(engine)
        ledger.create_schema()
        end = datetime.now(UTC) - timedelta(hours=1)
        start = time.perf_counter()
        big = seed_demo(ledger, BIG, seed=1, end=end)
        short = seed_demo(
            ledger,
            SMALL,
            seed=2,
            end=end,
            key="BENCH-SMALL-0001",
            domain="small.example",
            email="a@small.example",
        )
        same_span = demo._timestamps
        demo._timestamps = lambda rng, n, end: _spread(rng, n, end, same_span)
        small = seed_demo(
            ledger,
            SMALL,
            seed=3,
            end=end,
            key="BENCH-SPAN-0001",
            domain="span.example",
            email="a@span.example",
        )
        mid = seed_demo(
            ledger,
            MID,
            seed=4,
            end=end,
            key="BENCH-MID-0001",
            domain="mid.example",
            email="a@mid.example",
        )
        demo._timestamps = same_span
        print(f"seeded {BIG:,} + {MID:,} + {SMALL:,} rows in {time.perf_counter() - start:.0f} s")
        lines = []
        with licenseserver_process(ledger_url) as url:
            for name in ("sqlite", "postgresql"):
                store_url = (
                    f"sqlite:///{tmp}/{name}.sqlite3"
                    if name == "sqlite"
                    else cluster.create_database()
                )
                big_id, took = await sync(url, store_url, tmp / name, big)
                small_id, _ = await sync(url, store_url, tmp / name, small)
                short_id, _ = await sync(url, store_url, tmp / name, short)
                mid_id, _ = await sync(url, store_url, tmp / name, mid)
                print(f"{name}: full sync of {BIG:,} rows with all derived totals: {took:.1f} s")
                probe_big, probe_small = Probe(store_url, big_id), Probe(store_url, small_id)
                probe_short, probe_mid = Probe(store_url, short_id), Probe(store_url, mid_id)
                if name == "postgresql" and not probe_big.store.search_indexed:
                    print("postgresql: pg_trgm is missing: text search scans")
                lines += measure(name, probe_big, probe_small, probe_short, probe_mid)
                for line in lines[-4:]:
                    print(line, flush=True)
                probe_big.store.close()
                probe_small.store.close()
                probe_short.store.close()
                probe_mid.store.close()
        engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
