"""What the current balance still buys, and when it counts as low.

The pricing card quotes images per 10,000 and tokens per 1,000,000, so the estimate is
`floor(balance / price * unit)`. It is computed in exact decimal arithmetic: a float would
turn `$25.00 / $0.15 * 1M` into an off-by-one count that the admin can check by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import MAX_EMAX, MIN_EMIN, Decimal, Inexact, Rounded, localcontext

IMAGE_UNIT = 10_000
TOKEN_UNIT = 1_000_000
LOW_BALANCE_THRESHOLD = Decimal("1.00")


@dataclass(frozen=True)
class Estimates:
    """Remaining units per service; `None` means "not available" (no usable price)."""

    images: int | None
    input_tokens: int | None
    completion_tokens: int | None
    cached_tokens: int | None


def _digits(value: Decimal) -> int:
    return len(value.as_tuple().digits)


def remaining_units(balance: Decimal, price: Decimal | None, unit: int) -> int | None:
    """`floor(balance * unit / price)`, or None when the price cannot be divided by.

    A zero, negative or non-finite price (or balance) says nothing about what the balance
    buys, so it is "not available" rather than an invented number; an empty or overdrawn
    balance buys nothing.
    """
    if price is None or not price.is_finite() or price <= 0 or not balance.is_finite():
        return None
    if balance <= 0:
        return 0
    # Enough precision for the exact product and the whole integer quotient; the traps
    # turn any silent rounding into an error instead of a wrong count.
    needed = _digits(balance) + len(str(unit)) + max(0, balance.adjusted() - price.adjusted())
    with localcontext() as ctx:
        ctx.prec = max(28, needed + _digits(price) + 8)
        ctx.Emax = MAX_EMAX
        ctx.Emin = MIN_EMIN
        ctx.traps[Inexact] = True
        ctx.traps[Rounded] = True
        return int((balance * unit) // price)


def estimate_remaining(
    balance: Decimal,
    *,
    image_per_10k: Decimal | None,
    input_per_1m: Decimal | None,
    completion_per_1m: Decimal | None,
    cached_per_1m: Decimal | None,
) -> Estimates:
    """The "Estimated Usage Remaining" card, one figure per price on the pricing card."""
    return Estimates(
        images=remaining_units(balance, image_per_10k, IMAGE_UNIT),
        input_tokens=remaining_units(balance, input_per_1m, TOKEN_UNIT),
        completion_tokens=remaining_units(balance, completion_per_1m, TOKEN_UNIT),
        cached_tokens=remaining_units(balance, cached_per_1m, TOKEN_UNIT),
    )


def is_low_balance(balance: Decimal, threshold: Decimal = LOW_BALANCE_THRESHOLD) -> bool:
    """Strictly below the threshold: the manual shows exactly $1.00 green, not red."""
    return balance < threshold
