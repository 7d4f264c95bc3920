"""A throwaway PostgreSQL cluster started from the installed server binaries.

No server is assumed to be running. When the binaries are missing the PostgreSQL tests fail
with a message that says what to install; they never pass silently.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    pass


def find_bindir() -> Path:
    explicit = os.environ.get("TOKENUSAGE_TEST_PG_BINDIR")
    candidates = [explicit] if explicit else sorted(glob.glob("/usr/lib/postgresql/*/bin"))[::-1]
    for cand in candidates:
        if cand and (Path(cand) / "initdb").exists():
            return Path(cand)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install the Debian package "
        "'postgresql' (`.ci/run` does) or set TOKENUSAGE_TEST_PG_BINDIR"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    def __init__(self, bindir: Path, root: Path, port: int, run_as: str | None) -> None:
        self.bindir, self.root, self.port, self.run_as = bindir, root, port, run_as
        self.datadir = root / "data"

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.run_as:
            cmd = ["runuser", "-u", self.run_as, "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise PostgresUnavailable(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")

    def start(self) -> None:
        self._run("initdb", "-D", str(self.datadir), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        self.resume()

    def resume(self) -> None:
        """Start the server again on the same data after `stop` (an outage that ends)."""
        opts = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.datadir),
            "-o",
            opts,
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop")

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self) -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextmanager
def running_cluster() -> Iterator[Cluster]:
    bindir = find_bindir()
    root = Path(tempfile.mkdtemp(prefix="tokenusage-pg-"))
    run_as = None
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError as exc:
            raise PostgresUnavailable("running as root but there is no 'postgres' user") from exc
        os.chown(root, user.pw_uid, user.pw_gid)
        run_as = "postgres"
    root.chmod(0o755)
    cluster = Cluster(bindir, root, free_port(), run_as)
    cluster.start()
    try:
        yield cluster
    finally:
        try:
            cluster.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)
