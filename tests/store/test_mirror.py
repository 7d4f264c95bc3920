from __future__ import annotations

from datetime import timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.store.conftest import (
    DOMAIN,
    OTHER,
    T0,
    Clock,
    all_ids,
    count,
    full_sync,
    page,
    stored_rows,
    tx,
    txs,
)
from tokenusage.store import MirrorRow, Store
from tokenusage.store.schema import mirror_rows


def expected_row(i: int) -> MirrorRow:
    return MirrorRow.from_transaction(tx(i))


def test_full_sync_in_pages_then_first_middle_last_page(store: Store) -> None:
    ids = list(range(7500, 0, -3))  # 2500 ids with gaps, newest first
    full_sync(store, DOMAIN, ids, page_size=1000)

    assert count(store, DOMAIN) == 2500
    assert page(store, DOMAIN, 1, 300) == [expected_row(i) for i in ids[:300]]
    assert [r.id for r in page(store, DOMAIN, 5, 300)] == ids[1200:1500]
    last = page(store, DOMAIN, 9, 300)
    assert [r.id for r in last] == ids[2400:]
    assert len(last) == 100
    assert page(store, DOMAIN, 10, 300) == []
    assert all_ids(store, DOMAIN, 300) == ids


def test_rows_round_trip_exactly(store: Store) -> None:
    plus_five = timezone(timedelta(hours=5))
    odd = [
        tx(3, amount=Decimal("0.00000001"), created_at=T0.astimezone(plus_five)),
        tx(2, amount=Decimal("-12345678.123456789012"), type="refund", cached_tokens=0),
        tx(
            1, amount=Decimal("250"), type="purchase", description="ünïcode — ok", input_tokens=None
        ),
    ]
    with store.full_sync(DOMAIN) as sync:
        sync.add_page(odd)
        sync.finish(total=3)

    rows = page(store, DOMAIN, 1, 10)
    assert rows == [MirrorRow.from_transaction(t) for t in odd]
    assert rows[0].amount == Decimal("0.00000001")
    assert str(rows[1].amount) == "-12345678.123456789012"
    assert rows[0].created_at == T0
    assert all(r.created_at.utcoffset() == timedelta(0) for r in rows)
    # The bulk insert writes timestamps exactly as the column type would: SQL comparisons work.
    with store._db.read() as conn:
        found = conn.execute(select(mirror_rows.c.id).where(mirror_rows.c.created_at == T0))
        assert found.scalars().all() == [3]


def test_incremental_append_keeps_pages_contiguous(store: Store, clock: Clock) -> None:
    full_sync(store, DOMAIN, list(range(1000, 0, -1)), page_size=400)
    batch = txs([1150, *range(1001, 1150), 1010, 999, 500])  # unsorted, a repeat, old ids

    assert store.append_newer(DOMAIN, batch, total=1150) == 150
    assert count(store, DOMAIN) == 1150
    assert store.newest_id(DOMAIN) == 1150
    assert [r.id for r in page(store, DOMAIN, 1, 300)] == list(range(1150, 850, -1))
    assert all_ids(store, DOMAIN, 300) == list(range(1150, 0, -1))
    assert stored_rows(store, DOMAIN)[0] == 1150

    clock.advance(60)
    assert store.append_newer(DOMAIN, txs([1150, 3])) == 0
    status = store.mirror_status(DOMAIN)
    assert status.synced_at == clock.now
    assert status.upstream_total == 1150


def test_append_on_an_empty_mirror_does_nothing(store: Store) -> None:
    assert store.append_newer(DOMAIN, txs([1, 2])) == 0
    assert count(store, DOMAIN) == 0
    assert store.newest_id(DOMAIN) is None
    assert not store.mirror_status(DOMAIN).present


def test_repeated_ids_are_reported_and_never_stored_twice(store: Store) -> None:
    first = txs([10, 9, 9, 8, 10, 7])
    with store.full_sync(DOMAIN) as sync:
        added = sync.add_page(first)
        assert (added.added, added.repeated, added.oldest_id) == (4, 2, 7)
        # A server that ignores before_id sends the newest page again: nothing new.
        again = sync.add_page(txs([10, 9, 8, 7]))
        assert (again.added, again.repeated) == (0, 4)
        partly = sync.add_page(txs([8, 7, 6, 5]))
        assert (partly.added, partly.repeated, partly.oldest_id) == (2, 2, 5)
        sync.finish(total=5000, limited=True)

    assert all_ids(store, DOMAIN) == [10, 9, 8, 7, 6, 5]
    status = store.mirror_status(DOMAIN)
    assert (status.rows, status.upstream_total, status.limited, status.complete) == (
        6,
        5000,
        True,
        False,
    )


def test_two_domains_never_see_each_others_rows(store: Store) -> None:
    full_sync(store, DOMAIN, list(range(100, 0, -1)), page_size=30)
    full_sync(store, OTHER, list(range(60, 20, -1)), page_size=30)
    store.append_newer(OTHER, txs([61]))

    assert all_ids(store, DOMAIN) == list(range(100, 0, -1))
    assert all_ids(store, OTHER) == list(range(61, 20, -1))
    assert store.clear_transactions(DOMAIN) == 100
    assert count(store, DOMAIN) == 0
    assert count(store, OTHER) == 41


def test_page_one_is_the_newest_rows(store: Store) -> None:
    full_sync(store, DOMAIN, list(range(20, 0, -1)), page_size=20)
    assert [r.id for r in page(store, DOMAIN, 1, 5)] == [20, 19, 18, 17, 16]
    assert page(store, OTHER, 1, 5) == []


def test_page_arguments_start_at_one(store: Store) -> None:
    full_sync(store, DOMAIN, [1], page_size=1)
    with pytest.raises(ValueError):
        page(store, DOMAIN, 0, 300)
    with pytest.raises(ValueError):
        page(store, DOMAIN, 1, 0)


def test_status_follows_full_and_incremental_syncs(store: Store, clock: Clock) -> None:
    empty = store.mirror_status(DOMAIN)
    assert (empty.present, empty.rows, empty.synced_at, empty.complete) == (False, 0, None, False)

    with store.full_sync(DOMAIN) as sync:
        sync.add_page(txs([5, 4, 3]))
        assert store.mirror_status(DOMAIN).syncing
        full_at = clock.advance(5)
        sync.finish(total=3)
    status = store.mirror_status(DOMAIN)
    assert status.present and status.complete and not status.limited and not status.syncing
    assert (status.rows, status.upstream_total, status.newest_id) == (3, 3, 5)
    assert status.full_synced_at == status.synced_at == full_at
    assert status.age(full_at + timedelta(seconds=30)) == timedelta(seconds=30)

    appended_at = clock.advance(3600)
    store.append_newer(DOMAIN, txs([6]), total=4)
    status = store.mirror_status(DOMAIN)
    assert (status.rows, status.upstream_total, status.newest_id) == (4, 4, 6)
    assert (status.full_synced_at, status.synced_at) == (full_at, appended_at)


def test_clear_operations_return_what_they_removed(store: Store) -> None:
    from tokenusage.licenseapi.models import Pricing, UserStats

    full_sync(store, DOMAIN, list(range(50, 0, -1)), page_size=20)
    full_sync(store, OTHER, list(range(10, 0, -1)), page_size=20)
    pricing = Pricing(
        image_processing_per_10k="1",
        input_tokens_per_1m="2",
        completion_tokens_per_1m="3",
        cached_tokens_per_1m="4",
    )
    store.put_pricing("https://a.example/api.php", pricing)
    store.put_pricing("https://b.example/api.php", pricing)
    stats = UserStats(balance="1", credits_used="2", tokens_used=3, api_calls=4, images_processed=5)
    store.put_snapshot(DOMAIN, "user_stats", stats)
    store.upsert_admin("admin", "$argon2id$x")

    assert store.clear_transactions(DOMAIN) == 50
    assert store.clear_transactions(DOMAIN) == 0
    assert store.clear_all() == {"pricing": 2, "snapshots": 1, "transactions": 10}
    assert store.clear_all() == {"pricing": 0, "snapshots": 0, "transactions": 0}
    assert store.admin_exists("admin")
    assert stored_rows(store, OTHER) == (0, None, None)
