"""Issue 12: what every view, command and sync costs at 1M and at 10M rows (`make bench-scale`;
not part of `make bench`, which runs `bench/bench_*.py`: it takes about 20 minutes).

Each size's demo ledger is seeded with `tokenusage licenseserver seed` into SQLite and served by
the reference server in a process of its own, then mirrored into a SQLite and a PostgreSQL store
(a throwaway cluster, as the tests start one). Per-view and per-command costs are sampled
alternately on the two sizes, so that other work on the machine weighs on both alike. Prints
medians (of full syncs: the small one is run before and after the large one, and averaged) and
the 10M / 1M ratio against the targets: per-view and per-command costs <= 1.5x, the
full sync <= 11x (linear), peak RSS flat; and the CPU time of a full sync on each side, which
load on the machine does not inflate. Everything is removed at the end unless `--dir` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.support
sys.path.insert(0, str(Path(__file__).resolve().parent))
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from tests.support.pgcluster import Cluster, running_cluster

from _common import cpu_seconds, tokenusage_child
from _measure import (
    DiskWatch,
    alternate,
    disk_mb,
    postmaster_pid,
    psql,
    run_measured,
    tree_cpu_seconds,
)
from tokenusage.licenseserver.demo import DEMO_DOMAIN, DEMO_EMAIL, DEMO_KEY
from tokenusage.licenseserver.entries import page_query

HERE = Path(__file__).resolve().parent
EXE = Path(sys.executable).with_name("tokenusage")
CREDENTIALS = {"license_key": DEMO_KEY, "domain": DEMO_DOMAIN, "email": DEMO_EMAIL}
ROUNDS = 25
COMMAND_ROUNDS = 7
# (label, key, unit, largest 10M / 1M ratio wanted)
SERVER_ROWS = (
    ("seed (`licenseserver seed`)", "seed", "s", 11.0),
    ("seed: CPU", "seed cpu", "s", 11.0),
    ("user/stats", "stats", "ms", 1.5),
    ("newest page, limit=10000", "newest", "ms", 1.5),
    ("deep before_id page, limit=10000", "deep", "ms", 1.5),
    ("record one entry (`licenseserver usage`)", "usage", "s", 1.5),
    ("ledger on disk", "disk", "MB", None),
)
DASHBOARD_ROWS = (
    ("full sync, end to end", "full", "s", 11.0),
    ("full sync: dashboard process CPU", "cpu full", "s", 11.0),
    ("full sync: reference server CPU", "cpu server", "s", 11.0),
    ("full sync: PostgreSQL server CPU", "cpu postgres", "s", 11.0),
    ("peak RSS of the full sync", "rss full", "MB", 1.2),
    ("warm page 1, view memo off", "page 1", "ms", 1.5),
    ("warm middle page, view memo off", "middle page", "ms", 1.5),
    ("warm last page, view memo off", "last page", "ms", 1.5),
    ("warm `tokenusage status`", "status", "s", 1.5),
    ("peak RSS of `tokenusage status`", "rss status", "MB", 1.2),
    ("incremental sync of 1,000 rows", "incremental", "s", 1.5),
    ("auto-refresh (user/stats + 1,000 rows)", "auto-refresh", "s", 1.5),
    ("store on disk", "disk", "MB", None),
)


def say(text: str) -> None:
    print(text, flush=True)


@dataclass
class Size:
    rows: int
    root: Path
    api: str = ""
    server_pid: int = 0
    stores: dict[str, dict[str, str]] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ledger_db(self) -> Path:
        return self.root / f"ledger-{self.rows}.sqlite3"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.ledger_db}"

    def part(self, name: str) -> dict[str, Any]:
        return self.results.setdefault(name, {})


def seed(size: Size) -> None:
    done = run_measured(
        [str(EXE), "licenseserver", "seed", "--db", size.db_url, "-n", str(size.rows)]
    )
    size.part("server")["seed"], size.part("server")["seed cpu"] = done["wall"], done["cpu"]
    say(f"seeded {size.rows:,} rows in {done['wall']:.1f} s (peak RSS {done['rss']:.0f} MB)")


def deep_before_id(size: Size) -> int:
    with sqlite3.connect(size.ledger_db) as conn:
        oldest = int(conn.execute("SELECT min(id) FROM ledger").fetchone()[0])
    return oldest + 10_500  # the last full page before the oldest entry


def deep_page_plan(size: Size) -> str:
    """The query plan of the reference server's deep page, as it sends it."""
    query = page_query(1, 10_000, deep_before_id(size), None, sqlite=True)
    sql = str(query.compile(dialect=sqlite_dialect(), compile_kwargs={"literal_binds": True}))
    with sqlite3.connect(size.ledger_db) as conn:
        return "; ".join(str(r[-1]) for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))


def timed_get(client: httpx.Client, url: str, **params: int) -> float:
    start = time.perf_counter()
    resp = client.get(url, params={**CREDENTIALS, **params})
    elapsed = time.perf_counter() - start
    assert resp.status_code == 200, resp.text
    return elapsed


def measure_servers(sizes: list[Size]) -> None:
    with httpx.Client(timeout=120) as client:
        deep = {size.rows: deep_before_id(size) for size in sizes}
        requests: dict[str, Callable[[Size], float]] = {
            "stats": lambda s: timed_get(client, f"{s.api}/user/stats"),
            "newest": lambda s: timed_get(client, f"{s.api}/credits/history", limit=10_000),
            "deep": lambda s: timed_get(
                client, f"{s.api}/credits/history", limit=10_000, before_id=deep[s.rows]
            ),
        }
        for key, request in requests.items():
            alternate(sizes, 2, request)  # warm up
            for size, p50 in zip(sizes, alternate(sizes, ROUNDS, request), strict=True):
                size.part("server")[key] = p50 * 1000

    def usage(size: Size) -> float:
        args = ["licenseserver", "usage", "--db", size.db_url, "--key", DEMO_KEY]
        return float(run_measured([str(EXE), *args, "--service", "Scale", "--images", "3"])["wall"])

    for size, p50 in zip(sizes, alternate(sizes, COMMAND_ROUNDS, usage), strict=True):
        size.part("server")["usage"] = p50


def full_sync(size: Size, engine: str, cluster: Cluster | None, run: int) -> dict[str, float]:
    """A full sync into a new store; the first run's store is kept for the warm measures."""
    data = size.root / f"dashboard-{engine}-{size.rows}-{run}"
    data.mkdir()
    url = cluster.create_database() if cluster is not None else ""
    store = {"api": size.api, "data_dir": str(data), "database_url": url, "ledger": size.db_url}
    server_cpu = cpu_seconds(size.server_pid)
    pg_cpu = 0.0 if cluster is None else tree_cpu_seconds(postmaster_pid(cluster))
    done = run_measured([sys.executable, str(HERE / "_scale_child.py"), "full", json.dumps(store)])
    result = json.loads(done["out"])
    assert not result["problems"], result["problems"]
    out = {
        "full": result["seconds"],
        "rss full": done["rss"],
        "cpu full": done["cpu"],
        "cpu server": cpu_seconds(size.server_pid) - server_cpu,
    }
    if cluster is not None:
        out["cpu postgres"] = tree_cpu_seconds(postmaster_pid(cluster)) - pg_cpu
    postgres = f", {out['cpu postgres']:.1f} s in PostgreSQL" if "cpu postgres" in out else ""
    say(
        f"{engine}: full sync of {result['rows']:,} rows {out['full']:.1f} s; CPU "
        f"{out['cpu full']:.1f} s here, {out['cpu server']:.1f} s in the server{postgres}; "
        f"peak RSS {out['rss full']:.0f} MB"
    )
    if run == 0:
        size.stores[engine] = store
    else:
        shutil.rmtree(data)
        if cluster is not None:
            psql(cluster, f'DROP DATABASE "{url.rsplit("/", 1)[1]}"')
    return out


def full_syncs(sizes: list[Size], engine: str, cluster: Cluster | None) -> None:
    """The small size before and after the large one (the mean of both): a load that comes
    and goes then weighs on both sizes more alike."""
    small, big = sizes
    runs = [full_sync(small, engine, cluster, 0), full_sync(big, engine, cluster, 0)]
    runs.append(full_sync(small, engine, cluster, 1))
    for key in runs[0]:
        small.part(engine)[key] = (runs[0][key] + runs[2][key]) / 2
        big.part(engine)[key] = runs[1][key]
    small.part(engine)["rss full"] = max(runs[0]["rss full"], runs[2]["rss full"])


def measure_dashboards(sizes: list[Size], engine: str) -> None:
    def status(size: Size) -> dict[str, Any]:
        store = size.stores[engine]
        env = {
            **os.environ,
            "TOKENUSAGE_LICENSE_KEY": DEMO_KEY,
            "TOKENUSAGE_LICENSE_DOMAIN": DEMO_DOMAIN,
            "TOKENUSAGE_LICENSE_EMAIL": DEMO_EMAIL,
            "TOKENUSAGE_API_URL": size.api,
            "TOKENUSAGE_DATA_DIR": store["data_dir"],
            "TOKENUSAGE_DATABASE_URL": store["database_url"],
        }
        return run_measured([str(EXE), "status"], env)

    runs: dict[int, list[dict[str, Any]]] = {size.rows: [] for size in sizes}
    alternate(sizes, COMMAND_ROUNDS, lambda s: runs[s.rows].append(status(s)) or 0.0)
    for size in sizes:
        part = size.part(engine)
        part["status"] = statistics.median(r["wall"] for r in runs[size.rows])
        part["rss status"] = max(r["rss"] for r in runs[size.rows])
    stores = [json.dumps(size.stores[engine]) for size in sizes]
    done = run_measured([sys.executable, str(HERE / "_scale_child.py"), "warm", *stores])
    for size, warm in zip(sizes, json.loads(done["out"]), strict=True):
        part = size.part(engine)
        for key in ("page 1", "middle page", "last page"):
            part[key] = warm[key] * 1000
        part["incremental"], part["auto-refresh"] = warm["incremental"], warm["auto-refresh"]


def measure_disk(sizes: list[Size], cluster: Cluster | None) -> None:
    for size in sizes:
        size.part("server")["disk"] = sum(
            disk_mb(p) for p in size.root.glob(f"ledger-{size.rows}.sqlite3*")
        )
        for engine, store in size.stores.items():
            if store["database_url"] and cluster is not None:
                name = store["database_url"].rsplit("/", 1)[1]
                size.part(engine)["disk"] = (
                    psql(cluster, f"SELECT pg_database_size('{name}')") / 1e6
                )
            else:
                size.part(engine)["disk"] = disk_mb(Path(store["data_dir"]))


def table(sizes: list[Size], engines: list[str]) -> str:
    small, big = sizes
    lines = [
        f"| measure | {small.rows:,} rows | {big.rows:,} rows | ratio | target |",
        "|---|---|---|---|---|",
    ]
    for part, rows in (("server", SERVER_ROWS), *((e, DASHBOARD_ROWS) for e in engines)):
        for label, key, unit, target in rows:
            if key not in small.results[part]:
                continue
            a, b = small.results[part][key], big.results[part][key]
            ratio = b / a if a else float("inf")
            goal = (
                ""
                if target is None
                else f"<= {target:g}x " + ("ok" if ratio <= target else "MISSED")
            )
            digits = 0 if unit == "MB" else (1 if unit == "ms" else 2)
            where = "reference server" if part == "server" else part
            lines.append(
                f"| {label} ({where}) | {a:,.{digits}f} {unit} | {b:,.{digits}f} {unit} "
                f"| {ratio:.2f}x | {goal} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,10000000", help="two row counts")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument(
        "--dir", type=Path, help="an empty directory for ledgers and SQLite stores, kept after"
    )
    args = parser.parse_args()
    engines = args.engines.split(",")
    assert set(engines) <= {"sqlite", "postgresql"}
    started = time.perf_counter()
    with ExitStack() as stack:
        if args.dir is None:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="scale-")))
        else:
            root = args.dir
            root.mkdir(parents=True, exist_ok=True)
        watch = DiskWatch(root)
        cluster = stack.enter_context(running_cluster()) if "postgresql" in engines else None
        sizes = [Size(int(n), root) for n in args.sizes.split(",")]
        assert len(sizes) == 2
        for size in sizes:
            seed(size)
        for size in sizes:
            serve = ["licenseserver", "serve", "--db", size.db_url]
            size.api, proc = stack.enter_context(tokenusage_child(serve, "/"))
            size.server_pid = proc.pid
            say(f"{size.rows:,}: deep page plan: {deep_page_plan(size)}")
        for engine in engines:
            full_syncs(sizes, engine, cluster if engine == "postgresql" else None)
        measure_servers(sizes)
        for engine in engines:
            measure_dashboards(sizes, engine)
        measure_disk(sizes, cluster)
        minutes = (time.perf_counter() - started) / 60
        say(f"\nwall time {minutes:.1f} min; peak disk taken {watch.stop():.1f} GB\n")
        say(table(sizes, engines))


if __name__ == "__main__":
    main()
