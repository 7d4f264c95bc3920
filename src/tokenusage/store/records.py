"""Plain values the store hands out, so callers never see SQLAlchemy rows or sessions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Generic, TypeVar

from tokenusage.licenseapi.models import Transaction, TransactionType

T = TypeVar("T")


class StoreError(Exception):
    """The local store cannot be used; the service falls back to live data when it sees this."""


class SyncSuperseded(StoreError):
    """A full sync lost its generation: a newer full sync or a clear replaced it meanwhile."""


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Cached(Generic[T]):
    """A stored value with the time it was fetched upstream; freshness is the caller's policy."""

    value: T
    fetched_at: datetime

    def age(self, now: datetime | None = None) -> timedelta:
        return _now(now) - self.fetched_at

    def is_fresh(self, ttl: float | timedelta, now: datetime | None = None) -> bool:
        limit = ttl if isinstance(ttl, timedelta) else timedelta(seconds=ttl)
        return self.age(now) < limit


@dataclass(frozen=True, slots=True)
class CacheStatus:
    present: bool
    fetched_at: datetime | None

    def age(self, now: datetime | None = None) -> timedelta | None:
        return None if self.fetched_at is None else _now(now) - self.fetched_at


@dataclass(frozen=True, slots=True)
class MirrorRow:
    """One mirrored transaction; the same fields as the wire `Transaction`, money as Decimal."""

    id: int
    created_at: datetime
    type: TransactionType
    service_type: str
    amount: Decimal
    tokens_used: int
    images_processed: int
    description: str
    input_tokens: int | None
    completion_tokens: int | None
    cached_tokens: int | None

    @classmethod
    def from_transaction(cls, tx: Transaction) -> MirrorRow:
        return cls(
            id=tx.id,
            created_at=tx.created_at,
            type=tx.type,
            service_type=tx.service_type,
            amount=tx.amount,
            tokens_used=tx.tokens_used,
            images_processed=tx.images_processed,
            description=tx.description,
            input_tokens=tx.input_tokens,
            completion_tokens=tx.completion_tokens,
            cached_tokens=tx.cached_tokens,
        )


@dataclass(frozen=True, slots=True)
class MirrorStatus:
    """What the footer, the debug page and `tokenusage cache status` say about the mirror.

    `synced_at` is the last full or incremental sync; `complete` is false when the server
    ignored `before_id` and only the newest `rows` of `upstream_total` could be mirrored.
    """

    present: bool
    rows: int
    synced_at: datetime | None
    full_synced_at: datetime | None
    complete: bool
    upstream_total: int | None
    limited: bool
    newest_id: int | None = None
    syncing: bool = False

    def age(self, now: datetime | None = None) -> timedelta | None:
        return None if self.synced_at is None else _now(now) - self.synced_at


@dataclass(frozen=True, slots=True)
class PageAdded:
    """What one upstream page contributed to a full sync.

    A page that adds nothing new (`added == 0` while `repeated > 0`) means the server ignores
    `before_id`; the caller then finishes with `limited=True`.
    """

    added: int
    repeated: int
    oldest_id: int | None


EMPTY_STATUS = MirrorStatus(
    present=False,
    rows=0,
    synced_at=None,
    full_synced_at=None,
    complete=False,
    upstream_total=None,
    limited=False,
)


def licence_identity(key: str, domain: str, email: str) -> str:
    """The key everything stored for one licence is kept under (the manual keys its cache by
    an md5 of the domain; another key or e-mail is another licence too). A digest, so the
    licence key itself is never written to the store."""
    text = "\n".join((key, domain.strip().lower(), email.strip().lower()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
