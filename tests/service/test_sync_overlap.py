"""A full sync asks for the next page while it writes the current one. A write that fails
then stops that fetch (no request after it), and the previous copy stays whole."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures import RunningLicenseServer
from tests.service.test_faults import HISTORY, mirrored, refreshed, service_for
from tests.support.faultproxy import FaultProxy, Forward, on
from tokenusage.service import Kind
from tokenusage.store import FullSync, StoreError

pytestmark = pytest.mark.anyio


async def test_a_failed_write_stops_the_next_fetch_and_keeps_the_previous_copy(
    upstream: RunningLicenseServer,
    proxy: FaultProxy,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await mirrored(upstream, proxy, db_url, tmp_path)
    written = 0
    real = FullSync.add_page

    def add_page(self: FullSync, transactions: Any) -> Any:
        nonlocal written
        written += 1
        if written == 2:
            raise StoreError("disk full (injected)")
        return real(self, transactions)

    monkeypatch.setattr(FullSync, "add_page", add_page)
    # Page 3 is still travelling when page 2's write fails.
    proxy.rules.append(on(HISTORY, Forward(delay=0.5), when=lambda c: "before_id" in c.params))
    proxy.seen.clear()
    service = service_for(upstream, proxy, db_url, tmp_path, history_page_size=100)
    problems, status = await refreshed(service)
    assert {p.kind for p in problems} == {Kind.STORE_UNAVAILABLE}
    assert status.rows == 1200 and not status.limited and not status.syncing
    asked = [c for c in proxy.seen if c.endpoint == HISTORY]
    assert len(asked) == 3, [c.params for c in asked]  # pages 1 and 2, and 3 in flight
    assert written == 2


async def test_the_next_page_is_fetched_while_one_is_written(
    upstream: RunningLicenseServer,
    proxy: FaultProxy,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked_by_then: list[int] = []
    real = FullSync.add_page

    def add_page(self: FullSync, transactions: Any) -> Any:
        time.sleep(0.3)  # a slow write: the next page is asked for meanwhile
        asked_by_then.append(sum(1 for c in proxy.seen if c.endpoint == HISTORY))
        return real(self, transactions)

    monkeypatch.setattr(FullSync, "add_page", add_page)
    service = service_for(upstream, proxy, db_url, tmp_path, history_page_size=300)
    problems, status = await refreshed(service)
    assert not problems and status.rows == 1200
    # When page k's write ends, page k + 1 has been asked for (one after the other: only k).
    assert asked_by_then == [2, 3, 4, 5], asked_by_then
