"""Single-flight: concurrent callers asking for the same key share one in-flight call."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


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
            flight.add_done_callback(lambda _f: self._flights.pop(key, None))
        result: T = await asyncio.shield(flight)
        return result

    def running(self, key: str) -> bool:
        return key in self._flights
