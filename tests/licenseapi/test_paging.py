"""`history_pages` against a fake ledger that honours, or ignores, the paging cursors."""

from __future__ import annotations

import httpx
import pytest

from tests.licenseapi.helpers import Handler, mock_client, transaction

pytestmark = pytest.mark.anyio

LEDGER = list(range(1, 26))  # ids 1..25


def ledger(*, honour_cursor: bool = True) -> tuple[list[dict[str, str]], Handler]:
    calls: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        calls.append({k: v for k, v in params.items() if k in ("limit", "before_id", "after_id")})
        limit = int(params["limit"])
        ids = sorted(LEDGER, reverse=True)
        if honour_cursor and "before_id" in params:
            ids = [i for i in ids if i < int(params["before_id"])][:limit]
        elif honour_cursor and "after_id" in params:
            ids = sorted(i for i in ids if i > int(params["after_id"]))[:limit][::-1]
        else:
            ids = ids[:limit]
        rows = [transaction(i) for i in ids]
        return httpx.Response(200, json={"total": len(LEDGER), "transactions": rows})

    return calls, handler


async def test_full_sync_pages_backwards_through_everything() -> None:
    calls, handler = ledger()
    async with mock_client(handler) as client:
        pages = [
            [t.id for t in page.transactions] async for page in client.history_pages(page_size=10)
        ]
    assert pages == [list(range(25, 15, -1)), list(range(15, 5, -1)), [5, 4, 3, 2, 1]]
    assert [c.get("before_id") for c in calls] == [None, "16", "6"]


async def test_incremental_sync_pages_forwards_from_after_id() -> None:
    calls, handler = ledger()
    async with mock_client(handler) as client:
        pages = [
            [t.id for t in page.transactions]
            async for page in client.history_pages(page_size=5, after_id=12)
        ]
    assert pages == [[17, 16, 15, 14, 13], [22, 21, 20, 19, 18], [25, 24, 23]]
    assert [c["after_id"] for c in calls] == ["12", "17", "22"]


async def test_an_exact_multiple_ends_with_an_empty_page() -> None:
    calls, handler = ledger()
    async with mock_client(handler) as client:
        pages = [page async for page in client.history_pages(page_size=5, after_id=15)]
    assert sum(len(page.transactions) for page in pages) == 10
    assert len(calls) == 3


@pytest.mark.parametrize("after_id", [None, 3])
async def test_a_server_ignoring_the_cursor_does_not_loop_forever(after_id: int | None) -> None:
    calls, handler = ledger(honour_cursor=False)
    async with mock_client(handler) as client:
        pages = [page async for page in client.history_pages(page_size=10, after_id=after_id)]
    assert len(pages) == 1
    assert pages[0].total == 25
    assert len(calls) == 2
