from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokenusage.usage.estimates import Estimates, estimate_remaining, is_low_balance


def expected_units(balance: Decimal, price: Decimal, unit: int) -> int:
    """Independent oracle: exact rational arithmetic, floor by integer division."""
    ratio = Fraction(balance) * unit / Fraction(price)
    return ratio.numerator // ratio.denominator


def only_images(balance: Decimal, price: Decimal | None) -> int | None:
    return estimate_remaining(
        balance, image_per_10k=price, input_per_1m=None, completion_per_1m=None, cached_per_1m=None
    ).images


def only_input(balance: Decimal, price: Decimal | None) -> int | None:
    return estimate_remaining(
        balance, image_per_10k=None, input_per_1m=price, completion_per_1m=None, cached_per_1m=None
    ).input_tokens


def test_the_pricing_card_example() -> None:
    assert estimate_remaining(
        Decimal("25.00"),
        image_per_10k=Decimal("5.00"),
        input_per_1m=Decimal("0.15"),
        completion_per_1m=Decimal("0.60"),
        cached_per_1m=Decimal("0.075"),
    ) == Estimates(
        images=50_000,
        input_tokens=166_666_666,
        completion_tokens=41_666_666,
        cached_tokens=333_333_333,
    )


@pytest.mark.parametrize(
    ("balance", "price", "expected"),
    [
        # float would give 2999999 (0.3 / 0.1 * 1e6 == 2999999.9999999995)
        ("0.3", "0.1", 3_000_000),
        ("0.30", "0.15", 2_000_000),
        ("1", "3", 333_333),
        ("0.000001", "1", 1),
        ("0.0000009", "1", 0),
        ("99999999999999999999999999999.99", "0.0000001", int("9" * 31) * 10**11),
    ],
)
def test_exact_at_the_floor_boundary(balance: str, price: str, expected: int) -> None:
    assert only_input(Decimal(balance), Decimal(price)) == expected


def test_images_use_a_10k_unit() -> None:
    assert only_images(Decimal("1.00"), Decimal("3.00")) == 3_333
    assert only_images(Decimal("6.00"), Decimal("3.00")) == 20_000


@pytest.mark.parametrize(
    "price", [None, Decimal(0), Decimal("-0"), Decimal("-1.5"), Decimal("NaN"), Decimal("Infinity")]
)
def test_unusable_price_is_not_available(price: Decimal | None) -> None:
    assert only_input(Decimal("10"), price) is None
    assert only_images(Decimal("10"), price) is None


@pytest.mark.parametrize("balance", ["0", "-0", "0.00", "-0.01", "-1000"])
def test_empty_or_overdrawn_balance_buys_nothing(balance: str) -> None:
    result = estimate_remaining(
        Decimal(balance),
        image_per_10k=Decimal("5"),
        input_per_1m=Decimal("0.15"),
        completion_per_1m=None,
        cached_per_1m=Decimal(0),
    )
    assert result == Estimates(images=0, input_tokens=0, completion_tokens=None, cached_tokens=None)


def test_non_finite_balance_is_not_available() -> None:
    assert only_input(Decimal("NaN"), Decimal("1")) is None
    assert only_input(Decimal("Infinity"), Decimal("1")) is None


def scaled_decimals(min_int: int, max_int: int) -> st.SearchStrategy[Decimal]:
    """Decimals of any magnitude, built exactly from text (coefficient and exponent)."""
    return st.builds(
        lambda coefficient, exponent: Decimal(f"{coefficient}E{exponent}"),
        st.integers(min_int, max_int),
        st.integers(-40, 40),
    )


@given(balance=scaled_decimals(1, 10**32), price=scaled_decimals(1, 10**32))
def test_matches_exact_rational_floor(balance: Decimal, price: Decimal) -> None:
    result = estimate_remaining(
        balance,
        image_per_10k=price,
        input_per_1m=price,
        completion_per_1m=price,
        cached_per_1m=price,
    )
    tokens = expected_units(balance, price, 1_000_000)
    assert result == Estimates(
        images=expected_units(balance, price, 10_000),
        input_tokens=tokens,
        completion_tokens=tokens,
        cached_tokens=tokens,
    )


@given(
    balance=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2),
    price=st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("1000"), places=6),
)
def test_never_promises_more_than_the_balance_pays_for(balance: Decimal, price: Decimal) -> None:
    units = only_input(balance, price)
    assert units is not None
    # units tokens cost no more than the balance; one more token would cost more.
    assert Fraction(units) * Fraction(price) / 1_000_000 <= Fraction(balance)
    assert Fraction(units + 1) * Fraction(price) / 1_000_000 > Fraction(balance)


@pytest.mark.parametrize(
    ("balance", "low"),
    [
        ("0.99", True),
        ("0.999999", True),
        ("1.00", False),
        ("1", False),
        ("1.000001", False),
        ("0", True),
        ("-5", True),
        ("250.00", False),
    ],
)
def test_low_balance_is_strictly_below_one_dollar(balance: str, low: bool) -> None:
    assert is_low_balance(Decimal(balance)) is low


def test_low_balance_threshold_is_configurable() -> None:
    assert is_low_balance(Decimal("4.99"), Decimal("5"))
    assert not is_low_balance(Decimal("5.00"), Decimal("5"))
