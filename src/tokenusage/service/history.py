"""The transaction mirror: when it is brought up to date (policy) and how (mechanics).

Policy. Full sync when the mirror is empty or the admin asks (Refresh Data); incremental when
it is older than `transactions_ttl` or the page revalidates (auto-refresh); nothing while it is
fresh. Concurrent callers share one sync (single-flight). A full sync publishes its first
upstream page as soon as it is parsed, so a cold view can show it while the rest is mirrored
behind it. Every sync has an overall deadline (`sync_deadline`); a view waits at most until
its own deadline and then shows the stored copy. The last failure is kept and shown by every
view until a sync succeeds, so a sync that failed behind a view is never silent.

Mechanics. A full sync pages backwards with `before_id` into a new generation that becomes
current only when complete. Pages that do not add up to the server's total (a repeated page,
fewer rows than `total`) are a paging fault: the previous copy is kept, and only an empty
mirror takes the partial copy, labelled limited. An incremental sync pages forward with
`after_id` from the newest mirrored id and appends in one transaction.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncGenerator, Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, cast

from anyio import to_thread

from tokenusage.licenseapi.models import History, Transaction
from tokenusage.service.context import Context
from tokenusage.service.flights import Deadline, FlightCancelled
from tokenusage.service.freshness import mirror_fresh
from tokenusage.service.model import SyncProgress
from tokenusage.service.problems import (
    KNOWN,
    DeadlinePassed,
    PagingFault,
    Problem,
    SyncStopped,
    Where,
)
from tokenusage.store import FullSync, MirrorStatus, SyncSuperseded

FULL = "history-full"
INCREMENTAL = "history"
log = logging.getLogger(__name__)
SUPERSEDED_POLL = 0.2
STOPPED = "Transaction sync stopped: the transaction cache was cleared while it ran"
# The newest page of history as a full sync fetched it, and when.
FirstPage = tuple[History, datetime]


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


class HistorySync:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._first_pages: dict[str, asyncio.Future[FirstPage]] = {}
        self.progress: SyncProgress | None = None
        self.last_failure: Problem | None = None

    def fresh(self, status: MirrorStatus) -> bool:
        return mirror_fresh(status, self.ctx.settings.transactions_ttl, self.ctx.clock())

    async def settle(self) -> None:
        """Wait for the syncs in flight to end, whatever their outcome (their callers saw it)."""
        flights = self.ctx.upstream.flights
        while flights.running(FULL) or flights.running(INCREMENTAL):
            await flights.wait(FULL, INCREMENTAL)

    async def cancel(self) -> None:
        """Stop the syncs in flight (Clear Cache: what they write would be thrown away)."""
        await self.ctx.upstream.flights.cancel(FULL, INCREMENTAL)
        for waiting in self._first_pages.values():
            waiting.cancel()
        self._first_pages.clear()
        self.last_failure = None

    # -- policy ----------------------------------------------------------------------------

    def _start(
        self,
        known: MirrorStatus,
        seen: int,
        *,
        full: bool,
        force: bool = False,
        revalidate: bool = False,
        first_page_size: int | None = None,
    ) -> tuple[asyncio.Future[None], asyncio.Future[FirstPage] | None]:
        """Start the sync, or join the one in flight: (its end, its first page when full).

        The first-page future of a full sync lives in `_first_pages` from the first caller
        that needs it until the flight that publishes to it ends, so callers that join before
        the flight has even started share it too.
        """
        ctx = self.ctx
        key = FULL if full else INCREMENTAL
        first = self._first_pages.get(key) if full else None
        if full and (first is None or first.cancelled()):
            first = asyncio.get_running_loop().create_future()
            self._first_pages[key] = first

        def publish(page: History) -> None:
            waiting = self._first_pages.get(key)
            if waiting is not None and not waiting.done():
                waiting.set_result((page, ctx.clock()))

        async def run() -> None:
            try:
                if not (force or revalidate) and ctx.upstream.landed(INCREMENTAL) != seen:
                    # A sync that ended since the caller read the store may have done it.
                    status = await ctx.stored_or_raise(lambda s: s.mirror_status(ctx.identity))
                    if self.fresh(status):
                        return
                async with asyncio.timeout(ctx.settings.sync_deadline):
                    if full:
                        await self._full(publish, first_page_size)
                    else:
                        await self._incremental(known.newest_id)
            except TimeoutError:
                self._failed(DeadlinePassed(_too_slow(ctx.settings.sync_deadline)))
                raise DeadlinePassed(_too_slow(ctx.settings.sync_deadline)) from None
            except KNOWN as exc:
                self._failed(exc)
                raise
            else:
                self.last_failure = None
            finally:
                self.progress = None
                ctx.upstream.land(INCREMENTAL)
                waiting = self._first_pages.pop(key, None) if full else None
                if waiting is not None and not waiting.done():
                    waiting.cancel()

        task = asyncio.ensure_future(ctx.upstream.run(key, run, force=force or revalidate))
        task.add_done_callback(_retrieve)
        return task, first

    def _failed(self, exc: BaseException) -> None:
        self.last_failure = self.ctx.problem(exc, Where.HISTORY)
        # One line; the traceback only when debugging (a known failure is not a bug).
        log.warning(
            "the transaction history could not be mirrored: %s",
            exc,
            exc_info=log.isEnabledFor(logging.DEBUG),
        )

    async def _outcome(
        self, task: asyncio.Future[None], problems: list[Problem], deadline: Deadline | None
    ) -> bool:
        """Wait for the sync `task` (`DeadlinePassed` at `deadline`, the sync going on);
        False, with the problem, when it failed."""
        if deadline is not None:
            await asyncio.wait([task], timeout=deadline.left())
            if not task.done():
                raise deadline.passed()
        try:
            await task
        except FlightCancelled:
            problems.append(self.ctx.problem(SyncStopped(STOPPED), Where.HISTORY))
            return False
        except KNOWN as exc:
            problems.append(self.ctx.problem(exc, Where.HISTORY))
            return False
        return True

    async def for_view(
        self,
        status: MirrorStatus,
        problems: list[Problem],
        seen: int,
        covers: Callable[[History], bool],
        deadline: Deadline | None,
    ) -> tuple[bool, FirstPage | None]:
        """Sync a stale or empty mirror for a page view: (synced, first page). The first page
        comes back while a full sync still runs, if it `covers` the page asked for; else this
        waits for the sync, until `deadline` at most (the sync goes on behind the view)."""
        # The first request asks only for what a page of the table shows, so the page can be
        # answered as soon as that arrives; the rest comes in full-size pages behind it.
        task, first = self._start(
            status, seen, full=not status.present, first_page_size=self.ctx.settings.page_size
        )
        if first is not None:
            left = None if deadline is None else deadline.left()
            both: list[asyncio.Future[Any]] = [task, first]
            await asyncio.wait(both, timeout=left, return_when=asyncio.FIRST_COMPLETED)
            if not task.done() and first.done() and not first.cancelled():
                page = first.result()
                if covers(page[0]):
                    return True, page
        try:
            return await self._outcome(task, problems, deadline), None
        except DeadlinePassed as exc:
            problems.append(self.ctx.problem(exc, Where.HISTORY))
            return False, None

    async def ensure(
        self,
        problems: list[Problem],
        *,
        force_full: bool = False,
        revalidate: bool = False,
        deadline: Deadline | None = None,
    ) -> bool:
        """Bring the mirror up to date and wait for it (until `deadline`); False when that
        failed or is still running."""
        ctx = self.ctx
        if ctx.store is None:
            return False
        if force_full or revalidate:
            # A sync already in flight began before this call and may miss what it must see.
            await self.settle()
        seen = ctx.upstream.landed(INCREMENTAL)
        status = await ctx.stored(lambda s: s.mirror_status(ctx.identity), problems)
        if status is None:
            return False
        if self.fresh(status) and not force_full and not revalidate:
            return True
        task, _ = self._start(
            status,
            seen,
            full=force_full or not status.present,
            force=force_full,
            revalidate=revalidate,
        )
        try:
            return await self._outcome(task, problems, deadline)
        except DeadlinePassed:
            return False  # it goes on; the page shows its progress

    # -- mechanics -------------------------------------------------------------------------

    async def _full(
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
                added = await to_thread.run_sync(builder.add_page, page.transactions)
                stored += added.added
                self.progress = SyncProgress(stored, total)
                if added.added == 0 and added.repeated:
                    fault = "the License API sent the same page twice"
                    break
                page = await anext(pages, None)
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

    async def _incremental(self, newest: int | None) -> int:
        """Append what is newer than the newest mirrored id; a full sync when the mirror is
        empty, or when the append leaves a gap (more new rows than the server paged)."""
        ctx = self.ctx
        store = ctx.store
        assert store is not None
        size = ctx.settings.history_page_size
        if newest is None:
            newest = await to_thread.run_sync(lambda: store.newest_id(ctx.identity))
        if newest is None:
            return await self._full(None, None)
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
            return await self._full(None, None)
        return added


def _too_slow(seconds: float) -> str:
    return f"Transaction sync stopped: it did not finish within {seconds:g} s (sync_deadline)"


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
