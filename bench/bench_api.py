"""Issue 9: a page of /api/v1/transactions (1,000 rows, keyset cursor in the middle of a
1,000,000-row mirror) served by `tokenusage serve` with a bearer token, against a static file
of the same byte size served by the same server; target >= 50% of the static file's requests
per second, medians of alternating wrk runs. Also the time of a /metrics scrape.

The per-token rate limit is lifted for the run (`TOKENUSAGE_API_RATE_LIMIT`): wrk is one
token asking thousands of times a second.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
from contextlib import suppress
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))

from _common import full_sync, p50_ms, seeded_dashboard, timed, tokenusage_process
from tokenusage.config import Settings
from tokenusage.service.jsonout import encode_cursor
from tokenusage.service.tokens import ApiTokens
from tokenusage.store import Store
from tokenusage.web.render import STATIC

ROWS = int(os.environ.get("BENCH_API_ROWS", "1000000"))
RUNS = 3
SECONDS = 8
CONNECTIONS = 8
STATIC_NAME = "_bench_api_same_size.json"  # removed at the end


def wrk_rps(url: str, token: str) -> float:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "-H",
         f"Authorization: Bearer {token}", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk saw errors for {url}:\n{out}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    return float(found.group(1))


def prepare(settings: Settings) -> str:
    """A full sync of the ledger into the store; a token for the bench."""

    full_sync(settings)
    with Store.open(settings.store_url) as store:
        return ApiTokens(store).create("bench")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        with seeded_dashboard(tmp, ROWS) as (env, settings):
            env["TOKENUSAGE_API_RATE_LIMIT"] = str(10**9)
            token = prepare(settings)
            with tokenusage_process(["serve"], "/login", env) as url:
                transactions(url, token)
                metrics(url, token)


def transactions(url: str, token: str) -> None:
    auth = {"authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=auth, timeout=60) as client:
        newest = client.get("/api/v1/transactions", params={"limit": 1}).json()
        cursor = encode_cursor(newest["transactions"][0]["id"] - ROWS // 2)  # the middle
        page_url = f"{url}/api/v1/transactions?limit=1000&cursor={cursor}"
        page = client.get(page_url, headers={"accept-encoding": "identity"})
    assert page.status_code == 200 and len(page.json()["transactions"]) == 1000
    static_file = STATIC / STATIC_NAME
    static_file.write_bytes(page.content)
    try:
        static_url = f"{url}/static/{STATIC_NAME}"
        pages, statics = [], []
        for _ in range(RUNS):
            pages.append(wrk_rps(page_url, token))
            statics.append(wrk_rps(static_url, token))
    finally:
        with suppress(FileNotFoundError):
            static_file.unlink()
    got, static = statistics.median(pages), statistics.median(statics)
    print(
        f"[api] /api/v1/transactions, 1,000 rows ({len(page.content) / 1024:.0f} KB) from the "
        f"middle of a {ROWS:,}-row mirror: {got:.0f} req/s; static file of the same size: "
        f"{static:.0f} req/s; ratio {got / static:.0%} (target >= 50%); medians of {RUNS} wrk "
        f"runs of {SECONDS} s, {CONNECTIONS} connections; all runs: api "
        f"{sorted(round(p) for p in pages)}, static {sorted(round(s) for s in statics)}"
    )


def metrics(url: str, token: str) -> None:
    auth = {"authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=auth, timeout=60) as client:
        first = client.get("/metrics")
        if first.status_code == 404:
            print("[metrics] /metrics is not served by this version")
            return
        assert first.status_code == 200, first.status_code
        samples = timed(lambda: client.get("/metrics").raise_for_status(), 50)
    print(
        f"[metrics] /metrics scrape of a {ROWS:,}-row mirror: p50 {p50_ms(samples):.1f} ms, "
        f"max {max(samples) * 1000:.1f} ms over {len(samples)} scrapes ({len(first.content):,} "
        "bytes)"
    )


if __name__ == "__main__":
    main()
