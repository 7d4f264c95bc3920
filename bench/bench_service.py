"""Issue 3: the dashboard's data path, measured against the reference server over loopback.

1. cold view with 200 ms injected on every upstream call: target <= 1.3 x 200 ms;
2. warm view, page 1 and last page, of a 1,000,000-row mirror: each <= 20 ms p50 and within
   1.5x of the same on a 10,000-row mirror;
3. full sync of 1,000,000 rows <= 90 s; incremental sync of 1,000 new rows <= 1% of that;
4. `tokenusage export` of 1,000,000 rows: peak RSS <= 200 MB, throughput >= 50% of a bare
   `csv.writer` writing the same rows to /dev/null, measured in the same run.
"""

from __future__ import annotations

import asyncio
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _common import licenseserver_process
from tokenusage.config import load_settings
from tokenusage.licenseserver.demo import seed_demo
from tokenusage.licenseserver.ledger import Ledger
from tokenusage.service import DashboardService
from tokenusage.sqlengine import make_engine

BIG = 1_000_000
SMALL = 10_000
COLD = 2_000
LATENCY = 0.2


class Delay(httpx.AsyncBaseTransport):
    def __init__(self, seconds: float) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.seconds = seconds

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(self.seconds)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def settings(url: str, data: Path, key: str, domain: str, email: str, **extra: Any) -> Any:
    return load_settings(
        license_key=key,
        license_domain=domain,
        license_email=email,
        api_url=url,
        data_dir=data,
        **extra,
    )


async def cold_view(url: str, tmp: Path, lic: Any) -> None:
    samples = []
    for i in range(7):
        s = settings(url, tmp / f"cold{i}", lic.key, lic.domain, lic.email)
        service = DashboardService.from_settings(s, transport=Delay(LATENCY))
        start = time.perf_counter()
        view = await service.view(1)
        samples.append(time.perf_counter() - start)
        await service.aclose()
        assert not view.errors and view.window.total == COLD, view.errors
    med = statistics.median(samples) * 1000
    print(
        f"1. cold view ({COLD:,} rows) with {LATENCY * 1000:.0f} ms per upstream call: "
        f"p50 {med:.0f} ms = {med / (LATENCY * 1000):.2f} x latency (target <= 1.3 x)"
    )


async def warm_pages(service: DashboardService, total_pages: int) -> tuple[float, float]:
    out = []
    for page in (1, total_pages):
        await service.view(page)
        samples = []
        for _ in range(40):
            start = time.perf_counter()
            view = await service.view(page)
            samples.append(time.perf_counter() - start)
        assert view.window.page == page and not view.errors
        out.append(statistics.median(samples) * 1000)
    return out[0], out[1]


def bare_csv_seconds(rows: list[tuple[Any, ...]]) -> float:
    with Path(os.devnull).open("w", newline="") as sink:
        writer = csv.writer(sink)
        start = time.perf_counter()
        writer.writerow(
            (
                "Date",
                "Transaction Type",
                "Service Type",
                "Amount",
                "Tokens Used",
                "Images Processed",
                "Description",
            )
        )
        writer.writerows(rows)
        return time.perf_counter() - start


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        db_url = f"sqlite:///{tmp}/ledger.sqlite3"
        engine = make_engine(db_url)
        ledger = Ledger(engine)
        ledger.create_schema()
        end = datetime.now(UTC) - timedelta(hours=1)
        big = seed_demo(ledger, BIG, seed=1, end=end)
        small = seed_demo(
            ledger,
            SMALL,
            seed=2,
            end=end,
            key="BENCH-SMALL-0001",
            domain="small.example",
            email="a@small.example",
        )
        cold = seed_demo(
            ledger,
            COLD,
            seed=3,
            end=end,
            key="BENCH-COLD-0001",
            domain="cold.example",
            email="a@cold.example",
        )
        with licenseserver_process(db_url) as url:
            await cold_view(url, tmp, cold)

            big_settings = settings(url, tmp / "big", big.key, big.domain, big.email)
            service = DashboardService.from_settings(big_settings)
            start = time.perf_counter()
            errors = await service.refresh_all()
            full_s = time.perf_counter() - start
            assert not errors, errors
            big_lic = ledger.find_licence(big.key)
            assert big_lic is not None
            last = ledger.history(big_lic.id, limit=1)["transactions"][0]
            ledger.add_entries(
                [
                    {
                        "licence_id": big_lic.id,
                        "created_at": datetime.now(UTC),
                        "type": "usage",
                        "service_type": "Chat via openai (gpt-4o)",
                        "amount_units": -1000,
                        "input_tokens": 100,
                        "completion_tokens": 10,
                        "cached_tokens": 0,
                        "images": 0,
                        "description": f"bench row {i} after {last['id']}",
                    }
                    for i in range(1000)
                ]
            )
            start = time.perf_counter()
            errors = await service.sync()
            inc_s = time.perf_counter() - start
            assert not errors and (await service.view(1)).window.total == BIG + 1000
            print(
                f"3. full sync of {BIG:,} rows: {full_s:.1f} s (target <= 90 s); incremental "
                f"sync of 1,000 rows: {inc_s * 1000:.0f} ms = {inc_s / full_s:.2%} of full "
                "(target <= 1%)"
            )

            small_service = DashboardService.from_settings(
                settings(url, tmp / "small", small.key, small.domain, small.email)
            )
            await small_service.refresh_all()
            b1, blast = await warm_pages(service, (BIG + 1000 + 299) // 300)
            s1, slast = await warm_pages(small_service, SMALL // 300 + 1)
            print(
                f"2. warm view p50: {BIG // 1000}k mirror page 1 {b1:.1f} ms, last page "
                f"{blast:.1f} ms; {SMALL // 1000}k mirror page 1 {s1:.1f} ms, last page "
                f"{slast:.1f} ms; ratio 1M/10k: {b1 / s1:.2f}x and {blast / slast:.2f}x "
                "(targets <= 20 ms, <= 1.5x)"
            )
            await small_service.aclose()
            await service.aclose()

            env = {
                **os.environ,
                "TOKENUSAGE_LICENSE_KEY": big.key,
                "TOKENUSAGE_LICENSE_DOMAIN": big.domain,
                "TOKENUSAGE_LICENSE_EMAIL": big.email,
                "TOKENUSAGE_API_URL": url,
                "TOKENUSAGE_DATA_DIR": str(tmp / "big"),
            }
            exe = Path(sys.executable).with_name("tokenusage")
            start = time.perf_counter()
            proc = subprocess.Popen(
                [str(exe), "export", "-o", os.devnull], env=env, stderr=subprocess.DEVNULL
            )
            _, status, usage = os.wait4(proc.pid, 0)
            export_s = time.perf_counter() - start
            assert status == 0
            rss_mb = usage.ru_maxrss / 1024
        mirror = Path(tmp / "big" / "tokenusage.sqlite3")
        rows = _rows_for_baseline(mirror)
        bare_s = bare_csv_seconds(rows)
        print(
            f"4. export of {len(rows):,} rows: {export_s:.1f} s, peak RSS {rss_mb:.0f} MB "
            f"(target <= 200 MB); bare csv.writer {bare_s:.1f} s; export throughput = "
            f"{bare_s / export_s:.0%} of bare (target >= 50%)"
        )
        engine.dispose()


def _rows_for_baseline(mirror: Path) -> list[tuple[Any, ...]]:
    """The exported rows' values, already in memory, for the bare csv.writer baseline."""
    import sqlite3

    conn = sqlite3.connect(mirror)
    cols = [r[1] for r in conn.execute("PRAGMA table_info(mirror_rows)")]
    wanted = [
        "created_at",
        "type",
        "service_type",
        "amount",
        "tokens_used",
        "images_processed",
        "description",
    ]
    picked = [c if c in cols else "NULL" for c in wanted]
    rows = conn.execute(f"SELECT {', '.join(picked)} FROM mirror_rows").fetchall()  # noqa: S608
    conn.close()
    return [(str(r[0]), r[1], r[2], str(Decimal(r[3] or 0)), r[4], r[5], r[6]) for r in rows]


if __name__ == "__main__":
    asyncio.run(main())
