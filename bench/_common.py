"""Small helpers shared by the benchmarks: timing, medians, a server in a subprocess."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Wall-clock seconds of each of `repeat` calls."""
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def p50_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


@contextmanager
def tokenusage_process(
    args: list[str],
    probe: str,
    env: dict[str, str] | None = None,
    command: list[str] | None = None,
) -> Iterator[str]:
    """`tokenusage ARGS --port P` (or `command ARGS --port P`) in its own process (client and
    server then do not share a GIL), once `probe` answers; yields its base URL."""
    with tokenusage_child(args, probe, env, command) as (url, _proc):
        yield url


@contextmanager
def tokenusage_child(
    args: list[str],
    probe: str,
    env: dict[str, str] | None = None,
    command: list[str] | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """As `tokenusage_process`, and the process itself (to read its CPU time)."""
    port = free_port()
    exe = command or [str(Path(sys.executable).with_name("tokenusage"))]
    proc = subprocess.Popen(
        [*exe, *args, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env if env is not None else {**os.environ},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + probe, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"tokenusage {args[0]} did not start") from None
                time.sleep(0.1)
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a running process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def licenseserver_process(db_url: str) -> Iterator[str]:
    """The reference server on `db_url`."""
    with tokenusage_process(["licenseserver", "serve", "--db", db_url], "/") as url:
        yield url


def full_sync(settings: Any) -> None:
    """A complete full sync of the settings' licence into their store (Refresh Data, then
    the rest of the history it leaves running: closing the service waits for it)."""
    import asyncio

    from tokenusage.service import DashboardService

    async def run() -> None:
        service = DashboardService.from_settings(settings)
        try:
            assert not await service.refresh_all()
        finally:
            await service.aclose()

    asyncio.run(run())


@contextmanager
def seeded_dashboard(tmp: Path, rows: int) -> Iterator[tuple[dict[str, str], Any]]:
    """A demo ledger of `rows` transactions behind the reference server, and the environment
    and settings of a dashboard (data under `tmp/dash`) for its licence."""
    from datetime import UTC, datetime, timedelta

    from tokenusage.config import load_settings
    from tokenusage.licenseserver.demo import seed_demo
    from tokenusage.licenseserver.ledger import Ledger
    from tokenusage.store.engine import make_engine

    db_url = f"sqlite:///{tmp}/ledger.sqlite3"
    engine = make_engine(db_url)
    ledger = Ledger(engine)
    ledger.create_schema()
    lic = seed_demo(ledger, rows, seed=1, end=datetime.now(UTC) - timedelta(hours=1))
    engine.dispose()
    with licenseserver_process(db_url) as api:
        env = {
            **os.environ,
            "TOKENUSAGE_LICENSE_KEY": lic.key,
            "TOKENUSAGE_LICENSE_DOMAIN": lic.domain,
            "TOKENUSAGE_LICENSE_EMAIL": lic.email,
            "TOKENUSAGE_API_URL": api,
            "TOKENUSAGE_DATA_DIR": str(tmp / "dash"),
        }
        settings = load_settings(
            license_key=lic.key,
            license_domain=lic.domain,
            license_email=lic.email,
            api_url=api,
            data_dir=tmp / "dash",
        )
        yield env, settings
