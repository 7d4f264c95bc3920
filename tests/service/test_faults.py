"""The data path never mislabels what it shows: a License API that fails, lies, stalls or
pages wrongly, in front of the real reference server (`tests.support.faultproxy`), on both
store engines."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures import RunningLicenseServer
from tests.service.conftest import make_service
from tests.support.faultproxy import FaultProxy, Forward, Reply, on
from tokenusage.service import DashboardService, Kind, Problem, Where
from tokenusage.store import MirrorStatus, Store

pytestmark = pytest.mark.anyio
HISTORY = "credits/history"


def service_for(
    upstream: RunningLicenseServer, proxy: FaultProxy, db_url: str, tmp_path: Path, **extra: Any
) -> DashboardService:
    return make_service(upstream, db_url, tmp_path, api_url=proxy.url, failure_backoff=0, **extra)


async def mirrored(
    upstream: RunningLicenseServer, proxy: FaultProxy, db_url: str, tmp: Path
) -> None:
    """A complete mirror of the 1,200 transactions, made while the API behaved."""
    service = service_for(upstream, proxy, db_url, tmp)
    try:
        await service.view()
        await service.wait_idle()
        assert service.store is not None
        assert service.store.mirror_status(service.identity).rows == 1200
    finally:
        await service.aclose()


async def refreshed(service: DashboardService) -> tuple[list[Problem], MirrorStatus]:
    """Refresh Data's problems and the mirror it left; the service is closed after."""
    try:
        problems = await service.refresh_all()
        assert service.store is not None
        return problems, service.store.mirror_status(service.identity)
    finally:
        await service.aclose()


def history_kinds(problems: list[Any]) -> set[Kind]:
    return {p.kind for p in problems if p.where is Where.HISTORY}


# -- 1. history fails: the page says stored, with its age, and the problem ---------------------

HISTORY_FAULTS = {
    "500": Reply(500),
    "503": Reply(503, b"Service Unavailable", "text/plain"),
    "wrong type": Reply(200, b'{"total": 1200, "transactions": "none"}'),
    "truncated": Reply(200, b'{"total": 1200, "transactions": [{"id": 1, "created'),
}


@pytest.mark.parametrize("fault", list(HISTORY_FAULTS))
async def test_history_failing_is_labelled_stored(
    upstream: RunningLicenseServer, proxy: FaultProxy, db_url: str, tmp_path: Path, fault: str
) -> None:
    await mirrored(upstream, proxy, db_url, tmp_path)
    proxy.rules.append(on(HISTORY, HISTORY_FAULTS[fault]))
    service = service_for(upstream, proxy, db_url, tmp_path, transactions_ttl=0, retries=0)
    try:
        view = await service.view()
    finally:
        await service.aclose()
    tcache = view.transactions_cache
    assert tcache.source == "cached" and tcache.fetched_at is not None
    assert view.stale and view.window.total == 1200 and len(view.transactions) == 300
    expected = Kind.UPSTREAM_ERROR if fault in ("500", "503") else Kind.BAD_RESPONSE
    assert history_kinds(view.problems) == {expected}
    assert not view.complete


# -- 2. a cold sync that failed is not a success ------------------------------------------------


async def test_cold_sync_failing_behind_the_first_page_is_reported(
    upstream: RunningLicenseServer,
    proxy: FaultProxy,
    db_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    proxy.rules.append(on(HISTORY, Reply(500), when=lambda c: "before_id" in c.params))
    service = service_for(upstream, proxy, db_url, tmp_path, retries=0)
    try:
        with caplog.at_level(logging.WARNING, logger="tokenusage"):
            complete = await service.view(complete=True)  # what `status` asks for
            first = await service.view()  # what a page asks for: the first page, then...
            await service.wait_idle()
            later = await service.view()  # ...the failure of the sync behind it
        assert service.store is not None
        assert not service.store.mirror_status(service.identity).present
    finally:
        await service.aclose()
    assert history_kinds(complete.problems) == {Kind.UPSTREAM_ERROR} and not complete.complete
    assert first.transactions, "the first page is still shown"
    assert history_kinds(later.problems) == {Kind.UPSTREAM_ERROR}
    # The server's log says it in one line: a known failure is not a traceback.
    mirrored_logs = [r for r in caplog.records if "could not be mirrored" in r.getMessage()]
    assert mirrored_logs and not any(r.exc_info for r in mirrored_logs)


# -- 3. a server that ignores before_id cannot replace a complete mirror ----------------------


async def test_paging_fault_keeps_the_previous_complete_copy(
    upstream: RunningLicenseServer, proxy: FaultProxy, db_url: str, tmp_path: Path
) -> None:
    await mirrored(upstream, proxy, db_url, tmp_path)
    proxy.rules.append(on(HISTORY, Forward(drop=("before_id",))))
    service = service_for(upstream, proxy, db_url, tmp_path)
    try:
        problems = await service.refresh_all()
        view = await service.view(page=4)
    finally:
        await service.aclose()
    assert {p.kind for p in problems} == {Kind.PAGING_FAULT}
    assert "1,200" in problems[0].message
    assert view.window.total == 1200 and len(view.transactions) == 300
    assert not view.transactions_cache.limited


async def test_paging_fault_on_an_empty_store_keeps_the_partial_copy_labelled(
    upstream: RunningLicenseServer, proxy: FaultProxy, db_url: str, tmp_path: Path
) -> None:
    proxy.rules.append(on(HISTORY, Forward(drop=("before_id",))))
    service = service_for(upstream, proxy, db_url, tmp_path)
    problems, status = await refreshed(service)
    assert {p.kind for p in problems} == {Kind.PAGING_FAULT}
    assert status.present and status.limited and status.rows == 500
    assert status.upstream_total == 1200


# -- 4. a view never waits longer than the timeout; a sync has its own deadline --------------


async def test_a_stalled_history_does_not_hold_the_view(
    upstream: RunningLicenseServer, proxy: FaultProxy, db_url: str, tmp_path: Path
) -> None:
    await mirrored(upstream, proxy, db_url, tmp_path)
    proxy.rules.append(on(HISTORY, Forward(delay=4)))
    service = service_for(upstream, proxy, db_url, tmp_path, transactions_ttl=0, timeout=1.0)
    try:
        started = time.monotonic()
        view = await service.view()
        took = time.monotonic() - started
    finally:
        await service.aclose(wait=False)
    assert took < 2.0, f"the view waited {took:.1f} s with timeout=1"
    assert view.transactions_cache.source == "cached" and view.window.total == 1200
    assert history_kinds(view.problems) == {Kind.TIMEOUT}


async def test_a_full_sync_stops_at_its_deadline_and_keeps_the_previous_copy(
    upstream: RunningLicenseServer, proxy: FaultProxy, db_url: str, tmp_path: Path
) -> None:
    await mirrored(upstream, proxy, db_url, tmp_path)
    proxy.rules.append(on(HISTORY, Forward(delay=0.6), when=lambda c: "before_id" in c.params))
    service = service_for(upstream, proxy, db_url, tmp_path, sync_deadline=1.0, timeout=5.0)
    problems, status = await refreshed(service)
    assert {p.kind for p in problems} == {Kind.TIMEOUT}
    assert "sync_deadline" in problems[0].message
    assert status.rows == 1200 and not status.limited and not status.syncing


async def test_a_running_full_sync_shows_its_progress(
    upstream: RunningLicenseServer, proxy: FaultProxy, db_url: str, tmp_path: Path
) -> None:
    # Every page after the first takes 1.5 s: well inside the 3 s a request may take (a page
    # held until released could outlive it on a loaded machine), and the copy of the later
    # pages still runs past the 3 s Refresh Data waits.
    later_pages = Forward(delay=1.5)
    proxy.rules.append(
        on(HISTORY, later_pages, when=lambda c: int(c.params.get("before_id", 10**9)) < 800)
    )
    service = service_for(upstream, proxy, db_url, tmp_path, timeout=3.0)
    try:
        # Refresh waits `timeout` at most, then the copy goes on behind it.
        assert await service.refresh_all() == []
        assert service.syncing
        view = await service.view(page=1)
        await service.wait_idle()
        done = await service.view(page=1)
    finally:
        await service.aclose()
    progress = view.transactions_cache.progress
    assert view.transactions_cache.syncing
    assert progress is not None and progress.total == 1200 and 500 <= progress.rows < 1200
    assert not done.transactions_cache.syncing and done.transactions_cache.progress is None


# -- 5. a NUL byte in upstream text is stored the same on both engines ------------------------


def _with_nul(payload: Any) -> Any:
    data = payload.get("data", payload)
    for tx in data["transactions"]:
        tx["description"] = "before\u0000after " + tx["description"]
        tx["service_type"] = "svc\u0000" + tx["service_type"]
    return payload


async def test_nul_in_descriptions_syncs_on_both_engines(
    upstream: RunningLicenseServer, proxy: FaultProxy, db_url: str, tmp_path: Path
) -> None:
    proxy.rules.append(on(HISTORY, Forward(edit=_with_nul)))
    service = service_for(upstream, proxy, db_url, tmp_path)
    try:
        assert await service.refresh_all() == []
        view = await service.view(page=4)
    finally:
        await service.aclose()
    assert view.problems == [] and not view.transactions_cache.syncing
    assert view.window.total == 1200 and len(view.transactions) == 300
    row = view.transactions[0]
    assert row.description.startswith("before\ufffdafter ") and "\x00" not in row.description
    assert row.service_type.startswith("svc\ufffd")


# -- 7. another licence's data is never shown ----------------------------------------------


async def test_data_of_another_licence_is_never_shown(
    upstream: RunningLicenseServer, proxy: FaultProxy, db_url: str, tmp_path: Path
) -> None:
    await mirrored(upstream, proxy, db_url, tmp_path)
    other = service_for(upstream, proxy, db_url, tmp_path, license_key="CTZ-WRONG-KEY-0000")
    try:
        view = await other.view()
    finally:
        await other.aclose()
    assert not view.has_data and view.stats is None and view.transactions == []
    assert {p.kind for p in view.problems} == {Kind.LICENCE_REFUSED}


# -- 8. two replicas pressing Refresh at once ----------------------------------------------


async def test_two_replicas_refreshing_at_once_both_succeed(
    upstream: RunningLicenseServer, proxy: FaultProxy, db_url: str, tmp_path: Path
) -> None:
    await mirrored(upstream, proxy, db_url, tmp_path)
    # Slow pages, so that the two full syncs overlap and one supersedes the other.
    proxy.rules.append(on(HISTORY, Forward(delay=0.3)))
    a = service_for(upstream, proxy, db_url, tmp_path)
    b = service_for(upstream, proxy, db_url, tmp_path)
    try:
        first, second = await asyncio.gather(a.refresh_all(), b.refresh_all())
    finally:
        await a.aclose()
        await b.aclose()
    assert first == [] and second == []
    with Store(db_url) as store:
        status = store.mirror_status(a.identity)
    assert status.rows == 1200 and status.complete


# -- 9. Update Pricing lands on a page that says Live ---------------------------------------


async def test_pricing_is_live_on_the_page_an_update_lands_on(
    upstream: RunningLicenseServer, proxy: FaultProxy, db_url: str, tmp_path: Path
) -> None:
    await mirrored(upstream, proxy, db_url, tmp_path)
    service = service_for(upstream, proxy, db_url, tmp_path)
    try:
        before = await service.view()
        since = service.clock()
        assert await service.refresh_pricing() == []
        landed = await service.view(live_since=since)
        later = await service.view()
    finally:
        await service.aclose()
    assert before.pricing_cache.source == "cached"
    assert landed.pricing_cache.source == "live"
    assert landed.pricing_cache.fetched_at is not None
    assert landed.pricing_cache.fetched_at >= since
    assert later.pricing_cache.source == "cached"
    assert later.pricing_cache.fetched_at == landed.pricing_cache.fetched_at
