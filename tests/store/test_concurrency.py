"""The service calls the store from worker threads: readers and writers must not trip over
each other (no "database is locked", never a half-written page)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from tests.store.conftest import DOMAIN, count, full_sync, page, txs
from tokenusage.licenseapi.models import Pricing
from tokenusage.store import Store

PRICING = Pricing(
    image_processing_per_10k="1",
    input_tokens_per_1m="2",
    completion_tokens_per_1m="3",
    cached_tokens_per_1m="4",
)


def run_threads(targets: list[Callable[[], None]]) -> list[BaseException]:
    errors: list[BaseException] = []

    def guard(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=guard, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_readers_and_writers_in_threads(store: Store) -> None:
    full_sync(store, DOMAIN, list(range(500, 0, -1)), page_size=200)
    done = threading.Event()

    def appender() -> None:
        try:
            for start in range(501, 1001, 25):
                store.append_newer(DOMAIN, txs(range(start, start + 25)))
        finally:
            done.set()

    def reader() -> None:
        while not done.is_set():
            rows = page(store, DOMAIN, 2, 100)
            ids = [r.id for r in rows]
            assert len(ids) == 100
            assert ids == list(range(ids[0], ids[0] - 100, -1))  # contiguous, newest first

    def resyncer() -> None:
        full_sync(store, "c" * 32, list(range(300, 0, -1)), page_size=50)

    def pricer() -> None:
        for n in range(20):
            store.put_pricing(f"key-{n % 3}", PRICING)
            store.get_pricing("key-0")

    errors = run_threads([appender, resyncer, *[reader] * 3, *[pricer] * 3])
    assert errors == []
    assert count(store, DOMAIN) == 1000
    assert count(store, "c" * 32) == 300
