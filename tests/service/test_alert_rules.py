"""When a rule fires and when it re-arms; what a rule may be made of."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tokenusage.service.alerts.rules import (
    INFINITE,
    AlertError,
    Reading,
    check_name,
    condition,
    parse_channels,
    parse_threshold,
    rearms,
)

D = Decimal


def test_below_kinds_fire_under_and_rearm_above_the_margin() -> None:
    assert condition("balance_below", D("9.99"), D("10"))
    assert not condition("balance_below", D("10"), D("10"))
    assert not rearms("balance_below", D("10.50"), D("10"), purchased=False)
    assert rearms("balance_below", D("11.00"), D("10"), purchased=False)
    assert rearms("balance_below", D("10.00"), D("10"), purchased=True), "a purchase lifted it"
    assert not rearms("balance_below", D("9"), D("10"), purchased=True), "still below"
    assert rearms("runway_below_days", INFINITE, D("7"), purchased=False), "no spend any more"


def test_above_kinds_fire_over_and_rearm_under_the_margin() -> None:
    assert condition("daily_spend_above", D("5.01"), D("5"))
    assert not condition("daily_spend_above", D("5"), D("5"))
    assert not rearms("daily_spend_above", D("4.9"), D("5"), purchased=False)
    assert rearms("daily_spend_above", D("0"), D("5"), purchased=False), "a new day"
    assert condition("stale_minutes", INFINITE, D("60")), "never synced is stale"


def test_readings() -> None:
    now = datetime(2026, 11, 30, tzinfo=UTC)
    idle = Reading(now, D("3"), None, True, D("0"), None, None)
    assert idle.value("runway_below_days") == INFINITE
    assert idle.value("stale_minutes") == INFINITE
    unknown = Reading(now, None, None, False, None, D("5"), None)
    assert unknown.value("balance_below") is None and unknown.value("runway_below_days") is None


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("balance_below", "ten"),
        ("balance_below", "-1"),
        ("balance_below", "NaN"),
        ("runway_below_days", "2.5"),
        ("stale_minutes", "0"),
        ("nope", "1"),
    ],
)
def test_bad_thresholds(kind: str, text: str) -> None:
    with pytest.raises(AlertError):
        parse_threshold(kind, text)


def test_names_and_channels() -> None:
    assert parse_threshold("balance_below", "$12.50") == D("12.50")
    assert check_name(" low balance ") == "low balance"
    with pytest.raises(AlertError):
        check_name("")
    with pytest.raises(AlertError):
        parse_channels([], [])
    with pytest.raises(AlertError):
        parse_channels(["not-an-address"], [])
    with pytest.raises(AlertError):
        parse_channels([], ["ftp://example.com"])
    [mail, hook] = parse_channels(["ops@example.com"], ["https://hooks.example.com/x"])
    assert mail.as_json() == {"type": "email", "to": "ops@example.com"}
    assert hook.as_json() == {"type": "webhook", "url": "https://hooks.example.com/x"}
