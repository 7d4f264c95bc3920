"""Keeping the transaction mirror in step with the License API.

Full sync pages backwards with `before_id` through the whole history into a new generation that
becomes current only when complete; a server that ignores `before_id` (a page that brings nothing
new) ends the sync as "limited: newest N of TOTAL" instead of looping. Incremental sync pages
forward with `after_id` from the newest mirrored id and appends in one transaction.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncGenerator, Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import cast

from anyio import to_thread

from tokenusage.licenseapi.client import LicenseApiClient
from tokenusage.licenseapi.models import History, Transaction
from tokenusage.store import FullSync, MirrorRow, Store

log = logging.getLogger(__name__)


async def full_sync(
    client: LicenseApiClient,
    store: Store,
    domain_hash: str,
    page_size: int,
    on_first_page: Callable[[History], None] | None = None,
    first_page_size: int | None = None,
) -> int:
    """Replace the mirror with the whole upstream history; returns rows mirrored.

    `on_first_page` sees the newest page as soon as it is parsed, before it is written: a
    cold page view can show it while the rest of the history is still being mirrored; with
    `first_page_size` that first page is only as large as the view needs.
    """
    pages = cast(
        AsyncGenerator[History, None],
        client.history_pages(page_size=page_size, first_page_size=first_page_size),
    )
    manager = store.full_sync(domain_hash)
    # The new generation is opened in a worker while the first request travels.
    opening = asyncio.ensure_future(to_thread.run_sync(manager.__enter__))
    try:
        try:
            page = await anext(pages, None)
        except BaseException:
            failure = sys.exc_info()
            await asyncio.wait([opening])
            if not opening.cancelled() and opening.exception() is None:
                await to_thread.run_sync(lambda: manager.__exit__(*failure))
            raise
        if page is not None and on_first_page is not None:
            on_first_page(page)
        builder = await opening
    except BaseException:
        await pages.aclose()
        raise
    try:
        total: int | None = None
        stored = 0
        limited = False
        while page is not None:
            if total is None:
                total = page.total
            added = await to_thread.run_sync(builder.add_page, page.transactions)
            stored += added.added
            if added.added == 0 and added.repeated:
                limited = True
                break
            page = await anext(pages, None)
        if total is not None and stored < total:
            limited = True
    except BaseException:
        error = sys.exc_info()
        await to_thread.run_sync(lambda: manager.__exit__(*error))
        raise
    finally:
        await pages.aclose()
    await to_thread.run_sync(_finish, manager, builder, total, limited)
    if limited:
        log.warning("server did not page back: mirrored the newest %s of %s", stored, total)
    return stored


def _finish(
    manager: AbstractContextManager[FullSync], builder: FullSync, total: int | None, limited: bool
) -> None:
    """Make the new generation current and leave the sync's block, in one worker hop."""
    try:
        builder.finish(total=total, limited=limited)
    except BaseException:
        manager.__exit__(*sys.exc_info())
        raise
    manager.__exit__(None, None, None)


async def incremental_sync(
    client: LicenseApiClient,
    store: Store,
    domain_hash: str,
    page_size: int,
    newest: int | None = None,
) -> int:
    """Append what is newer than the newest mirrored id (`newest` when the caller knows it);
    full sync when the mirror is empty."""
    if newest is None:
        newest = await to_thread.run_sync(lambda: store.newest_id(domain_hash))
    if newest is None:
        return await full_sync(client, store, domain_hash, page_size)
    fresh: list[Transaction] = []
    total: int | None = None
    async for page in client.history_pages(page_size=page_size, after_id=newest):
        fresh.extend(page.transactions)
        total = page.total
    if total is None:  # nothing newer: ask once for the total so the status stays right
        total = (await client.history(limit=1)).total
    added = await to_thread.run_sync(lambda: store.append_newer(domain_hash, fresh, total=total))
    status = await to_thread.run_sync(lambda: store.mirror_status(domain_hash))
    if not status.limited and status.rows != total:
        # More new entries than one page and a server whose `after_id` pages do not reach
        # back to our newest (or one that deleted entries): a gap the append cannot close.
        log.warning(
            "after an incremental sync the mirror has %s of %s transactions: syncing in full",
            status.rows,
            total,
        )
        return await full_sync(client, store, domain_hash, page_size)
    return added


def as_row(tx: Transaction) -> MirrorRow:
    return MirrorRow(
        id=tx.id,
        created_at=tx.created_at,
        type=tx.type,
        service_type=tx.service_type,
        amount=tx.amount,
        tokens_used=tx.tokens_used,
        images_processed=tx.images_processed,
        description=tx.description,
        input_tokens=tx.input_tokens,
        completion_tokens=tx.completion_tokens,
        cached_tokens=tx.cached_tokens,
    )


class LiveHistory:
    """The newest page of history fetched live, for when there is no usable local store."""

    def __init__(self) -> None:
        self._rows: list[MirrorRow] = []
        self._total = 0
        self._at: datetime | None = None

    async def fetch(
        self, client: LicenseApiClient, limit: int, ttl: float
    ) -> tuple[list[MirrorRow], int, datetime]:
        """Fetch, or reuse the last fetch while it is younger than `ttl` seconds."""
        if self._at is not None and (datetime.now(UTC) - self._at).total_seconds() < ttl:
            return self._rows, self._total, self._at
        page = await client.history(limit=limit)
        rows = sorted((as_row(t) for t in page.transactions), key=lambda r: r.id, reverse=True)
        self._rows, self._total, self._at = rows, page.total, datetime.now(UTC)
        return rows, page.total, self._at

    def clear(self) -> None:
        self._rows, self._total, self._at = [], 0, None
