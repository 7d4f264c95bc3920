"""Replicas that share one PostgreSQL store behave as one dashboard: concurrent cold views on
both start exactly one full history sync (a lease in the store), the other replica waits for
it and answers from what it mirrored."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.fixtures import RunningLicenseServer, running_license_server
from tests.service.conftest import CountingTransport, make_service
from tests.support.pgcluster import Cluster
from tokenusage.service import DashboardService
from tokenusage.service.history import replicas
from tokenusage.store.engine import make_engine
from tokenusage.store.schema import mirror_generations

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[RunningLicenseServer]:
    with running_license_server(f"sqlite:///{tmp_path}/upstream.db", transactions=1200) as s:
        yield s


def generations(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(mirror_generations)).scalar())
    finally:
        engine.dispose()


async def test_fifty_cold_views_on_each_of_two_replicas_start_one_sync(
    srv: RunningLicenseServer, pg_cluster: Cluster, tmp_path: Path
) -> None:
    url = pg_cluster.create_database()
    transports = [CountingTransport(delay=0.05), CountingTransport(delay=0.05)]
    services: list[DashboardService] = [
        make_service(srv, url, tmp_path / name, transport, history_page_size=10000)
        for name, transport in zip("ab", transports, strict=True)
    ]
    try:
        views = await asyncio.gather(*(services[n % 2].view(page=n % 4 + 1) for n in range(100)))
        holder = services[0].store.lease_holder(f"history:{services[0].identity}")  # type: ignore[union-attr]
    finally:
        for service in services:
            await service.aclose()
    assert all(v.problems == [] and v.window.total == 1200 for v in views)
    histories = [t.calls["credits/history"] for t in transports]
    # One sync for both: a first request of one table page, then the rest in one page.
    assert sorted(histories) == [0, 2], histories
    assert generations(url) == 1
    assert holder is None, "the lease is released when the sync ends"


async def test_a_replica_syncs_itself_when_the_holders_sync_failed(
    srv: RunningLicenseServer, pg_cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lease only orders the syncs: a waiter whose mirror is still empty goes on."""
    monkeypatch.setattr(replicas, "POLL", 0.02)
    url = pg_cluster.create_database()
    a = make_service(srv, url, tmp_path / "a")
    b = make_service(srv, url, tmp_path / "b")
    name = f"history:{a.identity}"
    assert a.store is not None and b.store is not None
    try:
        assert a.store.acquire_lease(name, "a crashed replica", replicas.LEASE_TTL)
        waiting = asyncio.ensure_future(b.view())
        await asyncio.sleep(0.3)
        assert not waiting.done(), "b waits for the holder"
        a.store.release_lease(name, "a crashed replica")
        view = await asyncio.wait_for(waiting, 10)
    finally:
        await a.aclose()
        await b.aclose()
    assert view.problems == [] and view.window.total == 1200
