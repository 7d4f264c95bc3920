"""Issue 4: a warm overview page (300 rows) of a 1,000,000-row mirror, served over loopback by
`tokenusage serve`, against a static file of the same byte size served by the same server.

Targets: page requests per second >= 50% of the static file's, measured side by side in one run
with wrk (Debian package `wrk`); the page's HTML <= 300 KB and gzip-compressed for clients
that accept it. Runs alternate page / static three times each and quote medians; once as
served, and once with the view memo off (every page view then reads the store).

Issue "hardening": server-side sessions (a record in the store, rechecked at most once a second
per session) cost the warm page at most 10% of its requests per second against the
signed-cookie-only baseline, a second server whose session check trusts the cookie alone
(`_cookie_only.py`); both serve the same store and are measured alternately in the same run.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from contextlib import suppress
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))
from tests.support.pgcluster import running_cluster

from _common import full_sync, seeded_dashboard, tokenusage_process
from tokenusage.config import Settings
from tokenusage.service.admins import hash_password
from tokenusage.store import Store
from tokenusage.web.render import STATIC

ROWS = 1_000_000
RUNS = 3
SESSION_RUNS = 5
SECONDS = 8
CONNECTIONS = 8
PASSWORD = "bench password 1234"
STATIC_NAME = "_bench_same_size.html"  # in .gitignore; removed at the end


def wrk_rps(url: str, cookie: str, seconds: int = SECONDS) -> float:
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "-H",
            f"Cookie: {cookie}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk saw errors for {url}:\n{out}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    return float(found.group(1))


def sign_in(url: str) -> str:
    with httpx.Client(base_url=url, timeout=30) as client:
        page = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        resp = client.post(
            "/login",
            data={"username": "bench", "password": PASSWORD, "csrf_token": token.group(1)},
        )
        assert resp.status_code == 303, resp.status_code
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        with seeded_dashboard(tmp, ROWS) as (env, settings):
            prepare(settings)
            baseline = [sys.executable, str(Path(__file__).with_name("_cookie_only.py"))]
            with (
                tokenusage_process(["serve"], "/login", env) as url,
                tokenusage_process(["serve"], "/login", env, command=baseline) as cookie_only,
            ):
                measure(url, "as served")
                sessions_cost(url, cookie_only)
            memo_env = {**env, "TOKENUSAGE_VIEW_MEMO_SECONDS": "0"}
            with tokenusage_process(["serve"], "/login", memo_env) as url:
                measure(url, "view memo off")
            # The same on a PostgreSQL store (issue 8 asks for the figures of each engine).
            with running_cluster() as cluster:
                pg_url = cluster.create_database()
                prepare(settings.model_copy(update={"database_url": pg_url}))
                pg_env = {**env, "TOKENUSAGE_DATABASE_URL": pg_url}
                with tokenusage_process(["serve"], "/login", pg_env) as url:
                    measure(url, "postgresql, as served")
                memo_off = {**pg_env, "TOKENUSAGE_VIEW_MEMO_SECONDS": "0"}
                with tokenusage_process(["serve"], "/login", memo_off) as url:
                    measure(url, "postgresql, view memo off")


def prepare(settings: Settings) -> None:
    """A full sync of the ledger into the settings' store, and the bench's admin."""

    full_sync(settings)
    with Store.open(settings.store_url) as store:
        store.upsert_admin("bench", hash_password(PASSWORD))


def measure(url: str, label: str) -> None:
    cookie = sign_in(url)
    page_url = f"{url}/?page=1700"
    with httpx.Client(headers={"cookie": cookie}, timeout=30) as client:
        plain = client.get(page_url, headers={"accept-encoding": "identity"})
        with client.stream("GET", page_url, headers={"accept-encoding": "gzip"}) as zipped:
            wire = sum(len(chunk) for chunk in zipped.iter_raw())
            compressed = zipped.headers.get("content-encoding") == "gzip"
    assert plain.status_code == 200 and "Showing" in plain.text
    assert len(re.findall(r"<tr[ >]", plain.text)) >= 300
    html = plain.content
    static_file = STATIC / STATIC_NAME
    static_file.write_bytes(html)
    try:
        static_url = f"{url}/static/{STATIC_NAME}"
        pages, statics = [], []
        for _ in range(RUNS):
            pages.append(wrk_rps(page_url, cookie))
            statics.append(wrk_rps(static_url, cookie))
    finally:
        with suppress(FileNotFoundError):
            static_file.unlink()
    page_rps, static_rps = statistics.median(pages), statistics.median(statics)
    print(
        f"[{label}] page HTML {len(html) / 1024:.0f} KB (target <= 300 KB); gzip for clients "
        f"that accept it: {'yes' if compressed else 'NO'}, {wire / 1024:.0f} KB on the wire"
    )
    print(
        f"[{label}] warm overview page (300 rows of a {ROWS:,}-row mirror): {page_rps:.0f} "
        f"req/s; static file of the same size: {static_rps:.0f} req/s; ratio "
        f"{page_rps / static_rps:.0%} (target >= 50%); medians of {RUNS} wrk runs of "
        f"{SECONDS} s, {CONNECTIONS} connections; all runs: page "
        f"{sorted(round(p) for p in pages)}, static {sorted(round(s) for s in statics)}"
    )


def sessions_cost(url: str, cookie_only: str) -> None:
    """The warm page on the real server against the signed-cookie-only baseline."""
    paths = "/?page=1700"
    cookies = (sign_in(url), sign_in(cookie_only))
    for base, cookie in zip((url, cookie_only), cookies, strict=True):
        with httpx.Client(headers={"cookie": cookie}, timeout=30) as client:
            assert client.get(base + paths).status_code == 200  # warm
    for base, cookie in zip((url, cookie_only), cookies, strict=True):
        wrk_rps(base + paths, cookie, seconds=2)  # warm-up, not counted
    served, baseline = [], []
    for _ in range(SESSION_RUNS):
        served.append(wrk_rps(url + paths, cookies[0]))
        baseline.append(wrk_rps(cookie_only + paths, cookies[1]))
    got, base = statistics.median(served), statistics.median(baseline)
    print(
        f"[sessions] warm overview page with server-side sessions: {got:.0f} req/s; "
        f"signed-cookie-only baseline: {base:.0f} req/s; ratio {got / base:.0%} (target >= 90%, "
        f"i.e. sessions cost at most 10%); medians of {SESSION_RUNS} alternating wrk runs of "
        f"{SECONDS} s, {CONNECTIONS} connections; all runs: sessions "
        f"{sorted(round(r) for r in served)}, baseline {sorted(round(r) for r in baseline)}"
    )


if __name__ == "__main__":
    main()
