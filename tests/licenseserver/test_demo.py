"""The demo ledger: deterministic, realistic, and able to end below the warning line."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fixtures import SEED_END
from tokenusage.licenseserver.demo import seed_demo
from tokenusage.licenseserver.ledger import Ledger
from tokenusage.licenseserver.prices import PRICE_FIELDS, UnitCost, usage_cost
from tokenusage.licenseserver.schema import to_units
from tokenusage.store.engine import make_engine


def seeded(path: Path, n: int, seed: int, balance: Decimal | None = None) -> tuple[Ledger, int]:
    led = Ledger(make_engine(f"sqlite:///{path}"))
    led.create_schema()
    demo = seed_demo(led, n, seed=seed, balance=balance, end=SEED_END)
    lic = led.find_licence(demo.key)
    assert lic is not None and demo.transactions == n
    return led, lic.id


def test_same_seed_same_ledger_other_seed_other_ledger(tmp_path: Path) -> None:
    a, ida = seeded(tmp_path / "a.db", 3000, seed=5)
    b, idb = seeded(tmp_path / "b.db", 3000, seed=5)
    c, idc = seeded(tmp_path / "c.db", 3000, seed=6)
    ha, hb, hc = (x.history(i)["transactions"] for x, i in ((a, ida), (b, idb), (c, idc)))
    assert ha == hb
    assert ha != hc
    for led in (a, b, c):
        led.engine.dispose()


def test_demo_is_realistic(tmp_path: Path) -> None:
    led, lid = seeded(tmp_path / "d.db", 6000, seed=2)
    rows = led.history(lid)["transactions"]
    types = Counter(r["type"] for r in rows)
    assert types["usage"] > 5000 and types["purchase"] >= 2 and types["refund"] >= 1
    text = " ".join(r["service_type"] + " " + r["description"] for r in rows)
    for name in (
        "via openai (gpt-4o-mini)",
        "via anthropic (claude-3-5-sonnet)",
        "grok-2",
        "gemini-1.5-pro",
        "o3-mini",
    ):
        assert name in text
    running = Decimal(0)
    negative = 0
    for r in reversed(rows):
        running += Decimal(r["amount"])
        negative += running < 0
    assert negative < len(rows) * 0.01  # purchases keep the balance mostly positive
    months = {r["created_at"][:7] for r in rows}
    assert len(months) >= 2
    hours = Counter(int(r["created_at"][11:13]) for r in rows)
    assert hours[11] > 3 * hours[3]  # busy days, quiet nights
    led.engine.dispose()


def test_balance_option_ends_exactly_there(tmp_path: Path) -> None:
    for target in (Decimal("0.42"), Decimal("250.00")):
        led, lid = seeded(tmp_path / f"{target}.db", 2500, seed=9, balance=target)
        assert Decimal(led.stats(lid)["balance"]) == target
        led.engine.dispose()


@settings(max_examples=300, deadline=None)
@given(
    prices=st.tuples(*[st.decimals(min_value=0, max_value=1000, places=8)] * 4),
    counts=st.tuples(*[st.integers(min_value=0, max_value=10**9)] * 4),
)
def test_unit_cost_of_the_seed_equals_usage_cost(
    prices: tuple[Decimal, ...], counts: tuple[int, int, int, int]
) -> None:
    table = dict(zip(PRICE_FIELDS, prices, strict=True))
    inputs, completions, cached, images = counts
    exact = usage_cost(table, inputs, completions, cached, images)
    assert UnitCost(table)(inputs, completions, cached, images) == to_units(exact)
