"""`tokenusage status | export | cache` against a real reference server over loopback."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.fixtures import RunningLicenseServer, running_license_server
from tokenusage.cli import cli


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[RunningLicenseServer]:
    with running_license_server(f"sqlite:///{tmp_path}/upstream.db", transactions=800) as s:
        yield s


def env_for(srv: RunningLicenseServer, tmp: Path, **extra: str) -> dict[str, str]:
    return {
        "TOKENUSAGE_LICENSE_KEY": srv.key,
        "TOKENUSAGE_LICENSE_DOMAIN": srv.domain,
        "TOKENUSAGE_LICENSE_EMAIL": srv.email,
        "TOKENUSAGE_API_URL": srv.base_url,
        "TOKENUSAGE_DATA_DIR": str(tmp / "data"),
        "TOKENUSAGE_RETRIES": "0",
        **extra,
    }


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_status_shows_the_ledger_numbers(srv: RunningLicenseServer, tmp_path: Path) -> None:
    code, out, _ = run(env_for(srv, tmp_path), "status", "--json")
    assert code == 0, out
    report = json.loads(out)
    stats = srv.ledger.stats(srv.licence_id)
    assert Decimal(report["stats"]["balance"]) == Decimal(stats["balance"])
    assert report["stats"]["api_calls"] == stats["api_calls"]
    assert report["transactions"] == 800 and report["stale"] is False
    assert report["cache"]["transactions"]["rows"] == 800
    code, text, _ = run(env_for(srv, tmp_path), "status")
    assert code == 0 and "Current Balance" in text and srv.email in text
    assert "Transactions: Cached" in text


def test_status_stale_when_api_down(srv: RunningLicenseServer, tmp_path: Path) -> None:
    assert run(env_for(srv, tmp_path), "status")[0] == 0
    down = env_for(
        srv,
        tmp_path,
        TOKENUSAGE_API_URL="http://127.0.0.1:9",
        TOKENUSAGE_ACCOUNT_TTL="0",
        TOKENUSAGE_PRICING_TTL="0",
        TOKENUSAGE_TRANSACTIONS_TTL="0",
    )
    code, out, _ = run(down, "status", "--json")
    report = json.loads(out)
    # The stored data is printed, with the problem, and the exit code says it is not current.
    assert code == 3 and report["stale"] is True and report["data_as_of"]
    assert any(p["kind"] == "unreachable" for p in report["problems"])
    assert any("Failed to connect to License API" in p["message"] for p in report["problems"])


def test_exit_codes(srv: RunningLicenseServer, tmp_path: Path) -> None:
    env = env_for(srv, tmp_path)
    del env["TOKENUSAGE_LICENSE_KEY"]
    code, _, err = run(env, "status")
    assert code == 2 and "license_key" in err and "Traceback" not in err
    code, _, err = run(env_for(srv, tmp_path, TOKENUSAGE_TIMEZONE="Mars/Base"), "status")
    assert code == 2 and "timezone" in err
    code, _, err = run(env_for(srv, tmp_path, TOKENUSAGE_API_URL="http://127.0.0.1:9"), "status")
    assert code == 3 and "Failed to connect to License API" in err
    code, _, err = run(
        env_for(srv, tmp_path, TOKENUSAGE_LICENSE_KEY="CTZ-WRONG-KEY-123456"), "status"
    )
    assert code == 3 and "Invalid license key" in err and "CTZ-WRONG-KEY-123456" not in err
    code, _, err = run(env, "--help")
    assert code == 0


def test_export_to_file_and_stdout(srv: RunningLicenseServer, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    code, _, err = run(env_for(srv, tmp_path), "export", "-o", str(target))
    assert code == 0 and "wrote 800 transactions" in err
    text = target.read_text(encoding="utf-8")
    assert text.startswith("\ufeffDate,Transaction Type,Service Type,Amount,")
    rows = list(csv.reader(io.StringIO(text[1:])))[1:]
    ledger = srv.ledger.history(srv.licence_id)["transactions"]
    assert len(rows) == len(ledger) == 800
    assert sum(Decimal(r[3]) for r in rows) == sum(Decimal(t["amount"]) for t in ledger)
    assert not any("openai" in r[2].lower() or "gpt-4o" in r[6] for r in rows)  # branded
    code, out, _ = run(env_for(srv, tmp_path), "export", "-o", "-")
    assert code == 0 and out == text
    assert not (tmp_path / "out.csv.part").exists()


def test_export_fails_cleanly(srv: RunningLicenseServer, tmp_path: Path) -> None:
    target = tmp_path / "none.csv"
    code, _, err = run(
        env_for(srv, tmp_path, TOKENUSAGE_API_URL="http://127.0.0.1:9"), "export", "-o", str(target)
    )
    assert code == 3 and "Failed to connect" in err
    assert not target.exists() and not (tmp_path / "none.csv.part").exists()


def test_cache_status_and_clear(srv: RunningLicenseServer, tmp_path: Path) -> None:
    env = env_for(srv, tmp_path)
    run(env, "status")
    code, out, _ = run(env, "cache", "status", "--json")
    report = json.loads(out)
    assert code == 0 and report["transactions"]["rows"] == 800 and report["backend"] == "sqlite"
    code, out, _ = run(env, "cache", "clear")
    assert code == 0 and "transactions: 800 rows removed" in out and "pricing: 1 cached" in out
    code, out, _ = run(env, "cache", "clear", "--transactions")
    assert code == 0 and "transactions: 0 rows removed" in out and "pricing" not in out
    code, out, _ = run(env, "cache", "status")
    assert code == 0 and "transactions: empty" in out
