"""Pricing cache and last-good snapshots: small JSON documents with the time they were fetched.

Values are stored as the wire models' JSON, in which pydantic writes every Decimal as a string,
so money round-trips exactly. A stored document that no longer validates (say, after a model
change) reads as absent: the caller simply fetches it again.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection, bindparam, delete, literal, select, union_all

from tokenusage.licenseapi.models import Pricing
from tokenusage.store.records import Cached, CacheStatus
from tokenusage.store.schema import pricing_cache, snapshots
from tokenusage.store.upsert import upsert

M = TypeVar("M", bound=BaseModel)


# Built once: a page view runs these on every request, and building a statement costs more
# than running it.
_PRICING = select(pricing_cache.c.payload, pricing_cache.c.fetched_at).where(
    pricing_cache.c.cache_key == bindparam("key")
)
_SNAPSHOT = select(snapshots.c.payload, snapshots.c.fetched_at).where(
    snapshots.c.domain_hash == bindparam("domain"), snapshots.c.kind == bindparam("kind")
)
# A page view's documents in one query: the pricing (kind "pricing") and the snapshots.
_VIEW_DOCUMENTS = union_all(
    select(
        literal("pricing").label("kind"), pricing_cache.c.payload, pricing_cache.c.fetched_at
    ).where(pricing_cache.c.cache_key == bindparam("key")),
    select(snapshots.c.kind, snapshots.c.payload, snapshots.c.fetched_at).where(
        snapshots.c.domain_hash == bindparam("domain")
    ),
)


@functools.lru_cache(maxsize=64)
def _load(model: type[M], payload: str) -> M | None:
    """The model of a stored document (the models are frozen, so one parse serves every
    read of the same document)."""
    try:
        return model.model_validate_json(payload)
    except ValidationError:
        return None


def put_pricing(conn: Connection, key: str, pricing: Pricing, fetched_at: datetime) -> None:
    upsert(
        conn,
        pricing_cache,
        {"cache_key": key, "payload": pricing.model_dump_json(), "fetched_at": fetched_at},
        keys=("cache_key",),
    )


def get_pricing(conn: Connection, key: str) -> Cached[Pricing] | None:
    row = conn.execute(_PRICING, {"key": key}).one_or_none()
    if row is None:
        return None
    value = _load(Pricing, row.payload)
    return None if value is None else Cached(value, row.fetched_at)


def pricing_status(conn: Connection, key: str) -> CacheStatus:
    fetched_at = conn.execute(
        select(pricing_cache.c.fetched_at).where(pricing_cache.c.cache_key == key)
    ).scalar_one_or_none()
    return CacheStatus(present=fetched_at is not None, fetched_at=fetched_at)


def clear_pricing(conn: Connection, key: str | None) -> int:
    stmt = delete(pricing_cache)
    if key is not None:
        stmt = stmt.where(pricing_cache.c.cache_key == key)
    return conn.execute(stmt).rowcount


def put_snapshot(
    conn: Connection, domain_hash: str, kind: str, value: BaseModel, fetched_at: datetime
) -> None:
    upsert(
        conn,
        snapshots,
        {
            "domain_hash": domain_hash,
            "kind": kind,
            "payload": value.model_dump_json(),
            "fetched_at": fetched_at,
        },
        keys=("domain_hash", "kind"),
    )


def get_snapshot(conn: Connection, domain_hash: str, kind: str, model: type[M]) -> Cached[M] | None:
    row = conn.execute(_SNAPSHOT, {"domain": domain_hash, "kind": kind}).one_or_none()
    if row is None:
        return None
    value = _load(model, row.payload)
    return None if value is None else Cached(value, row.fetched_at)


def view_documents(
    conn: Connection, pricing_key: str, domain_hash: str, models: dict[str, type[BaseModel]]
) -> tuple[Cached[Pricing] | None, dict[str, Cached[BaseModel]]]:
    """The pricing and the snapshots of `models` (by kind), in one query; a missing or
    unreadable document is left out."""
    pricing: Cached[Pricing] | None = None
    found: dict[str, Cached[BaseModel]] = {}
    params = {"key": pricing_key, "domain": domain_hash}
    for row in conn.execute(_VIEW_DOCUMENTS, params):
        if row.kind == "pricing":
            price = _load(Pricing, row.payload)
            pricing = None if price is None else Cached(price, row.fetched_at)
        elif (model := models.get(row.kind)) is not None:
            value = _load(model, row.payload)
            if value is not None:
                found[row.kind] = Cached(value, row.fetched_at)
    return pricing, found


def clear_snapshots(conn: Connection, domain_hash: str | None) -> int:
    stmt = delete(snapshots)
    if domain_hash is not None:
        stmt = stmt.where(snapshots.c.domain_hash == domain_hash)
    return conn.execute(stmt).rowcount
