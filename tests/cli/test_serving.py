"""`tokenusage demo` and `tokenusage serve` as a user runs them: busy ports are one line at
once, Ctrl+C and SIGTERM stop everything, and the printed exports drive the CLI."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from tests.cli.support import clean_env, run_cli, tokenusage_cmd
from tests.support.pgcluster import free_port
from tokenusage.cli import cli


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.mark.parametrize(("which", "variable"), [("--port", "PORT"), ("--api-port", "API_PORT")])
def test_demo_on_a_busy_port_fails_at_once(
    busy_port: int, tmp_path: Path, which: str, variable: str
) -> None:
    ports = {"--port": str(free_port()), "--api-port": str(free_port())} | {which: str(busy_port)}
    started = time.monotonic()
    result = CliRunner().invoke(
        cli,
        [
            "demo",
            "--data-dir",
            str(tmp_path / "demo"),
            "-n",
            "100",
            *(x for p in ports.items() for x in p),
        ],
    )
    assert time.monotonic() - started < 5
    assert result.exit_code == 1
    assert f"port {busy_port} on 127.0.0.1 is in use" in result.stderr
    assert f"make demo {variable}=" in result.stderr
    assert not (tmp_path / "demo").exists(), "nothing started before the ports were checked"


def test_serve_on_a_busy_port_is_exit_code_1(busy_port: int, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["serve", "--port", str(busy_port)],
        env={"TOKENUSAGE_DATA_DIR": str(tmp_path / "data")},
    )
    assert result.exit_code == 1
    assert result.stderr == f"Error: port {busy_port} on 127.0.0.1 is in use\n"


def _wait_until_up(url: str, proc: subprocess.Popen[Any], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the demo exited before it answered"
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_demo_stops_on_a_signal_and_its_exports_drive_the_cli(
    tmp_path: Path, sig: signal.Signals
) -> None:
    port, api_port = free_port(), free_port()
    out, err = tmp_path / "out", tmp_path / "err"
    args = ["demo", "--data-dir", str(tmp_path / "demo"), "-n", "300"]
    args += ["--port", str(port), "--api-port", str(api_port)]
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.Popen(
            tokenusage_cmd(*args), env=clean_env(), stdout=stdout, stderr=stderr, text=True
        )
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/login", proc)
        exports = dict(re.findall(r"^\s*export (TOKENUSAGE_\w+)=(\S+)$", out.read_text(), re.M))
        assert set(exports) >= {
            "TOKENUSAGE_LICENSE_KEY",
            "TOKENUSAGE_LICENSE_DOMAIN",
            "TOKENUSAGE_LICENSE_EMAIL",
            "TOKENUSAGE_API_URL",
            "TOKENUSAGE_DATA_DIR",
        }
        # From another directory, with exactly those variables, as in a second terminal.
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        done = run_cli(clean_env(**exports), "status", "--json", cwd=elsewhere)
        assert done.returncode == 0, done.stderr
        assert '"balance"' in done.stdout and done.stderr == ""
    finally:
        code = stop(proc, sig)
    assert code in (0, 130)
    assert "Traceback" not in err.read_text()


def stop(proc: subprocess.Popen[bytes], sig: int) -> int | None:
    """Send `sig` and wait for the exit code (None, after a kill, if it did not stop)."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            return proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return None
    return proc.returncode


def test_serve_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(TOKENUSAGE_DATA_DIR=str(tmp_path / "data"))
    err = tmp_path / "err"
    with err.open("w") as stderr:
        proc = subprocess.Popen(
            tokenusage_cmd("serve", "--port", str(port)),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/login", proc)
    finally:
        code = stop(proc, signal.SIGINT)
    assert code in (0, 130)
    assert "Traceback" not in err.read_text() and "Aborted" not in err.read_text()
