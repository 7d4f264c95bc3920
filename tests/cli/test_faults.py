"""`tokenusage status` never reports what it could not get: a License API whose history
endpoint fails (`tests.support.faultproxy` in front of the reference server)."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from pathlib import Path

from tests.cli.support import clean_env, tokenusage_cmd
from tests.cli.test_dashboard_cmds import env_for, run
from tests.fixtures import RunningLicenseServer
from tests.support.faultproxy import FaultProxy, Forward, Reply, on

HISTORY = "credits/history"


def env(
    upstream: RunningLicenseServer, proxy: FaultProxy, tmp: Path, **extra: str
) -> dict[str, str]:
    return env_for(
        upstream,
        tmp,
        TOKENUSAGE_API_URL=proxy.url,
        TOKENUSAGE_HISTORY_PAGE_SIZE="500",
        TOKENUSAGE_FAILURE_BACKOFF="0",
        **extra,
    )


def test_status_says_stored_when_the_history_fails(
    upstream: RunningLicenseServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    assert run(env(upstream, proxy, tmp_path), "status")[0] == 0
    proxy.rules.append(on(HISTORY, Reply(503, b"Service Unavailable", "text/plain")))
    stale = env(upstream, proxy, tmp_path, TOKENUSAGE_TRANSACTIONS_TTL="0")
    code, out, _ = run(stale, "status", "--json")
    report = json.loads(out)
    assert code == 3
    assert report["cache"]["transactions"]["source"] == "cached"
    assert report["stale"] is True and report["complete"] is False
    assert [p["where"] for p in report["problems"]] == ["history"]
    code, text, _ = run(stale, "status")
    assert code == 3
    assert "Transactions: Cached" in text and "API returned HTTP 503" in text


def test_status_of_a_cold_sync_that_failed_is_a_failure(
    upstream: RunningLicenseServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    proxy.rules.append(on(HISTORY, Reply(500), when=lambda c: "before_id" in c.params))
    code, out, _ = run(env(upstream, proxy, tmp_path), "status", "--json")
    report = json.loads(out)
    assert code == 3
    assert report["complete"] is False
    assert [(p["kind"], p["where"]) for p in report["problems"]] == [("upstream_error", "history")]
    # What it says about the mirror is what the store holds: nothing.
    assert report["cache"]["transactions"]["source"] == "none"
    code, out, _ = run(env(upstream, proxy, tmp_path), "cache", "status", "--json")
    mirror = json.loads(out)["transactions"]
    assert code == 0 and mirror["source"] == "none" and not mirror["rows"]


def test_ctrl_c_does_not_wait_for_the_sync_behind_the_answer(
    upstream: RunningLicenseServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    """`status` answers from the first page of a cold mirror and then completes the mirror;
    Ctrl+C meanwhile stops it at once (it used to wait for the whole sync), and the next
    run finds the store whole."""
    never = threading.Event()
    proxy.rules.append(on(HISTORY, Forward(hold=never), when=lambda c: "before_id" in c.params))
    err = tmp_path / "err"
    try:
        with err.open("w") as stderr:
            proc = subprocess.Popen(
                tokenusage_cmd("status"),
                env=clean_env(**env(upstream, proxy, tmp_path)),
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        deadline = time.monotonic() + 60
        while not any("before_id" in call.params for call in proxy.seen):
            assert proc.poll() is None, err.read_text()
            assert time.monotonic() < deadline, "the sync never asked for a second page"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError("Ctrl+C waited for the sync") from None
    finally:
        never.set()
    assert (code, err.read_text()) == (130, "\nInterrupted.\n")
    code, out, _ = run(env(upstream, proxy, tmp_path), "cache", "status", "--json")
    assert code == 0 and json.loads(out)["transactions"]["source"] == "none"
