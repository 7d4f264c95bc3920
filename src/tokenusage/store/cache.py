"""Pricing cache and last-good snapshots: small JSON documents with the time they were fetched.

Values are stored as the wire models' JSON, in which pydantic writes every Decimal as a string,
so money round-trips exactly. A stored document that no longer validates (say, after a model
change) reads as absent: the caller simply fetches it again.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection, delete, select

from tokenusage.licenseapi.models import Pricing
from tokenusage.store.records import Cached, CacheStatus
from tokenusage.store.schema import pricing_cache, snapshots
from tokenusage.store.upsert import upsert

M = TypeVar("M", bound=BaseModel)


def _load(model: type[M], payload: str) -> M | None:
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
    row = conn.execute(
        select(pricing_cache.c.payload, pricing_cache.c.fetched_at).where(
            pricing_cache.c.cache_key == key
        )
    ).one_or_none()
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
    row = conn.execute(
        select(snapshots.c.payload, snapshots.c.fetched_at).where(
            snapshots.c.domain_hash == domain_hash, snapshots.c.kind == kind
        )
    ).one_or_none()
    if row is None:
        return None
    value = _load(model, row.payload)
    return None if value is None else Cached(value, row.fetched_at)


def clear_snapshots(conn: Connection, domain_hash: str | None) -> int:
    stmt = delete(snapshots)
    if domain_hash is not None:
        stmt = stmt.where(snapshots.c.domain_hash == domain_hash)
    return conn.execute(stmt).rowcount
