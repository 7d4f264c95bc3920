"""How the transaction mirror is brought up to date (when: `policy`).

A full sync pages backwards with `before_id` into a new generation that becomes current only
when complete. Pages that do not add up to the server's total (a repeated page, fewer rows than
`total`) are a paging fault: the previous copy is kept, and only an empty mirror takes the
partial copy, labelled limited. An incremental sync pages forward with `after_id` from the
newest mirrored id and appends in one transaction.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncGenerator, Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import cast

from anyio import to_thread

from tokenusage.licenseapi.models import History, Transaction
from tokenusage.service.context import Context
from tokenusage.service.model import SyncProgress
from tokenusage.service.problems import PagingFault, SyncStopped
from tokenusage.store import FullSync, SyncSuperseded

log = logging.getLogger(__name__)
SUPERSEDED_POLL = 0.2
STOPPED = "Transaction sync stopped: the transaction cache was cleared while it ran"


class Copier:
    """Copies the history into the store; `progress` says how far a full copy has got."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.progress: SyncProgress | None = None

    async def full(
        self, on_first_page: Callable[[History], None] | None, first_page_size: int | None
    ) -> int:
        """Replace the mirror with the whole upstream history; returns rows mirrored."""
        ctx = self.ctx
        store = ctx.store
        assert store is not None
        started = ctx.clock()
        pages = cast(
            AsyncGenerator[History, None],
            ctx.client.history_pages(
                page_size=ctx.settings.history_page_size, first_page_size=first_page_size
            ),
        )
        manager = store.full_sync(ctx.identity)
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
        total: int | None = None
        stored = 0
        fault: str | None = None
        try:
            while page is not None:
                total = page.total if total is None else total
                # The next page is asked for and parsed while this one is written.
                following = asyncio.ensure_future(anext(pages, None))
                try:
                    added = await to_thread.run_sync(builder.add_page, page.transactions)
                except BaseException:
                    await _abandon(following)
                    raise
                stored += added.added
                self.progress = SyncProgress(stored, total)
                if added.added == 0 and added.repeated:
                    fault = "the License API sent the same page twice"
                    await _abandon(following)
                    break
                page = await following
        except BaseException:
            error = sys.exc_info()
            await to_thread.run_sync(lambda: manager.__exit__(*error))
            if isinstance(error[1], SyncSuperseded):
                await self._superseded(started)
                return stored
            raise
        finally:
            await pages.aclose()
        if fault is None and total is not None and stored < total:
            fault = f"the License API's pages held {stored:,} of its {total:,} transactions"
        previous = await to_thread.run_sync(lambda: store.mirror_status(ctx.identity))
        keep = (
            fault is None or not previous.present or (previous.limited and previous.rows <= stored)
        )
        try:
            if keep:
                await to_thread.run_sync(_finish, manager, builder, total, fault is not None)
            else:
                await to_thread.run_sync(lambda: manager.__exit__(None, None, None))
        except SyncSuperseded:
            await self._superseded(started)
            return stored
        if fault is not None:
            kept = (
                f"only the newest {stored:,} are shown"
                if keep
                else f"the previous copy of {previous.rows:,} is kept"
            )
            raise PagingFault(f"Paging fault: {fault}; {kept}")
        return stored

    async def _superseded(self, started: datetime) -> None:
        """This sync's generation was retired: by a newer full sync (of this or another
        replica) or by Clear Cache. Wait for a newer sync to end (within `sync_deadline`, which
        bounds this whole run); if it left a complete mirror, that was this sync's work too."""
        ctx = self.ctx
        status = await ctx.stored_or_raise(lambda s: s.mirror_status(ctx.identity))
        while status.syncing:
            await asyncio.sleep(SUPERSEDED_POLL)
            status = await ctx.stored_or_raise(lambda s: s.mirror_status(ctx.identity))
        done = status.full_synced_at
        if not (status.present and not status.limited and done is not None and done >= started):
            raise SyncStopped(STOPPED)

    async def incremental(self, newest: int | None) -> int:
        """Append what is newer than the newest mirrored id; a full sync when the mirror is
        empty, or when the append leaves a gap (more new rows than the server paged)."""
        ctx = self.ctx
        store = ctx.store
        assert store is not None
        size = ctx.settings.history_page_size
        if newest is None:
            newest = await to_thread.run_sync(lambda: store.newest_id(ctx.identity))
        if newest is None:
            return await self.full(None, None)
        first = await ctx.client.history(limit=size, after_id=newest)
        fresh: list[Transaction] = list(first.transactions)
        total = first.total
        if len(fresh) >= size:
            after = max(t.id for t in fresh)
            async for page in ctx.client.history_pages(page_size=size, after_id=after):
                fresh.extend(page.transactions)
                total = page.total
        added = await to_thread.run_sync(
            lambda: store.append_newer(ctx.identity, fresh, total=total)
        )
        status = await to_thread.run_sync(lambda: store.mirror_status(ctx.identity))
        if not status.limited and status.rows != total:
            log.warning(
                "after an incremental sync the mirror has %s of %s transactions: syncing in full",
                status.rows,
                total,
            )
            return await self.full(None, None)
        return added


async def _abandon(fetch: asyncio.Future[History | None]) -> None:
    """Stop a page fetch nobody will read, and wait until the page iterator is idle again."""
    fetch.cancel()
    await asyncio.wait([fetch])
    if not fetch.cancelled():
        fetch.exception()  # retrieved: a failed fetch is not worth a warning here


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
