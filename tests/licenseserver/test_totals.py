"""The totals kept beside the ledger: always equal to a recomputation over the entries, kept by
every kind of write on both engines, backfilled in a ledger that has none, and read without
scanning the ledger."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, text

from tests.fixtures import SEED_END
from tokenusage.licenseserver.demo import seed_demo
from tokenusage.licenseserver.ledger import Ledger
from tokenusage.licenseserver.schema import ledger as ledger_table
from tokenusage.licenseserver.schema import ledger_totals
from tokenusage.store.engine import make_engine

START = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def ledger(db_url: str) -> Iterator[Ledger]:
    engine = make_engine(db_url)
    led = Ledger(engine)
    led.create_schema()
    yield led
    engine.dispose()


def recomputed(engine: Engine, licence_id: int) -> dict[str, Any]:
    """`user/stats` and the entry count worked out here, in Python, from every row."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(ledger_table).where(ledger_table.c.licence_id == licence_id)
        ).all()
    units = [r.amount_units for r in rows]
    used = [r.amount_units for r in rows if r.type == "usage"]
    return {
        "balance": Decimal(sum(units)) / 10**8,
        "credits_used": -Decimal(sum(used)) / 10**8,
        "tokens_used": sum(r.input_tokens + r.completion_tokens + r.cached_tokens for r in rows),
        "api_calls": len(used),
        "images_processed": sum(r.images for r in rows),
        "total": len(rows),
    }


def served(led: Ledger, licence_id: int) -> dict[str, Any]:
    stats = led.stats(licence_id)
    return {
        **stats,
        "balance": Decimal(stats["balance"]),
        "credits_used": Decimal(stats["credits_used"]),
        "total": led.history(licence_id, limit=1)["total"],
    }


def row(licence_id: int, i: int, kind: str, units: int, **counts: int) -> dict[str, Any]:
    return {
        "licence_id": licence_id,
        "created_at": START + timedelta(minutes=i),
        "type": kind,
        "service_type": "s",
        "amount_units": units,
        **counts,
    }


def test_totals_equal_a_full_recomputation_after_every_kind_of_write(ledger: Ledger) -> None:
    a = ledger.issue_licence("K-TOT-A", "a.example", "a@a.example")
    b = ledger.issue_licence("K-TOT-B", "b.example", "b@b.example")
    ledger.add_entry(a.id, "purchase", Decimal("25.00"))
    ledger.add_entry(a.id, "refund", Decimal("1.23456789"), description="refund")
    ledger.add_entry(b.id, "usage", Decimal("0"), images=3)  # a free usage still counts a call
    ledger.charge(a.id, service_type="chat", input_tokens=12_345, cached_tokens=1024)
    ledger.charge(b.id, service_type="img", images=777, completion_tokens=5)
    # One bulk write touching both licences, naive and aware times mixed.
    ledger.add_entries(
        [
            row(a.id, 1, "usage", -1_000, input_tokens=10, completion_tokens=2),
            row(b.id, 2, "purchase", 5 * 10**8),
            row(a.id, 3, "refund", 7),
            {**row(b.id, 4, "usage", -99, images=4), "created_at": datetime(2026, 3, 2)},
        ]
    )
    # Seeds write in several transactions (batch), with and without a target balance.
    seeded = [
        seed_demo(ledger, 2_345, seed=4, end=SEED_END, key="K-SEED-1", batch=500),
        seed_demo(
            ledger,
            1_200,
            seed=5,
            end=SEED_END,
            key="K-SEED-2",
            balance=Decimal("0.37"),
            batch=333,
        ),
    ]
    ids = [a.id, b.id]
    for demo in seeded:
        lic = ledger.find_licence(demo.key)
        assert lic is not None
        ids.append(lic.id)
    ledger.charge(ids[2], service_type="after the seed", input_tokens=1)
    for licence_id in ids:
        expected = recomputed(ledger.engine, licence_id)
        assert served(ledger, licence_id) == expected
        assert ledger.recount(licence_id) == ledger.stats(licence_id)
    assert served(ledger, ids[3])["balance"] == Decimal("0.37")
    assert served(ledger, ids[2])["total"] == 2_346


def test_totals_hold_under_concurrent_writers_of_one_licence(ledger: Ledger) -> None:
    lic = ledger.issue_licence("K-TOT-PAR", "a.example", "a@a.example")
    workers, rounds = 6, 12
    start = threading.Barrier(workers)

    def work(n: int) -> None:
        start.wait()
        for k in range(rounds):
            ledger.charge(lic.id, service_type="chat", input_tokens=1_000 * (n + 1) + k)
            ledger.add_entries([row(lic.id, k, "refund", n + 1), row(lic.id, k, "usage", -3)])
            ledger.add_entry(lic.id, "purchase", Decimal("0.01"))

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(work, range(workers)))
    expected = recomputed(ledger.engine, lic.id)
    assert expected["total"] == workers * rounds * 4
    assert served(ledger, lic.id) == expected


def test_a_ledger_without_totals_gets_them_once_when_opened(db_url: str) -> None:
    engine = make_engine(db_url)
    old = Ledger(engine)
    old.create_schema()
    a = old.issue_licence("K-OLD-A", "a.example", "a@a.example")
    b = old.issue_licence("K-OLD-B", "b.example", "b@b.example")
    old.add_entries([row(a.id, i, "usage", -(i + 1), images=i) for i in range(50)])
    old.add_entries([row(b.id, 0, "purchase", 10**8)])
    with engine.begin() as conn:  # as a ledger file written before totals existed
        conn.execute(text("DROP TABLE ledger_totals"))
    Ledger(engine).create_schema()
    with engine.connect() as conn:
        kept = dict(conn.execute(select(ledger_totals.c.licence_id, ledger_totals.c.entries)).all())
    assert kept == {a.id: 50, b.id: 1}
    reopened = Ledger(engine)
    for lic in (a, b):
        assert served(reopened, lic.id) == recomputed(engine, lic.id)
    engine.dispose()


def test_entries_an_older_version_appended_are_counted_when_the_ledger_is_next_opened(
    ledger: Ledger,
) -> None:
    lic = ledger.issue_licence("K-OLD-W", "a.example", "a@a.example")
    ledger.add_entry(lic.id, "purchase", Decimal("3"))
    with ledger.engine.begin() as conn:  # an old version writes the ledger and no totals
        conn.execute(ledger_table.insert(), [row(lic.id, i, "usage", -5) for i in range(4)])
    assert ledger.stats(lic.id)["api_calls"] == 0  # stale until the ledger is opened again
    ledger.create_schema()
    assert served(ledger, lic.id) == recomputed(ledger.engine, lic.id)
    ledger.create_schema()  # and counted once only
    assert served(ledger, lic.id)["api_calls"] == 4


def test_stats_and_page_totals_never_read_the_ledger_table(ledger: Ledger) -> None:
    lic = ledger.issue_licence("K-TOT-SQL", "a.example", "a@a.example")
    ledger.add_entries([row(lic.id, i, "usage", -1) for i in range(20)])
    statements: list[str] = []

    def log(_c: Any, _cur: Any, statement: str, *_args: Any) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(ledger.engine, "before_cursor_execute", log)
    try:
        ledger.stats(lic.id)
        before = len(statements)
        page = ledger.history(lic.id, limit=5, before_id=10)
    finally:
        event.remove(ledger.engine, "before_cursor_execute", log)
    assert page["total"] == 20 and len(page["transactions"]) == 5
    assert not any("FROM ledger " in s or s.endswith("FROM ledger") for s in statements[:before])
    # The page reads the ledger exactly once: its rows, with a LIMIT, and no count.
    reads = [s for s in statements[before:] if "FROM ledger " in s]
    assert len(reads) == 1 and "LIMIT" in reads[0] and "count(" not in reads[0].lower()
