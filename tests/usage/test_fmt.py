from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokenusage.usage.fmt import (
    column_places,
    format_age,
    format_datetime_full,
    format_int,
    format_money,
    format_money_fixed,
    format_table_date,
)

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
MOMENT = datetime(2026, 11, 24, 16, 5, 9, tzinfo=UTC)  # 13:05:09 in São Paulo


def spaces(text: str) -> str:
    """CLDR puts no-break spaces in some patterns; compare them as plain spaces."""
    return text.replace("\xa0", " ").replace("\u202f", " ")


@pytest.mark.parametrize(
    ("amount", "en", "pt_br"),
    [
        ("25", "$25.00", "US$ 25,00"),
        ("25.00", "$25.00", "US$ 25,00"),
        ("-1234.5", "-$1,234.50", "-US$ 1.234,50"),
        ("0.0005", "$0.0005", "US$ 0,0005"),
        ("-0.000015", "-$0.000015", "-US$ 0,000015"),
        ("0.0000001", "$0.0000001", "US$ 0,0000001"),
        ("0.15", "$0.15", "US$ 0,15"),
        ("0.075", "$0.075", "US$ 0,075"),
        ("1.23456789", "$1.23456789", "US$ 1,23456789"),
        ("6.1200715", "$6.1200715", "US$ 6,1200715"),
        ("0.000000123456789", "$0.000000123457", "US$ 0,000000123457"),
        ("0.9999999999", "$0.9999999999", "US$ 0,9999999999"),
        ("0.33333333333333333333", "$0.333333", "US$ 0,333333"),
        ("2.99999999999", "$3.00", "US$ 3,00"),
        ("0.10000001", "$0.10000001", "US$ 0,10000001"),
        ("1E+3", "$1,000.00", "US$ 1.000,00"),
        ("-0", "$0.00", "US$ 0,00"),
        ("0", "$0.00", "US$ 0,00"),
    ],
)
def test_money_keeps_sub_cent_digits(amount: str, en: str, pt_br: str) -> None:
    assert format_money(Decimal(amount), "USD", "en") == en
    assert spaces(format_money(Decimal(amount), "USD", "pt_BR")) == pt_br


def test_money_in_reais_and_yen() -> None:
    assert spaces(format_money(Decimal("1234.5"), "BRL", "pt_BR")) == "R$ 1.234,50"
    assert format_money(Decimal("1234"), "JPY", "en") == "¥1,234"
    assert format_money(Decimal("0.5"), "JPY", "en") == "¥0.5"


def test_money_beyond_the_default_decimal_precision() -> None:
    amount = Decimal("123456789012345678901234567890.5")
    assert format_money(amount, "USD", "en") == "$123,456,789,012,345,678,901,234,567,890.50"


def shown_value(text: str) -> Decimal:
    return Decimal(text.replace("$", "").replace(",", ""))


@given(
    st.builds(
        lambda coefficient, exponent: Decimal(f"{coefficient}E{exponent}"),
        st.integers(-(10**12), 10**12),
        st.integers(-24, 6),
    )
)
def test_money_never_hides_a_value(amount: Decimal) -> None:
    text = format_money(amount, "USD", "en")
    shown = shown_value(text)
    places = len(text.partition(".")[2])
    assert places >= 2
    assert abs(shown - amount) <= Decimal(1).scaleb(-places) / 2
    if amount:
        assert shown != 0
        fraction = abs(amount) % 1
        exponent = fraction.normalize().as_tuple().exponent
        assert isinstance(exponent, int)
        if fraction and -exponent <= 10:
            assert shown == amount  # a ledger amount or a sum of them: every digit
        elif fraction:
            # a quotient: at most six significant digits after its first non-zero one
            assert places <= max(2, -fraction.adjusted() + 5)
    if amount == amount.quantize(Decimal("0.01")):
        assert places == 2


@pytest.mark.parametrize(
    ("n", "en", "pt_br"),
    [
        (0, "0", "0"),
        (999, "999", "999"),
        (1_234_567, "1,234,567", "1.234.567"),
        (-5_000, "-5,000", "-5.000"),
    ],
)
def test_int(n: int, en: str, pt_br: str) -> None:
    assert format_int(n, "en") == en
    assert format_int(n, "pt_BR") == pt_br


def test_table_date_is_mon_day_year_hh_mm() -> None:
    assert format_table_date(MOMENT, SAO_PAULO, "en") == "Nov 24, 2026, 13:05"
    assert format_table_date(MOMENT, UTC, "en") == "Nov 24, 2026, 16:05"
    assert format_table_date(MOMENT, SAO_PAULO, "pt_BR") == "24 de nov. de 2026 13:05"


def test_table_date_is_24_hour_and_crosses_midnight_in_local_time() -> None:
    just_after_midnight_utc = datetime(2026, 3, 1, 0, 5, tzinfo=UTC)
    assert format_table_date(just_after_midnight_utc, UTC, "en") == "Mar 1, 2026, 00:05"
    assert format_table_date(just_after_midnight_utc, SAO_PAULO, "en") == "Feb 28, 2026, 21:05"
    assert (
        format_table_date(just_after_midnight_utc, SAO_PAULO, "pt_BR") == "28 de fev. de 2026 21:05"
    )


def test_naive_datetimes_are_utc() -> None:
    assert (
        format_table_date(datetime(2026, 11, 24, 16, 5), SAO_PAULO, "en") == "Nov 24, 2026, 13:05"
    )


def test_full_datetime_names_the_offset() -> None:
    # The local wall time, the local date and the UTC offset must all be there; the
    # punctuation around the offset ("GMT-03:00", "-03:00 GMT") is the pinned CLDR's business.
    en = format_datetime_full(MOMENT, SAO_PAULO, "en")
    assert en.startswith("November 24, 2026")
    assert "13:05:09" in en
    assert "-03:00" in en
    pt = format_datetime_full(MOMENT, SAO_PAULO, "pt_BR")
    assert pt.startswith("24 de novembro de 2026")
    assert "13:05:09" in pt
    assert "-03:00" in pt
    utc = format_datetime_full(MOMENT, UTC, "en")
    assert "16:05:09" in utc
    assert "GMT" in utc
    assert "-03:00" not in utc


@pytest.mark.parametrize(
    ("seconds", "en", "pt_br"),
    [
        (300, "5 minutes", "5 minutos"),
        (1, "1 second", "1 segundo"),
        (3_600, "1 hour", "1 hora"),
        (2 * 86_400, "2 days", "2 dias"),
        (-30, "0 seconds", "0 segundo"),
    ],
)
def test_age(seconds: float, en: str, pt_br: str) -> None:
    assert format_age(seconds, "en") == en
    assert format_age(seconds, "pt_BR") == pt_br


def test_money_fixed_has_exactly_the_places_asked() -> None:
    assert format_money_fixed(Decimal("1.5"), "USD", "en", 6) == "$1.500000"
    assert format_money_fixed(Decimal("-0.0001"), "USD", "en", 6) == "-$0.000100"
    assert format_money_fixed(Decimal("-1234.5"), "USD", "pt_BR", 2) == "-US$\xa01.234,50"
    # Headline cents round half to even, and never show "-$0.00".
    assert format_money_fixed(Decimal("6.125"), "USD", "en", 2) == "$6.12"
    assert format_money_fixed(Decimal("6.135"), "USD", "en", 2) == "$6.14"
    assert format_money_fixed(Decimal("-0.001"), "USD", "en", 2) == "$0.00"


def test_column_places_is_what_the_most_precise_amount_needs() -> None:
    amounts = [Decimal("5.00"), Decimal("-0.0038465"), Decimal("-0.06")]
    assert column_places(amounts, "USD") == 7
    assert column_places([Decimal("5"), Decimal("0.1")], "USD") == 2
    assert column_places([], "USD") == 2
    texts = [format_money_fixed(a, "USD", "en", column_places(amounts, "USD")) for a in amounts]
    assert {len(t.split(".")[1]) for t in texts} == {7}
