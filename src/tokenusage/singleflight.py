"""Single-flight: concurrent callers asking for the same key share one in-flight call."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


class FlightCancelled(Exception):
    """The call this waiter shared was cancelled on purpose (`SingleFlight.cancel`)."""


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
                # The shared call was stopped (`cancel`), not this waiter: an outcome to report.
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
        """Wait for every call in flight to end (or cancel them first); their errors were
        their waiters' to see."""
        flights = list(self._flights.values())
        if cancel:
            for flight in flights:
                flight.cancel()
        if flights:
            await asyncio.wait(flights)

    def running(self, key: str) -> bool:
        return key in self._flights
