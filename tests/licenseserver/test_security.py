"""Hostile input to the reference License API: ids it cannot hold, non-ASCII digits, guessed keys,
and timing that would tell a known key from an unknown one."""

from __future__ import annotations

import secrets
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.liveserver import serve
from tokenusage.licenseserver.app import create_app
from tokenusage.licenseserver.ledger import Ledger
from tokenusage.licenseserver.throttle import FailedChecks

KEY, DOMAIN, EMAIL = "CTZ-SEC-0001", "shop.example.com", "owner@example.com"
GOOD = {"license_key": KEY, "domain": DOMAIN, "email": EMAIL}
MAX_ID = 2**63 - 1


@contextmanager
def server(tmp_path: Path, **options: Any) -> Iterator[httpx.Client]:
    app = create_app(f"sqlite:///{tmp_path / 'sec.sqlite3'}", **options)
    ledger: Ledger = app.state.ledger
    lic = ledger.issue_licence(KEY, DOMAIN, EMAIL)
    ledger.issue_licence("CTZ-SEC-GONE", DOMAIN, EMAIL, status="suspended")
    ledger.add_entries(
        [
            {
                "licence_id": lic.id,
                "created_at": lic.member_since,
                "type": "purchase",
                "amount_units": 10**8,
            }
        ]
        * 7
    )
    with serve(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client
    app.state.ledger.engine.dispose()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[httpx.Client]:
    with server(tmp_path) as c:
        yield c


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"before_id": "9" * 26}, f"before_id must be at most {MAX_ID}"),
        ({"after_id": str(MAX_ID + 1)}, f"after_id must be at most {MAX_ID}"),
        ({"before_id": "9" * 5000}, f"before_id must be at most {MAX_ID}"),
        ({"after_id": "0" * 4000 + "9" * 20}, f"after_id must be at most {MAX_ID}"),
        ({"before_id": "²"}, "before_id must be a positive integer"),
        ({"after_id": "٣"}, "after_id must be a positive integer"),  # Arabic-Indic three
        ({"before_id": "１２"}, "before_id must be a positive integer"),  # fullwidth digits
        ({"limit": "٥"}, "limit must be an integer between 1 and 10000"),
        ({"limit": "9" * 5000}, "limit must be an integer between 1 and 10000"),
        ({"limit": "²"}, "limit must be an integer between 1 and 10000"),
    ],
)
def test_ids_and_limits_outside_ascii_digits_or_range_are_a_400_with_a_message(
    client: httpx.Client, params: dict[str, str], message: str
) -> None:
    resp = client.get("/credits/history", params={**GOOD, **params})
    assert (resp.status_code, resp.json()) == (400, {"success": False, "error": message})


def test_the_bound_is_the_largest_id_the_ledger_can_hold(client: httpx.Client) -> None:
    largest = client.get("/credits/history", params={**GOOD, "before_id": str(MAX_ID)})
    assert largest.status_code == 200 and len(largest.json()["data"]["transactions"]) == 7
    padded = client.get("/credits/history", params={**GOOD, "limit": "0003", "after_id": "001"})
    assert [t["id"] for t in padded.json()["data"]["transactions"]] == [4, 3, 2]
    beyond = client.get("/credits/history", params={**GOOD, "after_id": str(MAX_ID + 1)})
    assert beyond.status_code == 400


def test_guessed_keys_from_one_address_are_throttled(tmp_path: Path) -> None:
    with server(tmp_path, failure_floor=0.0) as client:
        answers = []
        for _ in range(300):
            guess = {**GOOD, "license_key": "CTZ-" + secrets.token_hex(8)}
            answers.append(client.get("/user/stats", params=guess))
        statuses = [r.status_code for r in answers]
        assert statuses[:20] == [401] * 20
        assert statuses[20:] == [429] * 280
        refused = answers[-1]
        assert int(refused.headers["Retry-After"]) in range(1, 61)
        assert refused.json()["error"].startswith("Too many failed licence checks")
        # The address is refused before its credentials are looked at, right ones included.
        assert client.get("/user/stats", params=GOOD).status_code == 429


def test_failures_age_out_of_the_window() -> None:
    now = [1000.0]
    checks = FailedChecks(limit=3, window=60.0, clock=lambda: now[0])
    for _ in range(3):
        assert checks.blocked_for("10.0.0.1") == 0
        checks.record("10.0.0.1")
        now[0] += 10
    assert checks.blocked_for("10.0.0.1") == pytest.approx(30.0)
    assert checks.blocked_for("10.0.0.2") == 0  # per address
    now[0] += 30
    assert checks.blocked_for("10.0.0.1") == 0
    checks.record("10.0.0.1")
    assert checks.blocked_for("10.0.0.1") == pytest.approx(10.0)


def test_tracked_addresses_are_bounded() -> None:
    now = [0.0]
    checks = FailedChecks(limit=2, window=60.0, clock=lambda: now[0], max_addresses=100)
    for n in range(1000):
        checks.record(f"10.0.{n // 256}.{n % 256}")
    assert len(checks._failures) <= 100


def test_unknown_and_mismatched_keys_take_the_same_time(tmp_path: Path) -> None:
    floor = 0.25
    with server(tmp_path, failure_floor=floor, failure_limit=1000) as client:
        cases = {
            401: {"license_key": "CTZ-NOPE-0000"},
            403: {"domain": "elsewhere.example"},
            "403 email": {"email": "x@elsewhere.example"},
            "403 suspended": {"license_key": "CTZ-SEC-GONE"},
        }
        medians = {}
        for name, change in cases.items():
            samples = []
            for _ in range(5):
                start = time.perf_counter()
                resp = client.get("/user/info", params={**GOOD, **change})
                samples.append(time.perf_counter() - start)
                assert resp.status_code == (401 if name == 401 else 403)
            assert min(samples) >= floor, (name, samples)
            medians[name] = statistics.median(samples)
        assert max(medians.values()) - min(medians.values()) < 0.05, medians
        start = time.perf_counter()
        assert client.get("/user/info", params=GOOD).status_code == 200
        assert time.perf_counter() - start < floor  # answers that succeed are not held back
