"""When and how the service brings the transaction mirror up to date.

Full sync when the mirror is empty or the admin asks (Refresh Data), incremental when it is
older than `transactions_ttl` or the page revalidates (auto-refresh), nothing while it is fresh.
Concurrent callers share one sync (single-flight). A full sync publishes its first upstream
page as soon as it is parsed, so a cold view can show it while the rest is mirrored behind it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from anyio import to_thread

from tokenusage.licenseapi.errors import LicenseApiError
from tokenusage.licenseapi.models import History
from tokenusage.service_sync import full_sync, incremental_sync
from tokenusage.singleflight import FlightCancelled
from tokenusage.store import MirrorStatus, StoreError

if TYPE_CHECKING:
    from tokenusage.service import DashboardService

FULL = "history-full"
INCREMENTAL = "history"
log = logging.getLogger(__name__)
STOPPED = "Transaction sync stopped: the transaction cache was cleared while it ran"
# The newest page of history as a full sync fetched it, and when.
FirstPage = tuple[History, datetime]


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # a caller that left early must not leave a never-retrieved error


class HistorySync:
    def __init__(self, service: DashboardService) -> None:
        self.service = service
        self._first_pages: dict[str, asyncio.Future[FirstPage]] = {}

    async def settle(self) -> None:
        """Wait for the syncs in flight to end, whatever their outcome (their callers saw it)."""
        flights = self.service.upstream.flights
        while flights.running(FULL) or flights.running(INCREMENTAL):
            await flights.wait(FULL, INCREMENTAL)

    async def cancel(self) -> None:
        """Stop the syncs in flight (Clear Cache: what they write would be thrown away)."""
        flights = self.service.upstream.flights
        await flights.cancel(FULL, INCREMENTAL)
        for waiting in self._first_pages.values():
            waiting.cancel()
        self._first_pages.clear()

    def fresh(self, status: MirrorStatus) -> bool:
        return (
            status.present
            and status.synced_at is not None
            and (self.service.clock() - status.synced_at).total_seconds()
            < self.service.settings.transactions_ttl
        )

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
        service = self.service
        store = service.store
        assert store is not None
        upstream = service.upstream
        key = FULL if full else INCREMENTAL
        first = self._first_pages.get(key) if full else None
        if full and (first is None or first.cancelled()):
            first = asyncio.get_running_loop().create_future()
            self._first_pages[key] = first

        def publish(page: History) -> None:
            waiting = self._first_pages.get(key)
            if waiting is not None and not waiting.done():
                waiting.set_result((page, service.clock()))

        async def run() -> None:
            status = known
            page_size = service.settings.history_page_size
            try:
                if not (force or revalidate) and upstream.landed[INCREMENTAL] != seen:
                    # A sync that ended since the caller read the store may have done it.
                    status = await to_thread.run_sync(
                        lambda: store.mirror_status(service.domain_hash)
                    )
                    if self.fresh(status):
                        return
                if full:
                    await full_sync(
                        service.client,
                        store,
                        service.domain_hash,
                        page_size,
                        publish,
                        first_page_size,
                    )
                else:
                    await incremental_sync(
                        service.client, store, service.domain_hash, page_size, status.newest_id
                    )
            except LicenseApiError:
                raise  # the client has logged it, and the callers report it
            except Exception:
                # A cold view may have returned already: nobody else would ever see this.
                log.exception("the transaction history could not be mirrored")
                raise
            finally:
                upstream.landed[INCREMENTAL] += 1
                waiting = self._first_pages.pop(key, None) if full else None
                if waiting is not None and not waiting.done():
                    waiting.cancel()

        task = asyncio.ensure_future(upstream.run(key, run, force=force or revalidate))
        task.add_done_callback(_retrieve)
        return task, first

    async def for_view(
        self,
        status: MirrorStatus,
        errors: list[str],
        seen: int,
        covers: Callable[[History], bool],
    ) -> tuple[bool, FirstPage | None]:
        """Sync a stale or empty mirror for a page view: (synced, first page). The first page
        comes back while a full sync still runs, if it `covers` the page asked for; else this
        waits for the sync to end."""
        # The first request asks only for what a page of the table shows, so the page can be
        # answered as soon as that arrives; the rest comes in full-size pages behind it.
        task, first = self._start(
            status,
            seen,
            full=not status.present,
            first_page_size=self.service.settings.page_size,
        )
        if first is not None:
            waiting: list[asyncio.Future[Any]] = [task, first]
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if not task.done() and first.done() and not first.cancelled():
                page = first.result()
                if covers(page[0]):
                    return True, page
        try:
            await task
        except (LicenseApiError, StoreError) as exc:
            errors.append(str(exc))
        except FlightCancelled:
            errors.append(STOPPED)
            return False, None
        return True, None

    async def ensure(
        self, errors: list[str], *, force_full: bool = False, revalidate: bool = False
    ) -> bool:
        """Bring the mirror up to date now and wait for it; False when that failed."""
        service = self.service
        store = service.store
        if store is None:
            return False
        if force_full or revalidate:
            # A sync already in flight began before this call and may miss what it must see.
            await self.settle()
        seen = service.upstream.landed[INCREMENTAL]
        status = await service.store_call(lambda: store.mirror_status(service.domain_hash), errors)
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
            await task
        except (LicenseApiError, StoreError) as exc:
            errors.append(str(exc))
        except FlightCancelled:
            errors.append(STOPPED)
            return False
        return True
