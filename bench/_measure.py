"""Measuring helpers of `bench/scale.py`: child processes, disk, alternating samples."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from tests.support.pgcluster import Cluster

T = TypeVar("T")


def run_measured(args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Wall seconds, CPU seconds, peak RSS (MB) and stdout of a child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed ({status}): {out[-2000:]}")
    return {
        "wall": time.perf_counter() - start,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss": usage.ru_maxrss / 1024,
        "out": out,
    }


def disk_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_blocks * 512 for p in files) / 1e6


def alternate(sizes: Sequence[T], rounds: int, sample: Callable[[T], float]) -> list[float]:
    """Median of `sample` per size, taking one sample of each size in turn."""
    samples: list[list[float]] = [[] for _ in sizes]
    for _ in range(rounds):
        for i, size in enumerate(sizes):
            samples[i].append(sample(size))
    return [statistics.median(s) for s in samples]


def psql(cluster: Cluster, sql: str) -> Any:
    import psycopg

    dsn = f"host=127.0.0.1 port={cluster.port} user=postgres dbname=postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(sql).fetchone() if sql.startswith("SELECT") else None
        return None if row is None else row[0]


class DiskWatch:
    """The most disk the run took at any moment: free space sampled every second."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.start = shutil.disk_usage(path).free
        self.low = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.low = min(self.low, shutil.disk_usage(self.path).free)

    def stop(self) -> float:
        """Peak GB taken (by this run, and by anything else writing to the disk meanwhile)."""
        self._stop.set()
        self._thread.join()
        return (self.start - self.low) / 1e9


def _stat(pid: int | str) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process, of its children that ended, and of those still running: all a
    PostgreSQL server spent, backends and autovacuum included, given the postmaster (Linux)."""
    ticks = sum(int(v) for v in _stat(pid)[11:15])
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = _stat(entry.name)
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[1]) == pid:
                ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def postmaster_pid(cluster: Cluster) -> int:
    return int((cluster.datadir / "postmaster.pid").read_text().split()[0])
