"""The JSON forms of what the service hands out: `tokenusage status --json` and
`/api/v1/summary` (one object, made here once), and the API's transactions. Money is a decimal
string, times ISO 8601; service types and descriptions are branded as everywhere else."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from tokenusage.service.model import CacheInfo, DashboardView
from tokenusage.store import MirrorRow
from tokenusage.usage.branding import brand
from tokenusage.usage.runway import Runway

_CURSOR = re.compile(r"v1:([0-9]{1,19})")


def plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def cache_json(cache: CacheInfo, now: datetime) -> dict[str, Any]:
    return {
        "source": cache.source,
        "fetched_at": plain(cache.fetched_at),
        "age_seconds": cache.age_seconds(now),
        "rows": cache.rows,
        "upstream_total": cache.upstream_total,
        "limited": cache.limited,
        "syncing": cache.syncing,
    }


def view_json(view: DashboardView) -> dict[str, Any]:
    def dump(model: BaseModel | None) -> Any:
        return None if model is None else plain(model.model_dump())

    return {
        "account": dump(view.account),
        "stats": dump(view.stats),
        "pricing": dump(view.pricing),
        "estimates": None if view.estimates is None else vars(view.estimates),
        "low_balance": view.low_balance,
        "transactions": view.window.total,
        "cache": {
            "pricing": cache_json(view.pricing_cache, view.now),
            "account": cache_json(view.account_cache, view.now),
            "stats": cache_json(view.stats_cache, view.now),
            "transactions": cache_json(view.transactions_cache, view.now),
        },
        "stale": view.stale,
        "complete": view.complete,
        "data_as_of": plain(view.data_as_of),
        "problems": [p.as_json() for p in view.problems],
        "runway": runway.as_json() if (runway := runway_of(view)) else None,
        "spend": view.insights.spend.as_json() if view.insights else None,
    }


def runway_of(view: DashboardView) -> Runway | None:
    return None if view.insights is None else view.insights.runway


def transaction_json(row: MirrorRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "created_at": row.created_at.isoformat(),
        "type": row.type,
        "service_type": brand(row.service_type),
        "amount": format(row.amount, "f"),
        "tokens_used": row.tokens_used,
        "images_processed": row.images_processed,
        "description": brand(row.description),
        "input_tokens": row.input_tokens,
        "completion_tokens": row.completion_tokens,
        "cached_tokens": row.cached_tokens,
    }


def encode_cursor(before_id: int) -> str:
    """The API's opaque cursor for "the rows older than transaction `before_id`"."""
    return base64.urlsafe_b64encode(f"v1:{before_id}".encode()).decode().rstrip("=")


def decode_cursor(text: str) -> int | None:
    """The id a cursor names; None when it is not one of ours."""
    if len(text) > 64:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        return None
    found = _CURSOR.fullmatch(raw)
    if found is None or int(found[1]) >= 2**63:
        return None
    return int(found[1])
