"""DashboardService against the real reference server over loopback, on both store engines."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.fixtures import RunningLicenseServer, running_license_server
from tests.service.conftest import CountingTransport, make_service
from tokenusage.service import DashboardView, ExportRefused
from tokenusage.store import Store, StoreError
from tokenusage.usage.export import HEADER_TEXT, iter_csv
from tokenusage.usage.filters import parse_filters

pytestmark = pytest.mark.anyio


def messages(view: DashboardView) -> list[str]:
    return [p.message for p in view.problems]


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[RunningLicenseServer]:
    with running_license_server(f"sqlite:///{tmp_path}/upstream.db", transactions=1200) as s:
        yield s


def ledger_rows(srv: RunningLicenseServer) -> list[dict[str, object]]:
    return srv.ledger.history(srv.licence_id)["transactions"]  # type: ignore[no-any-return]


async def test_cold_view_matches_the_ledger(
    srv: RunningLicenseServer, db_url: str, tmp_path: Path
) -> None:
    transport = CountingTransport(delay=0.2)
    service = make_service(srv, db_url, tmp_path, transport)
    try:
        view = await service.view(page=2)
    finally:
        await service.aclose()
    expected = srv.ledger.stats(srv.licence_id)
    rows = ledger_rows(srv)
    assert view.problems == []
    assert view.stats is not None and view.stats.balance == Decimal(expected["balance"])
    assert view.account is not None and view.account.email == srv.email
    assert view.window.total == 1200 and view.window.pages == 4 and view.window.page == 2
    assert [t.id for t in view.transactions] == [r["id"] for r in rows[300:600]]
    assert [t.amount for t in view.transactions] == [
        Decimal(str(r["amount"])) for r in rows[300:600]
    ]
    # Page 2 (rows 301-600) lies inside the first upstream page of 500: shown from it, live.
    assert view.transactions_cache.source == "live" and view.transactions_cache.rows == 1200
    assert view.pricing_cache.source == "live"
    assert view.estimates is not None and view.estimates.images is not None
    # aclose() waited for the sync behind the view: 1200 rows at 500 a page, 3 requests
    assert transport.calls["credits/history"] == 3
    assert transport.peak >= 4  # the four upstream fetches of a cold view ran at the same time
    with Store(db_url) as store:
        status = store.mirror_status(service.identity)
    assert status.present and status.rows == 1200 and status.complete


async def test_cold_view_answers_from_the_first_page_before_the_mirror_is_written(
    srv: RunningLicenseServer, db_url: str, tmp_path: Path
) -> None:
    gate = asyncio.Event()

    async def hold_later_pages(request: httpx.Request, _n: int) -> httpx.Request:
        if "before_id" in request.url.params:  # the second page of the full sync
            await gate.wait()
        return request

    service = make_service(srv, db_url, tmp_path, CountingTransport(rewrite=hold_later_pages))
    try:
        # Two cold views at once: the one that joins the sync before it has even started gets
        # the first page too, instead of waiting for the whole history.
        view, twin = await asyncio.wait_for(
            asyncio.gather(service.view(page=1), service.view(page=1)), timeout=10
        )
        assert twin.transactions == view.transactions
        assert view.problems == [] and view.transactions_cache.source == "live"
        assert [t.id for t in view.transactions] == [r["id"] for r in ledger_rows(srv)[:300]]
        assert service.store is not None
        assert not service.store.mirror_status(service.identity).present  # still syncing
        # A page beyond the first upstream page waits for the sync to end.
        deep = asyncio.ensure_future(service.view(page=4))
        await asyncio.sleep(0.2)
        assert not deep.done()
        gate.set()
        view4 = await asyncio.wait_for(deep, timeout=10)
        assert [t.id for t in view4.transactions] == [r["id"] for r in ledger_rows(srv)[900:]]
        assert view4.transactions_cache.source == "live"  # it synced in this very view
    finally:
        gate.set()
        await service.aclose()


async def test_warm_view_makes_no_upstream_call(
    srv: RunningLicenseServer, db_url: str, tmp_path: Path
) -> None:
    transport = CountingTransport()
    service = make_service(srv, db_url, tmp_path, transport)
    try:
        await service.view()
        await service.wait_idle()  # the sync behind the cold view ends
        before = sum(transport.calls.values())
        view = await service.view(page=999)
    finally:
        await service.aclose()
    assert sum(transport.calls.values()) == before
    assert view.window.page == 4 and len(view.transactions) == 300
    assert view.pricing_cache.source == "cached"


async def test_hundred_concurrent_cold_views_share_one_fetch_each(
    srv: RunningLicenseServer, db_url: str, tmp_path: Path
) -> None:
    transport = CountingTransport(delay=0.05)
    service = make_service(srv, db_url, tmp_path, transport, history_page_size=10000)
    try:
        views = await asyncio.gather(*(service.view(page=p % 4 + 1) for p in range(100)))
    finally:
        await service.aclose()
    assert all(v.problems == [] and v.window.total == 1200 for v in views)
    # One sync for all: a first request of one table page (300), then the rest in one page.
    assert transport.calls["credits/history"] == 2
    assert transport.calls["pricing/current"] == 1
    assert transport.calls["user/stats"] == 1 and transport.calls["user/info"] == 1


async def test_incremental_sync_fetches_only_new_rows(
    srv: RunningLicenseServer, db_url: str, tmp_path: Path
) -> None:
    transport = CountingTransport()
    service = make_service(srv, db_url, tmp_path, transport)
    try:
        await service.view()
        await service.wait_idle()
        for i in range(7):
            srv.ledger.charge(
                srv.licence_id, service_type="Chat via openai (gpt-4o)", input_tokens=1000 + i
            )
        transport.calls.clear()
        assert await service.sync() == []
        view = await service.view()
    finally:
        await service.aclose()
    assert view.window.total == 1207
    assert [t.id for t in view.transactions[:7]] == [r["id"] for r in ledger_rows(srv)[:7]]
    assert transport.calls["credits/history"] == 1  # one after_id page, not a full resync


async def test_refresh_all_resyncs_and_clear_cache_counts(
    srv: RunningLicenseServer, db_url: str, tmp_path: Path
) -> None:
    service = make_service(srv, db_url, tmp_path)
    try:
        await service.view()
        srv.ledger.add_entry(srv.licence_id, "purchase", Decimal("10"), description="top-up")
        assert await service.refresh_all() == []
        view = await service.view()
        assert view.window.total == 1201 and view.transactions[0].description == "top-up"
        assert await service.clear_transactions() == 1201
        assert await service.clear_transactions() == 0
        again = await service.view()
        assert again.window.total == 1201  # the next view does a full sync
    finally:
        await service.aclose()


async def test_api_down_shows_stored_data_labelled(
    srv: RunningLicenseServer, db_url: str, tmp_path: Path
) -> None:
    clock_offset = timedelta(0)
    service = make_service(srv, db_url, tmp_path)
    await service.view()
    await service.aclose()

    down = make_service(srv, db_url, tmp_path, api_url="http://127.0.0.1:9")
    real_clock = down.clock
    clock_offset = timedelta(hours=2)  # everything stored is now expired
    down.clock = lambda: real_clock() + clock_offset
    try:
        view = await down.view()
    finally:
        await down.aclose()
    assert view.stale and view.has_data
    assert any(e.startswith("Failed to connect to License API") for e in messages(view))
    assert view.stats is not None and view.window.total == 1200
    assert view.data_as_of is not None and view.data_as_of < view.now - timedelta(hours=1)


async def test_no_data_and_api_down(srv: RunningLicenseServer, db_url: str, tmp_path: Path) -> None:
    service = make_service(srv, db_url, tmp_path, api_url="http://127.0.0.1:9")
    try:
        view = await service.view()
    finally:
        await service.aclose()
    assert not view.has_data and not view.stale
    assert view.problems and all("Failed to connect to License API" in e for e in messages(view))


async def test_licence_error_is_reported(
    srv: RunningLicenseServer, db_url: str, tmp_path: Path
) -> None:
    srv.ledger.set_status(srv.key, "expired")
    service = make_service(srv, db_url, tmp_path)
    try:
        view = await service.view()
    finally:
        await service.aclose()
    assert any("License has expired" in e for e in messages(view))


async def test_failed_full_sync_keeps_the_previous_mirror(
    srv: RunningLicenseServer, db_url: str, tmp_path: Path
) -> None:
    service = make_service(srv, db_url, tmp_path)
    await service.view()
    await service.aclose()
    srv.ledger.add_entry(srv.licence_id, "purchase", Decimal("5"))

    async def fail_third_page(request: httpx.Request, n: int) -> httpx.Response | httpx.Request:
        if request.url.path.endswith("credits/history") and n == 3:
            return httpx.Response(500, json={"success": False, "error": "boom"})
        return request

    failing = make_service(srv, db_url, tmp_path, CountingTransport(rewrite=fail_third_page))
    try:
        errors = await failing.refresh_all()
        view = await failing.view()
    finally:
        await failing.aclose()
    assert any("API returned HTTP 500" in e for e in (p.message for p in errors))
    assert view.window.total == 1200  # the old mirror, whole; not a half-written new one
    assert [t.id for t in view.transactions] == [r["id"] for r in ledger_rows(srv)[1:301]]


async def test_server_ignoring_before_id_gives_a_labelled_partial_mirror(
    srv: RunningLicenseServer, db_url: str, tmp_path: Path
) -> None:
    async def drop_before_id(request: httpx.Request, _n: int) -> httpx.Request:
        params = dict(request.url.params)
        params.pop("before_id", None)
        return httpx.Request(request.method, request.url.copy_with(params=params))

    transport = CountingTransport(rewrite=drop_before_id)
    service = make_service(srv, db_url, tmp_path, transport)
    try:
        first = await service.view()  # the newest page, live, while the mirror is written
        await service.wait_idle()
        view = await service.view()
    finally:
        await service.aclose()
    assert first.transactions_cache.source == "live" and not first.problems
    cache = view.transactions_cache
    assert cache.limited and cache.rows == 500 and cache.upstream_total == 1200
    assert len({t.id for t in view.transactions}) == 300
    # 300 (the first page a view needs), 500 (overlapping: 200 new), 500 again: it stops.
    assert transport.calls["credits/history"] == 3  # noticed the repeat, did not loop


async def test_corrupt_store_is_reported_and_live_data_served(
    srv: RunningLicenseServer, tmp_path: Path
) -> None:
    bad = tmp_path / "corrupt.sqlite3"
    bad.write_bytes(b"this is not a database" * 500)
    service = make_service(srv, f"sqlite:///{bad}", tmp_path)
    try:
        view = await service.view(page=2)
    finally:
        await service.aclose()
    assert any(
        e.startswith("Local store unavailable: file is not a database") for e in messages(view)
    )
    assert view.stats is not None
    # live fallback: the newest page of history (500 here), labelled as limited
    cache = view.transactions_cache
    assert (cache.source, cache.rows, cache.upstream_total, cache.limited) == (
        "live",
        500,
        1200,
        True,
    )
    assert view.window.total == 500
    assert [t.id for t in view.transactions] == [r["id"] for r in ledger_rows(srv)[300:500]]


async def test_not_configured(tmp_path: Path) -> None:
    from tokenusage.config import load_settings
    from tokenusage.service import DashboardService

    service = DashboardService.from_settings(
        load_settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/s.db")
    )
    try:
        view = await service.view()
    finally:
        await service.aclose()
    assert not view.configured and "license_key" in view.problems[0].message


async def test_export_csv_is_the_csv_of_every_row(
    srv: RunningLicenseServer, db_url: str, tmp_path: Path
) -> None:
    service = make_service(srv, db_url, tmp_path, timezone="America/Sao_Paulo")
    try:
        chunks = [chunk async for chunk in service.export_csv()]
        assert service.store is not None  # the plain row read is the reference
        rows = service.store.page_with_status(service.identity, 10_000, lambda _rows: 1)[1]
    finally:
        await service.aclose()
    assert [row.id for row in rows] == [r["id"] for r in ledger_rows(srv)]
    assert len(rows) == 1200 and sum(c.rows for c in chunks) == 1200
    assert chunks[0].rows > 0 and chunks[0].text.startswith(HEADER_TEXT)
    assert "".join(c.text for c in chunks) == "".join(iter_csv(rows, ZoneInfo("America/Sao_Paulo")))


async def test_export_csv_without_a_store_is_the_live_page_only_when_it_is_everything(
    srv: RunningLicenseServer, tmp_path: Path
) -> None:
    bad = tmp_path / "corrupt.sqlite3"
    bad.write_bytes(b"this is not a database" * 500)
    whole = make_service(srv, f"sqlite:///{bad}", tmp_path, history_page_size=10_000)
    try:
        chunks = [chunk async for chunk in whole.export_csv()]
    finally:
        await whole.aclose()
    assert [c.rows for c in chunks] == [1200]
    lines = chunks[0].text.split("\r\n")
    assert lines[0] == HEADER_TEXT.removesuffix("\r\n") and len(lines) == 1202
    # One page of 500 is not the history: no file that only looks complete.
    partial = make_service(srv, f"sqlite:///{bad}", tmp_path)
    try:
        with pytest.raises(ExportRefused, match="only the newest 500 of 1,200"):
            [chunk async for chunk in partial.export_csv()]
    finally:
        await partial.aclose()


async def test_export_of_a_stale_mirror_reports_the_failed_sync(
    srv: RunningLicenseServer, db_url: str, tmp_path: Path
) -> None:
    service = make_service(srv, db_url, tmp_path)
    await service.view()
    await service.aclose()
    down = make_service(srv, db_url, tmp_path, api_url="http://127.0.0.1:9", transactions_ttl=0)
    problems: list[str] = []
    try:
        rows = sum([chunk.rows async for chunk in down.export_csv(problems)])
    finally:
        await down.aclose()
    assert rows == 1200  # the stored copy, whole
    assert problems and problems[0].message.startswith("Failed to connect to License API")


async def test_full_sync_failing_at_once_keeps_the_previous_mirror(
    srv: RunningLicenseServer, db_url: str, tmp_path: Path
) -> None:
    service = make_service(srv, db_url, tmp_path)
    await service.view()
    await service.aclose()

    async def fail_history(request: httpx.Request, _n: int) -> httpx.Response | httpx.Request:
        if request.url.path.endswith("credits/history"):
            return httpx.Response(503, json={"success": False, "error": "down"})
        return request

    failing = make_service(srv, db_url, tmp_path, CountingTransport(rewrite=fail_history))
    try:
        errors = await failing.refresh_all()
        view = await failing.view()
        status = failing.store.mirror_status(failing.identity) if failing.store else None
    finally:
        await failing.aclose()
    assert any("API returned HTTP 503" in e for e in (p.message for p in errors))
    assert view.window.total == 1200 and status is not None and not status.syncing


async def test_full_sync_whose_store_fails_reports_it(
    srv: RunningLicenseServer, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = make_service(srv, db_url, tmp_path)
    assert service.store is not None

    @contextmanager
    def broken(_domain: str) -> Iterator[Any]:
        raise StoreError("local store unavailable: disk full")
        yield  # a generator, so that entering the block is what fails

    monkeypatch.setattr(service.store, "full_sync", broken)
    try:
        errors = await service.refresh_all()
    finally:
        await service.aclose()
    assert any("disk full" in e for e in (p.message for p in errors))


async def test_an_outage_costs_one_slow_attempt_not_one_per_view(
    srv: RunningLicenseServer, db_url: str, tmp_path: Path
) -> None:
    down = {"on": False}

    async def refuse(request: httpx.Request, _n: int) -> httpx.Request:
        if down["on"]:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return request

    transport = CountingTransport(rewrite=refuse)
    service = make_service(srv, db_url, tmp_path, transport, pricing_ttl=0, failure_backoff=60)
    try:
        await service.view()
        await service.wait_idle()
        down["on"] = True
        transport.calls.clear()
        first = await service.view()
        asked = transport.calls["pricing/current"]
        again = await service.view()
        assert asked >= 1 and transport.calls["pricing/current"] == asked  # not asked again
        for view in (first, again):
            assert view.pricing is not None and view.pricing_cache.source == "cached"
            assert any(e.startswith("Failed to connect to License API") for e in messages(view))
        # An explicit action asks again at once, and a recovered API is used again.
        down["on"] = False
        assert await service.refresh_pricing() == []
        assert transport.calls["pricing/current"] == asked + 1
        assert (await service.view()).problems == []
    finally:
        await service.aclose()


async def test_warm_views_within_a_second_share_one_read_until_a_write(
    srv: RunningLicenseServer, db_url: str, tmp_path: Path
) -> None:
    service = make_service(srv, db_url, tmp_path)
    try:
        await service.view()
        await service.wait_idle()
        store = service.store
        assert store is not None
        reads = 0
        real_read = store.read_view

        def counting_read(*args: Any, **kwargs: Any) -> Any:
            nonlocal reads
            reads += 1
            return real_read(*args, **kwargs)

        store.read_view = counting_read  # type: ignore[method-assign]
        first = await service.view(2)
        again = await service.view(2)
        assert reads == 1 and again.transactions == first.transactions
        assert again.now >= first.now  # the clock moves even when the data is shared
        await service.refresh_pricing()  # a write: the memo is over
        await service.view(2)
        assert reads == 2
        service.memo.clock = lambda: float("inf")  # a second later
        await service.view(2)
        assert reads == 3
    finally:
        await service.aclose()


async def test_a_shared_read_keeps_each_requests_own_filter_errors(
    srv: RunningLicenseServer, db_url: str, tmp_path: Path
) -> None:
    """Two requests whose filters reduce to the same view share one read, but each page
    names what was wrong with its own input, not with the other's."""
    service = make_service(srv, db_url, tmp_path)
    try:
        await service.view()
        await service.wait_idle()
        plain = await service.view(filters=parse_filters())
        typo = await service.view(filters=parse_filters(types=["bogus"]))
        day = await service.view(filters=parse_filters(first="2026-02-30"))
        assert plain.filters.errors == ()
        assert len(typo.filters.errors) == 1 and "bogus" in str(typo.filters.errors[0])
        assert len(day.filters.errors) == 1 and "2026-02-30" in str(day.filters.errors[0])
        assert (await service.view(filters=parse_filters())).filters.errors == ()
    finally:
        await service.aclose()


async def test_incremental_sync_that_cannot_reach_back_falls_back_to_a_full_sync(
    srv: RunningLicenseServer, db_url: str, tmp_path: Path
) -> None:
    async def newest_instead_of_after(request: httpx.Request, _n: int) -> httpx.Request:
        # A server that answers `after_id` with the newest page, as a naive
        # "WHERE id > ? ORDER BY id DESC LIMIT ?" does.
        params = dict(request.url.params)
        params.pop("after_id", None)
        return httpx.Request(request.method, request.url.copy_with(params=params))

    service = make_service(srv, db_url, tmp_path)
    await service.view()
    await service.aclose()
    for i in range(600):  # more than one page (500) of new entries
        srv.ledger.charge(srv.licence_id, service_type="Image processing", images=1 + i % 3)
    naive = make_service(srv, db_url, tmp_path, CountingTransport(rewrite=newest_instead_of_after))
    try:
        assert await naive.sync() == []
        view = await naive.view()
    finally:
        await naive.aclose()
    assert view.window.total == 1800 and view.transactions_cache.rows == 1800
    assert [t.id for t in view.transactions] == [r["id"] for r in ledger_rows(srv)[:300]]
