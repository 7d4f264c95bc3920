"""Issue 2: seeding 1,000,000 transactions into SQLite (target < 60 s), and
`credits/history?limit=10000` on that ledger over loopback, newest page and a page deep in the
history (target p50 < 300 ms each)."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _common import licenseserver_process, p50_ms, timed
from tokenusage.licenseserver.demo import DEMO_DOMAIN, DEMO_EMAIL, DEMO_KEY, seed_demo
from tokenusage.licenseserver.ledger import Ledger
from tokenusage.store.engine import make_engine

ROWS = 1_000_000
REPEAT = 15


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{tmp}/ledger.sqlite3"
        engine = make_engine(db_url)
        ledger = Ledger(engine)
        ledger.create_schema()
        start = time.perf_counter()
        seed_demo(ledger, ROWS, seed=1)
        seed_s = time.perf_counter() - start
        engine.dispose()
        print(f"seed {ROWS:,} transactions into SQLite: {seed_s:.1f} s (target < 60 s)")

        params = {"license_key": DEMO_KEY, "domain": DEMO_DOMAIN, "email": DEMO_EMAIL}
        with (
            licenseserver_process(db_url) as url,
            httpx.Client(base_url=url, params=params, timeout=60) as client,
        ):
            newest = client.get("/credits/history", params={"limit": 1}).json()["data"]
            top = newest["transactions"][0]["id"]
            deep_before = top - ROWS + 10_500  # the last full page before the oldest entry

            def page(**extra: int) -> None:
                resp = client.get("/credits/history", params={"limit": 10_000, **extra})
                assert (
                    resp.status_code == 200 and len(resp.json()["data"]["transactions"]) == 10_000
                )

            page()  # warm up
            for label, extra in (("newest page", {}), ("deep page", {"before_id": deep_before})):
                samples = timed(lambda extra=extra: page(**extra), REPEAT)
                print(
                    f"credits/history limit=10000, {label}: p50 {p50_ms(samples):.0f} ms, "
                    f"max {max(samples) * 1000:.0f} ms over {REPEAT} (target p50 < 300 ms)"
                )


if __name__ == "__main__":
    main()
