"""Asking the License API on behalf of many callers at once.

Single-flight: concurrent callers asking for the same resource share one in-flight call. A
short memory of failures: while the API is down, a view shows the stored data with the last
problem at once, instead of waiting through another round of timeouts and retries. Explicit
actions (Refresh Data, Update Pricing, auto-refresh) ask again regardless.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from tokenusage.licenseapi.errors import LicenseApiError
from tokenusage.service.problems import DeadlinePassed

T = TypeVar("T")


class FlightCancelled(Exception):
    """The call this waiter shared was cancelled on purpose (`SingleFlight.cancel`)."""


class RecentFailure(LicenseApiError):
    """The last attempt at this resource failed moments ago; it was not asked again.
    `original` is that attempt's error, so the problem keeps its kind."""

    def __init__(self, original: LicenseApiError) -> None:
        super().__init__(original.message, endpoint=original.endpoint, detail=original.detail)
        self.original = original


class SingleFlight:
    def __init__(self) -> None:
        self._flights: dict[str, asyncio.Future[Any]] = {}

    async def do(self, key: str, fn: Callable[[], Awaitable[T]]) -> T:
        """Run `fn` unless a call for `key` is already running; then wait for that one.

        Every waiter gets the same result or the same exception. A cancelled waiter does not
        cancel the shared call (it is shielded), so one impatient client cannot fail the rest.
        """
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(fn())
            self._flights[key] = flight
            flight.add_done_callback(lambda f: self._landed(key, f))
        try:
            result: T = await asyncio.shield(flight)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if flight.cancelled() and task is not None and not task.cancelling():
                raise FlightCancelled(key) from None
            raise
        return result

    def _landed(self, key: str, flight: asyncio.Future[Any]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        if not flight.cancelled():
            flight.exception()  # retrieved: a flight whose waiters all left logs no warning

    async def wait(self, *keys: str) -> None:
        """Wait until the calls in flight for `keys` end, without sharing their outcome."""
        flights = [self._flights[k] for k in keys if k in self._flights]
        if flights:
            await asyncio.wait(flights)

    async def cancel(self, *keys: str) -> None:
        """Cancel the calls in flight for `keys` and wait until they have ended."""
        flights = [self._flights[k] for k in keys if k in self._flights]
        for flight in flights:
            flight.cancel()
        if flights:
            await asyncio.wait(flights)

    async def drain(self, *, cancel: bool) -> None:
        """Wait for every call in flight to end (or cancel them first)."""
        flights = list(self._flights.values())
        if cancel:
            for flight in flights:
                flight.cancel()
        if flights:
            await asyncio.wait(flights)

    def running(self, key: str) -> bool:
        return key in self._flights


class Upstream:
    """Single-flight per resource plus the memory of recent failures and of landed flights."""

    def __init__(self, backoff: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.flights = SingleFlight()
        self.backoff = backoff
        self.clock = clock
        self._failed: dict[str, tuple[float, LicenseApiError]] = {}
        self._landed: Counter[str] = Counter()

    def landed(self, key: str) -> int:
        """Flights for `key` that ended so far: a flight re-reads the store before fetching
        only when another flight for its key landed since its caller read the store."""
        return self._landed[key]

    def land(self, key: str) -> None:
        self._landed[key] += 1

    def snapshot(self) -> Counter[str]:
        return Counter(self._landed)

    def recent_failure(self, key: str) -> LicenseApiError | None:
        entry = self._failed.get(key)
        if entry is None or entry[0] <= self.clock():
            return None
        return entry[1]

    async def run(self, key: str, fn: Callable[[], Awaitable[T]], *, force: bool = False) -> T:
        """`fn` in the flight for `key`; raises `RecentFailure` without calling it while an
        earlier attempt's failure is recent. `force` (an explicit action) never joins a call
        that was already in flight, and ignores recent failures."""
        if not force and (failed := self.recent_failure(key)) is not None:
            raise RecentFailure(failed)
        if force:
            # A call already in flight began before this one was asked for and may answer
            # from the store: let it end, then ask for real.
            await self.flights.wait(key)
        try:
            result = await self.flights.do(key, fn)
        except LicenseApiError as exc:
            if self.backoff > 0:
                original = exc.original if isinstance(exc, RecentFailure) else exc
                self._failed[key] = (self.clock() + self.backoff, original)
            raise
        self._failed.pop(key, None)
        return result


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # a caller that stopped waiting must not leave a never-retrieved error


@dataclass(frozen=True)
class Deadline:
    """When a caller stops waiting for the License API (the event loop's clock), and the
    `timeout` it was set from, which the problem names."""

    at: float
    seconds: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(asyncio.get_running_loop().time() + seconds, seconds)

    def left(self) -> float:
        return max(0.0, self.at - asyncio.get_running_loop().time())

    def passed(self) -> DeadlinePassed:
        return DeadlinePassed(
            f"Failed to connect to License API: no answer within {self.seconds:g} s"
        )


async def within(work: Awaitable[T], deadline: Deadline | None) -> T:
    """`work`'s result, or `DeadlinePassed` when `deadline` comes first; the work itself goes
    on (a later view, or the mirror, gets its result)."""
    if deadline is None:
        return await work
    task = asyncio.ensure_future(work)
    task.add_done_callback(_retrieve)
    done, _ = await asyncio.wait({task}, timeout=deadline.left())
    if not done:
        raise deadline.passed()
    return task.result()
