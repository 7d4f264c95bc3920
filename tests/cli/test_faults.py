"""`tokenusage status` never reports what it could not get: a License API whose history
endpoint fails (`tests.support.faultproxy` in front of the reference server)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_dashboard_cmds import env_for, run
from tests.fixtures import RunningLicenseServer
from tests.support.faultproxy import FaultProxy, Reply, on

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
