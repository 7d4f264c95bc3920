"""Wire models of the License API contract, shared by the client and the reference server.

Money is `Decimal` and never passes through float: bodies are decoded with
`parse_float=Decimal` and numeric strings are accepted. A timestamp without an offset
(MySQL style, `2026-11-24 13:05:00`) is UTC. Unknown extra fields are ignored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict

ENDPOINTS = ("pricing/current", "user/info", "user/stats", "credits/history")
MAX_HISTORY_LIMIT = 10_000
TransactionType = Literal["usage", "purchase", "refund"]


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, float):
        # A float has already lost exactness; keep the shortest repr it stands for.
        return Decimal(repr(value))
    return value


def _int_like(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, str | Decimal):
        try:
            number = Decimal(str(value).strip())
        except ArithmeticError:  # decimal.InvalidOperation: not a number at all
            raise ValueError(f"not a number: {value!r}") from None
        if not number.is_finite() or number != number.to_integral_value():
            raise ValueError(f"not a whole number: {value!r}")
        return int(number)
    return value


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# pydantic's own (Rust) parsers do the heavy lifting: a 10,000-row history page validates in
# about half the time of Python-level before-validators. They accept ISO 8601 with or without
# offset, MySQL's "YYYY-MM-DD HH:MM:SS", bare dates, numeric strings, and refuse NaN/Infinity.
UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]
# What servers send nearly always (a JSON integer; a Decimal from the decoder) is checked in
# Rust by the strict first branch; only the rest (numeric strings, 12.0) reaches Python. That
# halves the cost of validating a history page. `decode.describe` hides the branch names.
Money = (
    Annotated[Decimal, Strict(), Field(allow_inf_nan=False)]
    | Annotated[Decimal, BeforeValidator(_no_bool), Field(allow_inf_nan=False)]
)
Count = Annotated[int, Strict()] | Annotated[int, BeforeValidator(_int_like)]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Pricing(_Wire):
    currency: str = "USD"
    image_processing_per_10k: Money
    input_tokens_per_1m: Money
    completion_tokens_per_1m: Money
    cached_tokens_per_1m: Money
    effective_from: UtcDatetime | None = None


class UserInfo(_Wire):
    email: str
    license_type: str
    domain: str
    member_since: UtcDatetime | None = None


class UserStats(_Wire):
    balance: Money
    credits_used: Money
    tokens_used: Count
    api_calls: Count
    images_processed: Count


class Transaction(_Wire):
    id: Count
    created_at: UtcDatetime
    type: TransactionType
    service_type: str = ""
    amount: Money
    tokens_used: Count = 0
    images_processed: Count = 0
    description: str = ""
    input_tokens: Count | None = None
    completion_tokens: Count | None = None
    cached_tokens: Count | None = None


class History(_Wire):
    total: Count
    transactions: list[Transaction]


def iso_utc(value: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, seconds precision or finer if present."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
