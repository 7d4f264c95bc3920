"""Wire models of the License API contract, shared by the client and the reference server.

Money is `Decimal` and never passes through float: bodies are decoded with
`parse_float=Decimal` and numeric strings are accepted. A timestamp without an offset
(MySQL style, `2026-11-24 13:05:00`) is UTC. Unknown extra fields are ignored.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

ENDPOINTS = ("pricing/current", "user/info", "user/stats", "credits/history")
MAX_HISTORY_LIMIT = 10_000
TransactionType = Literal["usage", "purchase", "refund"]


def parse_utc(value: Any) -> datetime:
    """Accept ISO 8601 (with or without offset), MySQL style, or a bare date; return aware UTC."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"not an ISO 8601 timestamp: {value!r}") from exc
    else:
        raise ValueError(f"not a timestamp: {value!r}")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


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
        number = Decimal(str(value).strip())
        if number != number.to_integral_value():
            raise ValueError(f"not a whole number: {value!r}")
        return int(number)
    return value


UtcDatetime = Annotated[datetime, BeforeValidator(parse_utc)]
Money = Annotated[Decimal, BeforeValidator(_no_bool), Field(allow_inf_nan=False)]
Count = Annotated[int, BeforeValidator(_int_like)]


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


def money_str(value: Decimal) -> str:
    """Plain (non-scientific) decimal text for the wire: `Decimal('1E-7')` -> `'0.0000001'`."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def iso_utc(value: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, seconds precision or finer if present."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
