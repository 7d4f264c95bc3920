"""`tokenusage usage`, `export` with filters and `status`'s runway against a real reference
server: every figure equals a computation of its own over the ledger's entries."""

from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.cli.test_dashboard_cmds import env_for, run
from tests.fixtures import RunningLicenseServer, running_license_server

ZONE = "Asia/Kolkata"


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[RunningLicenseServer]:
    with running_license_server(f"sqlite:///{tmp_path}/upstream.db", transactions=900) as s:
        yield s


def entries(srv: RunningLicenseServer) -> list[dict[str, object]]:
    out = srv.ledger.history(srv.licence_id, limit=100_000)["transactions"]
    for t in out:
        at = datetime.fromisoformat(str(t["created_at"]).replace("Z", "+00:00"))
        t["at"] = at.replace(tzinfo=UTC) if at.tzinfo is None else at
        t["day"] = t["at"].astimezone(ZoneInfo(ZONE)).date()  # type: ignore[attr-defined]
        t["amount"] = Decimal(str(t["amount"]))
    return list(out)


def bucket(t: dict[str, object], by: str) -> str:
    day: date = t["day"]  # type: ignore[assignment]
    if by == "day":
        return day.isoformat()
    if by == "week":
        return (day - timedelta(days=day.weekday())).isoformat()
    if by == "month":
        return day.strftime("%Y-%m")
    return str(t["service_type"] if by == "service" else t["type"])


@pytest.mark.parametrize("by", ["day", "week", "month", "service", "type"])
def test_usage_json_equals_the_ledger(srv: RunningLicenseServer, tmp_path: Path, by: str) -> None:
    env = env_for(srv, tmp_path, TOKENUSAGE_TIMEZONE=ZONE)
    code, out, err = run(env, "usage", "--by", by, "--json", "--from", "2026-11-01")
    assert code == 0, err
    got = {row["bucket"]: row for row in json.loads(out)}
    want: dict[str, dict[str, object]] = defaultdict(
        lambda: {
            "spend": Decimal(0),
            "purchased": Decimal(0),
            "refunded": Decimal(0),
            "count": 0,
            "tokens": 0,
            "images": 0,
        }
    )
    for t in entries(srv):
        if t["day"] < date(2026, 11, 1):  # type: ignore[operator]
            continue
        w = want[bucket(t, by)]
        amount: Decimal = t["amount"]  # type: ignore[assignment]
        key = {"usage": "spend", "purchase": "purchased", "refund": "refunded"}[str(t["type"])]
        w[key] += -amount if key == "spend" else amount  # type: ignore[operator]
        w["count"] += 1  # type: ignore[operator]
        w["tokens"] += t["tokens_used"]  # type: ignore[operator]
        w["images"] += t["images_processed"]  # type: ignore[operator]
    assert set(got) == set(want)
    for key, w in want.items():
        row = got[key]
        assert set(row) == {"bucket", "spend", "purchased", "refunded", "count", "tokens", "images"}
        for field in ("spend", "purchased", "refunded"):
            assert isinstance(row[field], str) and Decimal(row[field]) == w[field], (key, field)
        assert (row["count"], row["tokens"], row["images"]) == (
            w["count"],
            w["tokens"],
            w["images"],
        )


def test_usage_rejects_a_bad_date(srv: RunningLicenseServer, tmp_path: Path) -> None:
    code, _, err = run(env_for(srv, tmp_path), "usage", "--from", "2026-13-01")
    assert code == 2 and "2026-13-01" in err and "Traceback" not in err


def test_export_with_filters_writes_exactly_the_matching_rows(
    srv: RunningLicenseServer, tmp_path: Path
) -> None:
    env = env_for(srv, tmp_path, TOKENUSAGE_TIMEZONE=ZONE)
    target = tmp_path / "out.csv"
    code, _, err = run(
        env,
        "export",
        "-o",
        str(target),
        "--from",
        "2026-11-05",
        "--to",
        "2026-11-12",
        "--type",
        "usage",
        "--q",
        "gallery",
    )
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig"))))[1:]
    want = [
        t
        for t in entries(srv)
        if date(2026, 11, 5) <= t["day"] <= date(2026, 11, 12)  # type: ignore[operator]
        and t["type"] == "usage"
        and "gallery" in str(t["description"]).lower()
    ]
    assert want and len(rows) == len(want)
    assert sum(Decimal(r[3]) for r in rows) == sum(t["amount"] for t in want)  # type: ignore[misc]


def _runway_at(srv: RunningLicenseServer, now: datetime) -> dict[str, object]:
    all_ = entries(srv)
    balance = sum((t["amount"] for t in all_), Decimal(0))  # type: ignore[misc]

    def spend(days: int) -> Decimal:
        return -sum(
            (
                t["amount"]
                for t in all_
                if t["type"] == "usage" and now - timedelta(days=days) < t["at"] <= now
            ),  # type: ignore[operator,misc]
            Decimal(0),
        )

    b7, b30 = spend(7) / 7, spend(30) / 30
    basis = "7d" if b7 > 0 or b30 <= 0 else "30d"
    burn = b7 if basis == "7d" else b30
    days_left = None if burn <= 0 else math.floor(balance / burn)
    return {"burn_7d": b7, "burn_30d": b30, "basis": basis, "days_left": days_left}


def test_status_json_has_runway_and_spend(srv: RunningLicenseServer, tmp_path: Path) -> None:
    env = env_for(srv, tmp_path, TOKENUSAGE_TIMEZONE=ZONE)
    before = datetime.now(UTC).replace(microsecond=0)
    code, out, err = run(env, "status", "--json")
    after = datetime.now(UTC)
    assert code == 0, err
    report = json.loads(out)
    runway = report["runway"]
    assert set(runway) == {"burn_7d", "burn_30d", "basis", "days_left", "runs_out_on"}
    got = {
        "burn_7d": Decimal(runway["burn_7d"]),
        "burn_30d": Decimal(runway["burn_30d"]),
        "basis": runway["basis"],
        "days_left": runway["days_left"],
    }
    # The windows end when the command ran: one of the whole seconds it ran in.
    seconds = int((after - before).total_seconds()) + 1
    candidates = [_runway_at(srv, before + timedelta(seconds=s)) for s in range(seconds + 1)]
    assert got in candidates
    assert set(report["spend"]) == {"today", "month_to_date", "previous_month_same_days"}
    assert all(isinstance(v, str) for v in report["spend"].values())


def test_a_reversed_range_is_refused_and_said_so(srv: RunningLicenseServer, tmp_path: Path) -> None:
    """The CLI refuses a reversed range (the page swaps it): its message must not say it
    swapped anything."""
    for command in ("usage", "export"):
        code, _, err = run(
            env_for(srv, tmp_path), command, "--from", "2026-11-10", "--to", "2026-11-01"
        )
        assert code == 2, err
        assert "from (2026-11-10) is after to (2026-11-01)" in err
        assert "swapped" not in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("usage", "--by", "year"), "'year' is not one of"),
        (("status", "--jsn"), "No such option '--jsn'"),
        (("cache", "clear", "--bogus"), "No such option '--bogus'"),
        (("nosuch",), "No such command 'nosuch'"),
    ],
)
def test_a_usage_error_is_one_line_naming_the_help(
    srv: RunningLicenseServer, tmp_path: Path, args: tuple[str, ...], said: str
) -> None:
    code, _, err = run(env_for(srv, tmp_path), *args)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("Error: ") and said in err, err
    assert err.rstrip().endswith("--help')")


def test_export_to_a_missing_folder_says_so(srv: RunningLicenseServer, tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "out.csv"
    code, _, err = run(env_for(srv, tmp_path), "export", "-o", str(target))
    assert code == 2 and err.count("\n") == 1, err
    assert f"no folder '{target.parent}'" in err and ".part" not in err and "Errno" not in err
    assert not target.parent.exists()


@pytest.mark.parametrize("args", [(), ("admin",), ("cache",)])
def test_a_group_alone_shows_its_help(
    srv: RunningLicenseServer, tmp_path: Path, args: tuple[str, ...]
) -> None:
    code, out, err = run(env_for(srv, tmp_path), *args)
    text = out + err
    assert code in (0, 2) and "Usage: " in text and "Commands:" in text, text
    assert "Error:" not in text
