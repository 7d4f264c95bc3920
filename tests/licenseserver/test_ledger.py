"""The ledger on SQLite and on a real PostgreSQL: exact money, stats from entries, paging."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fixtures import RunningLicenseServer
from tokenusage.licenseserver.ledger import Ledger, LedgerError, usage_cost
from tokenusage.store.engine import make_engine


@pytest.fixture
def ledger(db_url: str) -> Iterator[Ledger]:
    engine = make_engine(db_url)
    led = Ledger(engine)
    led.create_schema()
    yield led
    engine.dispose()


def test_schema_creation_is_idempotent(ledger: Ledger) -> None:
    ledger.create_schema()
    assert ledger.current_pricing()["input_tokens_per_1m"] == "0.50"


def test_amounts_are_exact_and_balance_is_their_sum(ledger: Ledger) -> None:
    lic = ledger.issue_licence("K-EXACT-1", "a.example", "a@a.example")
    for _ in range(10):
        ledger.add_entry(lic.id, "purchase", Decimal("0.1"))
    ledger.add_entry(lic.id, "usage", Decimal("-0.00000001"), input_tokens=3)
    stats = ledger.stats(lic.id)
    assert stats["balance"] == "0.99999999"  # 10 x 0.1 - 1e-8, no float drift
    assert stats["credits_used"] == "0.00000001"
    assert stats["tokens_used"] == 3 and stats["api_calls"] == 1


def test_amount_finer_than_the_ledger_unit_is_refused(ledger: Ledger) -> None:
    lic = ledger.issue_licence("K-FINE", "a.example", "a@a.example")
    with pytest.raises(ValueError, match="8 decimal places"):
        ledger.add_entry(lic.id, "purchase", Decimal("0.000000001"))
    with pytest.raises(ValueError, match="negative"):
        ledger.add_entry(lic.id, "usage", Decimal("5"))


def test_pricing_history_returns_the_price_in_force(ledger: Ledger) -> None:
    now = datetime.now(UTC)
    prices = {
        "image_processing_per_10k": Decimal("1"),
        "input_tokens_per_1m": Decimal("2"),
        "completion_tokens_per_1m": Decimal("3"),
        "cached_tokens_per_1m": Decimal("4"),
    }
    ledger.set_pricing(prices, effective_from=now - timedelta(days=1))
    ledger.set_pricing(
        {**prices, "input_tokens_per_1m": Decimal("9")}, effective_from=now + timedelta(days=1)
    )
    assert ledger.current_pricing()["input_tokens_per_1m"] == "2.00"
    assert ledger.current_pricing(at=now + timedelta(days=2))["input_tokens_per_1m"] == "9.00"
    assert ledger.current_pricing(at=now - timedelta(days=3))["input_tokens_per_1m"] == "0.50"


def test_charge_uses_the_current_price(ledger: Ledger) -> None:
    lic = ledger.issue_licence("K-CHARGE", "a.example", "a@a.example")
    _, amount = ledger.charge(
        lic.id,
        service_type="x",
        input_tokens=1_000_000,
        images=20_000,
        completion_tokens=2,
        cached_tokens=0,
    )
    # 0.50 per 1M input + 5.00 per 10k images x 2 + 1.50 per 1M x 2 completion tokens
    assert amount == -(Decimal("0.50") + Decimal("10.00") + Decimal("0.000003"))
    assert usage_cost(ledger.current_pricing(), 1, 0, 0, 0) == Decimal("0.00000050")


def test_auth_checks(ledger: Ledger) -> None:
    ledger.issue_licence("K-AUTH", "Shop.Example.com", "Boss@Example.com")
    assert ledger.authenticate("K-AUTH", "www.shop.example.com", "boss@example.com").key == "K-AUTH"
    with pytest.raises(LedgerError) as err:
        ledger.authenticate("K-AUTH", "evil.example.com", "boss@example.com")
    assert err.value.status == 403
    with pytest.raises(ValueError, match="exists already"):
        ledger.issue_licence("K-AUTH", "x", "y")


entries = st.lists(
    st.tuples(
        st.sampled_from(["usage", "purchase", "refund"]),
        st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("500"), places=8),
    ),
    min_size=0,
    max_size=60,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=entries, page=st.integers(min_value=1, max_value=25))
def test_property_balance_is_sum_and_before_id_paging_is_exact(
    empty_license_server: RunningLicenseServer, rows: list[tuple[str, Decimal]], page: int
) -> None:
    srv = empty_license_server
    lid = srv.licence_id
    start = datetime(2026, 1, 1, tzinfo=UTC)
    existing = srv.ledger.history(lid)["transactions"]
    srv.ledger.add_entries(
        [
            {
                "licence_id": lid,
                "created_at": start + timedelta(minutes=i),
                "type": kind,
                "service_type": "s",
                "description": "",
                "images": 0,
                "input_tokens": 0,
                "completion_tokens": 0,
                "cached_tokens": 0,
                "amount_units": int((-amount if kind == "usage" else amount) * 10**8),
            }
            for i, (kind, amount) in enumerate(rows)
        ]
    )
    seen: list[int] = []
    amounts = Decimal(0)
    before: int | None = None
    with httpx.Client(base_url=srv.base_url, params=srv.params) as client:
        while True:
            params = {"limit": str(page)} | ({"before_id": str(before)} if before else {})
            body = client.get("/credits/history", params=params).json()["data"]
            batch = body["transactions"]
            if not batch:
                break
            seen += [t["id"] for t in batch]
            amounts += sum((Decimal(t["amount"]) for t in batch), Decimal(0))
            before = batch[-1]["id"]
        stats = client.get("/user/stats").json()["data"]
    assert len(seen) == len(set(seen)) == len(existing) + len(rows) == body["total"]
    assert seen == sorted(seen, reverse=True)
    assert Decimal(stats["balance"]) == amounts


def test_nul_in_entry_text_is_stored_as_replacement_char(ledger: Ledger) -> None:
    # PostgreSQL text cannot hold NUL; both engines keep the same text.
    lic = ledger.issue_licence("K-NUL", "a.example", "a@a.example")
    ledger.add_entry(lic.id, "purchase", Decimal("1"), service_type="a\x00b", description="\x00")
    ledger.charge(lic.id, service_type="chat\x00", description="x\x00y", input_tokens=10)
    ledger.add_entries(
        [
            {
                "licence_id": lic.id,
                "created_at": datetime.now(UTC),
                "type": "refund",
                "service_type": "\x00r",
                "amount_units": 5,
                "input_tokens": 0,
                "completion_tokens": 0,
                "cached_tokens": 0,
                "images": 0,
                "description": "r\x00",
            }
        ]
    )
    got = [(t["service_type"], t["description"]) for t in ledger.history(lic.id)["transactions"]]
    assert got == [("\ufffdr", "r\ufffd"), ("chat\ufffd", "x\ufffdy"), ("a\ufffdb", "\ufffd")]


def test_key_with_nul_is_an_invalid_key_not_a_crash(ledger: Ledger) -> None:
    ledger.issue_licence("K-NUL", "a.example", "a@a.example")
    with pytest.raises(LedgerError, match="Invalid license key") as caught:
        ledger.authenticate("K-NUL\x00", "a.example", "a@a.example")
    assert caught.value.status == 401


def test_concurrent_writers_that_read_first_all_succeed(ledger: Ledger) -> None:
    # issue_licence reads (is the key taken?) before it writes: on SQLite such a writer must
    # queue for the write lock (BEGIN IMMEDIATE), not fail on SQLITE_BUSY when upgrading.
    workers, charges = 8, 15
    start = threading.Barrier(workers)

    def work(n: int) -> None:
        start.wait()
        for k in range(charges):
            lic = ledger.issue_licence(f"K-PAR-{n}-{k}", "a.example", "a@a.example")
            ledger.set_status(lic.key, "active")
            ledger.charge(lic.id, service_type="chat", input_tokens=1_000_000)

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(work, range(workers)))
    for n in range(workers):
        for k in range(charges):
            lic = ledger.find_licence(f"K-PAR-{n}-{k}")
            assert lic is not None
            assert ledger.stats(lic.id)["balance"] == "-0.50"
