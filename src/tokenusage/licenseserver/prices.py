"""Prices: the rows of the price history, and what usage costs at them."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tokenusage.licenseserver.schema import to_units

DEFAULT_PRICES = {
    "image_processing_per_10k": Decimal("5.00"),
    "input_tokens_per_1m": Decimal("0.50"),
    "completion_tokens_per_1m": Decimal("1.50"),
    "cached_tokens_per_1m": Decimal("0.25"),
}
PRICE_FIELDS = tuple(DEFAULT_PRICES)


def usage_cost(
    prices: dict[str, Any],
    input_tokens: int,
    completion_tokens: int,
    cached_tokens: int,
    images: int,
) -> Decimal:
    """Exact cost at the given prices, rounded half-up to the ledger's 10^-8 unit."""
    counts = (images, input_tokens, completion_tokens, cached_tokens)
    if any(c < 0 for c in counts):
        raise ValueError("counts cannot be negative")
    cost = (
        Decimal(prices["image_processing_per_10k"]) * images / 10_000
        + Decimal(prices["input_tokens_per_1m"]) * input_tokens / 1_000_000
        + Decimal(prices["completion_tokens_per_1m"]) * completion_tokens / 1_000_000
        + Decimal(prices["cached_tokens_per_1m"]) * cached_tokens / 1_000_000
    )
    return cost.quantize(Decimal("1E-8"), rounding=ROUND_HALF_UP)


class UnitCost:
    """`usage_cost` in integer ledger units, for prices that are whole units (all stored
    prices are): the same result, without a Decimal per entry when seeding millions."""

    def __init__(self, prices: dict[str, Any]) -> None:
        self.per_million = (
            to_units(Decimal(prices["image_processing_per_10k"])) * 100,
            to_units(Decimal(prices["input_tokens_per_1m"])),
            to_units(Decimal(prices["completion_tokens_per_1m"])),
            to_units(Decimal(prices["cached_tokens_per_1m"])),
        )

    def __call__(self, input_tokens: int, completion_tokens: int, cached: int, images: int) -> int:
        image, inputs, completions, cache = self.per_million
        scaled = (
            image * images
            + inputs * input_tokens
            + completions * completion_tokens
            + cache * cached
        )
        return (scaled + 500_000) // 1_000_000  # half-up: every term is non-negative


def price_row(prices: dict[str, Decimal], when: datetime) -> dict[str, Any]:
    row: dict[str, Any] = {"effective_from": when, "currency": "USD"}
    for field in PRICE_FIELDS:
        value = Decimal(prices[field])
        if value < 0:
            raise ValueError(f"{field} cannot be negative")
        row[f"{field}_units"] = to_units(value)
    return row
