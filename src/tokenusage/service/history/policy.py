"""When the transaction mirror is brought up to date (how: `copier`).

Full sync when the mirror is empty or the admin asks (Refresh Data); incremental when it is
older than `transactions_ttl` or the page revalidates (auto-refresh); nothing while it is
fresh. Concurrent callers share one sync (single-flight), and replicas sharing a PostgreSQL
store take turns (`replicas`). A full sync publishes its first upstream page as soon as it is
parsed, so a cold view can show it while the rest is mirrored behind it. Every sync has an
overall deadline (`sync_deadline`); a view waits at most until its own deadline and then
shows the stored copy. The last failure is kept and shown by every view until a sync
succeeds, so a sync that failed behind a view is never silent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from tokenusage.licenseapi.models import History
from tokenusage.service.context import Context
from tokenusage.service.flights import Deadline, FlightCancelled
from tokenusage.service.freshness import mirror_fresh
from tokenusage.service.history.copier import STOPPED, Copier
from tokenusage.service.history.replicas import ReplicaTurns
from tokenusage.service.model import SyncProgress
from tokenusage.service.problems import KNOWN, DeadlinePassed, Problem, SyncStopped, Where
from tokenusage.store import MirrorStatus

FULL = "history-full"
INCREMENTAL = "history"
log = logging.getLogger(__name__)
# The newest page of history as a full sync fetched it, and when.
FirstPage = tuple[History, datetime]


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


class HistorySync:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._first_pages: dict[str, asyncio.Future[FirstPage]] = {}
        self.copier = Copier(ctx)
        self.replicas = ReplicaTurns(ctx)  # one sync at a time across replicas too
        self.last_failure: Problem | None = None

    @property
    def progress(self) -> SyncProgress | None:
        """How far the running full sync has got, when one runs in this process."""
        return self.copier.progress

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
                async with (
                    asyncio.timeout(ctx.settings.sync_deadline),
                    self.replicas.turn() as waited,
                ):
                    landed = ctx.upstream.landed(INCREMENTAL) != seen
                    if not (force or revalidate) and (landed or waited):
                        # A sync that ended since the caller read the store (in this process,
                        # or on another replica) may have done it.
                        status = await ctx.stored_or_raise(lambda s: s.mirror_status(ctx.identity))
                        if self.fresh(status):
                            return
                    if full:
                        await self.copier.full(publish, first_page_size)
                    else:
                        await self.copier.incremental(known.newest_id)
            except TimeoutError:
                self._failed(DeadlinePassed(_too_slow(ctx.settings.sync_deadline)))
                raise DeadlinePassed(_too_slow(ctx.settings.sync_deadline)) from None
            except KNOWN as exc:
                self._failed(exc)
                raise
            else:
                self.last_failure = None
            finally:
                self.copier.progress = None
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


def _too_slow(seconds: float) -> str:
    return f"Transaction sync stopped: it did not finish within {seconds:g} s (sync_deadline)"
