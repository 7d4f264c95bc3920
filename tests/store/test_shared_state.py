"""What replicas share through the store: session records, the sign-in throttle's counts and
leases, on both engines."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from tests.store.conftest import Clock
from tokenusage.store import Store

SID = "f" * 64


def test_a_session_record_and_the_admins_current_hash(store: Store, clock: Clock) -> None:
    store.upsert_admin("alice", "hash-1")
    writes = store.writes
    store.create_session(SID, "alice", "seal-1")
    record = store.get_session(SID)
    assert record is not None
    assert (record.admin, record.seal, record.password_hash) == ("alice", "seal-1", "hash-1")
    assert record.created_at == record.seen_at == clock.now
    clock.advance(30)
    store.touch_session(SID)
    touched = store.get_session(SID)
    assert touched is not None and touched.seen_at == clock.now and touched.created_at < clock.now
    assert store.writes == writes, "session writes do not retire what views memoised"
    store.upsert_admin("alice", "hash-2")
    changed = store.get_session(SID)
    assert changed is not None and changed.password_hash == "hash-2"
    assert store.delete_session(SID) == 1
    assert store.get_session(SID) is None


def test_a_session_of_a_removed_admin_has_no_hash(store: Store) -> None:
    store.create_session(SID, "ghost", "seal")
    record = store.get_session(SID)
    assert record is not None and record.password_hash is None


def test_ending_every_session_of_an_admin(store: Store) -> None:
    for n in range(3):
        store.create_session(f"{n}" * 64, "alice", "s")
    store.create_session("9" * 64, "bob", "s")
    assert store.delete_admin_sessions("alice") == 3
    assert store.get_session("9" * 64) is not None


def test_expired_sessions_are_purged(store: Store, clock: Clock) -> None:
    store.create_session("1" * 64, "alice", "s")  # will be idle
    clock.advance(3000)
    store.create_session("2" * 64, "alice", "s")  # active but old
    store.create_session("3" * 64, "alice", "s")
    clock.advance(100)
    store.touch_session("2" * 64)
    store.touch_session("3" * 64)
    assert store.purge_sessions(timedelta(seconds=600), timedelta(seconds=3050)) == 1
    clock.advance(3000)
    store.touch_session("3" * 64)
    assert store.purge_sessions(timedelta(seconds=600), timedelta(days=1)) == 1
    assert store.get_session("3" * 64) is not None


def test_throttle_counts_failures_in_a_window(store: Store, clock: Clock) -> None:
    key = "k" * 64
    assert [store.throttle_attempt(key, 3, 60) for _ in range(3)] == [0.0, 0.0, 0.0]
    clock.advance(10)
    assert store.throttle_attempt(key, 3, 60) == 50
    clock.advance(50)
    assert store.throttle_attempt(key, 3, 60) == 0.0, "the oldest failure left the window"
    store.throttle_clear(key)
    assert store.throttle_attempt(key, 1, 60) == 0.0
    assert store.throttle_attempt("x" * 64, 1, 60) == 0.0, "keys are counted apart"


def test_parallel_attempts_get_exactly_the_limit(db_url: str) -> None:
    stores = [Store.open(db_url) for _ in range(2)]  # two replicas
    try:
        with ThreadPoolExecutor(12) as pool:
            waits = list(
                pool.map(lambda n: stores[n % 2].throttle_attempt("k" * 64, 5, 60), range(24))
            )
    finally:
        for store in stores:
            store.close()
    assert waits.count(0.0) == 5, waits


def test_a_lease_has_one_holder_until_released_or_expired(store: Store, clock: Clock) -> None:
    ttl = timedelta(seconds=15)
    assert store.acquire_lease("sync", "a", ttl)
    assert not store.acquire_lease("sync", "b", ttl)
    assert store.acquire_lease("sync", "a", ttl), "the holder may take it again"
    assert store.lease_holder("sync") == "a"
    clock.advance(10)
    assert store.renew_lease("sync", "a", ttl)
    clock.advance(10)
    assert not store.acquire_lease("sync", "b", ttl), "renewed: not expired yet"
    store.release_lease("sync", "b")  # not b's to release
    assert store.lease_holder("sync") == "a"
    store.release_lease("sync", "a")
    assert store.lease_holder("sync") is None
    assert store.acquire_lease("sync", "b", ttl)
    clock.advance(16)
    assert store.lease_holder("sync") is None
    assert not store.renew_lease("sync", "c", ttl)
    assert store.acquire_lease("sync", "c", ttl), "an expired lease is free"
    assert not store.renew_lease("sync", "b", ttl), "b lost it"


def test_parallel_acquires_have_one_winner(db_url: str) -> None:
    stores = [Store.open(db_url) for _ in range(2)]
    try:
        with ThreadPoolExecutor(8) as pool:
            won = list(
                pool.map(
                    lambda n: stores[n % 2].acquire_lease("sync", f"h{n}", timedelta(seconds=30)),
                    range(16),
                )
            )
    finally:
        for store in stores:
            store.close()
    assert won.count(True) == 1
