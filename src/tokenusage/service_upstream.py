"""Asking the License API on behalf of page views.

One request in flight per resource, shared by every view that needs it (single-flight), and a
short memory of failures: while the API is down, a view shows the stored data with the last
error at once, instead of waiting through another round of timeouts and retries. Explicit
actions (Refresh Data, Update Pricing, auto-refresh) ask again regardless.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tokenusage.licenseapi.errors import LicenseApiError
from tokenusage.singleflight import SingleFlight

T = TypeVar("T")


class RecentFailure(LicenseApiError):
    """The last attempt at this resource failed moments ago; it was not asked again."""


class Upstream:
    def __init__(self, backoff: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.flights = SingleFlight()
        self.backoff = backoff
        self.clock = clock
        self._failed: dict[str, tuple[float, str]] = {}
        # Flights landed per key: a flight re-reads the store before fetching only when
        # another flight for its key landed since its caller read the store.
        self.landed: Counter[str] = Counter()

    def recent_failure(self, key: str) -> str | None:
        """The error of the last attempt at `key` while it is too recent to try again."""
        entry = self._failed.get(key)
        if entry is None or entry[0] <= self.clock():
            return None
        return entry[1]

    async def run(self, key: str, fn: Callable[[], Awaitable[T]], *, force: bool = False) -> T:
        """`fn` in the flight for `key`; raises `RecentFailure` without calling it while an
        earlier attempt's failure is recent. `force` (an explicit action) never joins a call
        that was already in flight, and ignores recent failures."""
        if not force and (message := self.recent_failure(key)) is not None:
            raise RecentFailure(message)
        if force:
            # A call already in flight began before this one was asked for and may answer
            # from the store: let it end, then ask for real.
            await self.flights.wait(key)
        try:
            result = await self.flights.do(key, fn)
        except LicenseApiError as exc:
            if self.backoff > 0:
                self._failed[key] = (self.clock() + self.backoff, str(exc))
            raise
        self._failed.pop(key, None)
        return result
