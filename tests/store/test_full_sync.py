"""A full sync is atomic: readers see the old mirror, whole, until `finish()` commits."""

from __future__ import annotations

import pytest

from tests.store.conftest import DOMAIN, OTHER, Clock, all_ids, full_sync, page, stored_rows, txs
from tokenusage.store import Store, SyncSuperseded
from tokenusage.store.sync import begin


class UpstreamFailed(Exception):
    pass


def test_failure_mid_sync_leaves_the_previous_mirror_whole(store: Store, clock: Clock) -> None:
    full_sync(store, DOMAIN, list(range(100, 0, -1)), page_size=40)
    before = store.mirror_status(DOMAIN)
    clock.advance(60)

    with pytest.raises(UpstreamFailed), store.full_sync(DOMAIN) as sync:
        sync.add_page(txs(range(300, 200, -1)))
        assert all_ids(store, DOMAIN) == list(range(100, 0, -1))  # readers: old mirror
        raise UpstreamFailed

    assert all_ids(store, DOMAIN) == list(range(100, 0, -1))
    assert store.mirror_status(DOMAIN) == before
    assert stored_rows(store, DOMAIN) == (100, -99, 0)


def test_second_full_sync_replaces_the_first(store: Store) -> None:
    full_sync(store, DOMAIN, list(range(100, 0, -1)), page_size=40)
    store.append_newer(DOMAIN, txs([101, 102]))
    full_sync(store, DOMAIN, list(range(500, 450, -1)), page_size=20)

    assert all_ids(store, DOMAIN) == list(range(500, 450, -1))
    assert store.newest_id(DOMAIN) == 500
    assert stored_rows(store, DOMAIN) == (50, -49, 0)


def test_leaving_without_finish_discards(store: Store) -> None:
    full_sync(store, DOMAIN, [3, 2, 1], page_size=3)
    with store.full_sync(DOMAIN) as sync:
        sync.add_page(txs([9, 8]))
    assert all_ids(store, DOMAIN) == [3, 2, 1]
    assert stored_rows(store, DOMAIN)[0] == 3


def test_an_empty_full_sync_is_a_present_empty_mirror(store: Store) -> None:
    full_sync(store, DOMAIN, [3, 2, 1], page_size=3)
    with store.full_sync(DOMAIN) as sync:
        sync.finish(total=0)
    status = store.mirror_status(DOMAIN)
    assert (status.present, status.rows, status.newest_id) == (True, 0, None)
    assert page(store, DOMAIN, 1, 300) == []
    assert store.append_newer(DOMAIN, txs([1, 2])) == 2
    assert all_ids(store, DOMAIN) == [2, 1]


def test_a_newer_sync_or_a_clear_supersedes_one_in_progress(store: Store) -> None:
    with store.full_sync(DOMAIN) as first:
        first.add_page(txs([5, 4]))
        with store.full_sync(DOMAIN) as second:
            with pytest.raises(SyncSuperseded):
                first.add_page(txs([3]))
            second.add_page(txs([7, 6]))
            second.finish(total=2)
        with pytest.raises(SyncSuperseded):
            first.finish(total=2)
    assert all_ids(store, DOMAIN) == [7, 6]

    with store.full_sync(DOMAIN) as third:
        third.add_page(txs([9, 8]))
        assert store.clear_transactions(DOMAIN) == 4
        with pytest.raises(SyncSuperseded):
            third.finish(total=2)
    assert not store.mirror_status(DOMAIN).present
    assert stored_rows(store, DOMAIN)[0] == 0


def test_a_finished_sync_cannot_be_fed_again(store: Store) -> None:
    with store.full_sync(DOMAIN) as sync:
        sync.finish(total=0)
        with pytest.raises(RuntimeError):
            sync.add_page(txs([1]))
        with pytest.raises(RuntimeError):
            sync.finish(total=0)


def test_rows_of_a_crashed_sync_are_removed_later(store: Store, db_url: str, clock: Clock) -> None:
    full_sync(store, DOMAIN, [3, 2, 1], page_size=3)
    # Feed a sync and never finish or discard it: what a killed process leaves behind.
    begin(store._db, DOMAIN, clock).add_page(txs([30, 20, 10]))
    begin(store._db, OTHER, clock).add_page(txs([40]))
    assert stored_rows(store, DOMAIN)[0] == 6
    assert store.mirror_status(DOMAIN).syncing

    clock.advance(60)  # a sync that touched its rows a minute ago may still be running
    Store.open(db_url, clock=clock).close()
    assert stored_rows(store, DOMAIN)[0] == 6

    clock.advance(3600)
    with Store.open(db_url, clock=clock) as restarted:
        assert all_ids(restarted, DOMAIN) == [3, 2, 1]
    assert stored_rows(store, DOMAIN) == (3, -2, 0)
    assert stored_rows(store, OTHER) == (0, None, None)
    assert not store.mirror_status(DOMAIN).syncing


def test_a_new_full_sync_removes_a_crashed_one_at_once(store: Store, clock: Clock) -> None:
    begin(store._db, DOMAIN, clock).add_page(txs([30, 20, 10]))
    full_sync(store, DOMAIN, [2, 1], page_size=3)
    assert stored_rows(store, DOMAIN) == (2, -1, 0)


def test_old_generations_are_purged_in_chunks(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tokenusage.store.mirror.PURGE_CHUNK", 7)
    full_sync(store, DOMAIN, list(range(100, 0, -1)), page_size=30)
    store.append_newer(DOMAIN, txs(range(101, 111)))
    full_sync(store, DOMAIN, list(range(50, 0, -1)), page_size=30)
    assert stored_rows(store, DOMAIN) == (50, -49, 0)
    assert store.clear_transactions(DOMAIN) == 50
    assert stored_rows(store, DOMAIN) == (0, None, None)
