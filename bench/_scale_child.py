"""The dashboard's side of `bench/scale.py`, run in processes of their own so that a peak RSS is
one process's. Prints one JSON object.

`full STORE` mirrors the whole ledger (Refresh Data, end to end). `warm STORE STORE` times page
views of both mirrors and incremental syncs of 1,000 new rows into both, alternating between
them sample by sample, so that a change in the machine's load (other work on the same cores)
weighs on both sizes alike and their ratio stays meaningful.

A STORE is JSON: {"api", "data_dir", "database_url", "ledger"}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from tokenusage.config import load_settings
from tokenusage.licenseserver.demo import DEMO_DOMAIN, DEMO_EMAIL, DEMO_KEY
from tokenusage.licenseserver.ledger import Ledger
from tokenusage.service import DashboardService
from tokenusage.store.engine import make_engine

PAGE_VIEWS = 40
INCREMENTAL_ROUNDS = 7


def service_for(store: dict[str, str]) -> DashboardService:
    settings = load_settings(
        license_key=DEMO_KEY,
        license_domain=DEMO_DOMAIN,
        license_email=DEMO_EMAIL,
        api_url=store["api"],
        data_dir=store["data_dir"],
        database_url=store["database_url"],
        timeout=7200,
        sync_deadline=7200,
    )
    return DashboardService.from_settings(settings)


async def full(store: dict[str, str]) -> dict[str, Any]:
    service = service_for(store)
    start = time.perf_counter()
    problems = await service.refresh_all()
    seconds = time.perf_counter() - start
    view = await service.view(1)
    await service.aclose()
    return {
        "seconds": seconds,
        "rows": view.window.total,
        "problems": [str(p) for p in [*problems, *view.problems]],
    }


def add_usage(ledger: Ledger, licence_id: int, n: int, tag: str) -> None:
    now = datetime.now(UTC)
    ledger.add_entries(
        [
            {
                "licence_id": licence_id,
                "created_at": now,
                "type": "usage",
                "service_type": "Chat via openai (gpt-4o)",
                "amount_units": -1000,
                "input_tokens": 100,
                "completion_tokens": 10,
                "description": f"scale bench row {i} of {tag}",
            }
            for i in range(n)
        ]
    )


class Side:
    """One store under measurement, with the ledger its server serves."""

    def __init__(self, store: dict[str, str]) -> None:
        self.service = service_for(store)
        assert self.service.store is not None
        # Every view reads the store and builds its rows: the cost of a page itself.
        self.service.memo.seconds = 0.0
        self.service.store.pages.size = 0
        self.engine = make_engine(store["ledger"])
        self.ledger = Ledger(self.engine)
        lic = self.ledger.find_licence(DEMO_KEY)
        assert lic is not None
        self.licence_id = lic.id
        self.samples: dict[str, list[float]] = {}
        self.pages: dict[str, int] = {}

    async def prepare(self) -> int:
        problems: list[Any] = []  # entries recorded since the full sync, by `licenseserver usage`
        assert await self.service.history.ensure(problems, revalidate=True), problems
        rows = (await self.service.view(1)).window.total
        last = max(1, -(-rows // self.service.settings.page_size))
        self.pages = {"page 1": 1, "middle page": (last + 1) // 2, "last page": last}
        for page in self.pages.values():
            await self.service.view(page)
        return rows

    def record(self, name: str, seconds: float) -> None:
        self.samples.setdefault(name, []).append(seconds)

    async def view(self, name: str) -> None:
        start = time.perf_counter()
        view = await self.service.view(self.pages[name])
        self.record(name, time.perf_counter() - start)
        assert view.window.page == self.pages[name] and not view.problems, view.problems

    async def incremental(self, round_: int) -> None:
        add_usage(self.ledger, self.licence_id, 1000, f"incremental {round_}")
        problems: list[Any] = []
        start = time.perf_counter()
        assert await self.service.history.ensure(problems, revalidate=True), problems
        self.record("incremental", time.perf_counter() - start)
        add_usage(self.ledger, self.licence_id, 1000, f"auto-refresh {round_}")
        start = time.perf_counter()
        assert not await self.service.sync()  # auto-refresh: user/stats and an incremental sync
        self.record("auto-refresh", time.perf_counter() - start)

    async def close(self) -> dict[str, float]:
        await self.service.aclose()
        self.engine.dispose()
        return {name: statistics.median(s) for name, s in self.samples.items()}


async def warm(stores: list[dict[str, str]]) -> list[dict[str, float]]:
    sides = [Side(store) for store in stores]
    before = [await side.prepare() for side in sides]
    for name in ("page 1", "middle page", "last page"):
        for _ in range(PAGE_VIEWS):
            for side in sides:
                await side.view(name)
    for round_ in range(INCREMENTAL_ROUNDS):
        for side in sides:
            await side.incremental(round_)
    for side, rows in zip(sides, before, strict=True):
        view = await side.service.view(1)
        assert view.window.total == rows + 2000 * INCREMENTAL_ROUNDS, view.window.total
    return [await side.close() for side in sides]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["full", "warm"])
    parser.add_argument("stores", nargs="+", type=json.loads)
    args = parser.parse_args()
    if args.mode == "full":
        print(json.dumps(asyncio.run(full(args.stores[0]))))
    else:
        print(json.dumps(asyncio.run(warm(args.stores))))


if __name__ == "__main__":
    main()
