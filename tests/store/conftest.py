"""Store fixtures: a fresh store on each engine (via `db_url`), a pinned clock, transactions."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tokenusage.licenseapi.models import Transaction
from tokenusage.store import MirrorRow, Store
from tokenusage.store.schema import mirror_generations, mirror_rows

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
DOMAIN = "a" * 32
OTHER = "b" * 32


class Clock:
    """A settable "now" so status timestamps and abandoned-sync ages are exact in tests."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(db_url: str, clock: Clock) -> Iterator[Store]:
    with Store.open(db_url, clock=clock) as opened:
        yield opened


def tx(i: int, **fields: object) -> Transaction:
    """Transaction `i`: ids grow with time like upstream; amounts exercise 8 decimals."""
    values: dict[str, object] = {
        "id": i,
        "created_at": T0 + timedelta(minutes=i),
        "type": "usage",
        "service_type": "chat via openai",
        "amount": Decimal(-i) / Decimal(100_000_000),
        "tokens_used": 10 * i,
        "images_processed": i % 3,
        "description": f"call {i} (gpt-4o)",
        "input_tokens": 7 * i,
        "completion_tokens": 3 * i,
        "cached_tokens": None,
    }
    values.update(fields)
    return Transaction.model_validate(values)


def txs(ids: Iterable[int]) -> list[Transaction]:
    return [tx(i) for i in ids]


def full_sync(store: Store, domain: str, ids_newest_first: list[int], page_size: int) -> None:
    with store.full_sync(domain) as sync:
        for start in range(0, len(ids_newest_first), page_size):
            sync.add_page(txs(ids_newest_first[start : start + page_size]))
        sync.finish(total=len(ids_newest_first))


def page(store: Store, domain: str, number: int, per_page: int) -> list[MirrorRow]:
    """Page `number` (1-based) as the dashboard reads it."""
    return store.page_with_status(domain, per_page, lambda _rows: number)[1]


def all_rows(store: Store, domain: str, per_page: int = 300) -> list[MirrorRow]:
    """Every row by walking the pages, the way the dashboard does."""
    rows: list[MirrorRow] = []
    number = 1
    while found := page(store, domain, number, per_page):
        rows.extend(found)
        number += 1
    return rows


def all_ids(store: Store, domain: str, per_page: int = 300) -> list[int]:
    return [r.id for r in all_rows(store, domain, per_page)]


def count(store: Store, domain: str) -> int:
    return store.mirror_status(domain).rows


def stored_rows(store: Store, domain: str) -> tuple[int, int | None, int | None]:
    """(rows of every generation of `domain`, min seq, max seq): checks nothing is left over."""
    with store._db.read() as conn:
        row = conn.execute(
            select(func.count(), func.min(mirror_rows.c.seq), func.max(mirror_rows.c.seq))
            .select_from(mirror_rows.join(mirror_generations))
            .where(mirror_generations.c.domain_hash == domain)
        ).one()
    return int(row[0]), row[1], row[2]
