"""A per-address limit on failed licence checks.

Without it an address can try keys as fast as the server answers (300 guesses took 0.3 s). Past
`limit` failures within `window` seconds the address is answered 429 until its oldest failure in
the window has aged out. Runs on the event loop only, so it needs no lock.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class FailedChecks:
    def __init__(
        self,
        limit: int = 20,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        max_addresses: int = 10_000,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit and window must be positive")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._max_addresses = max_addresses
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, address: str, now: float) -> deque[float] | None:
        failures = self._failures.get(address)
        if failures is None:
            return None
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[address]
            return None
        return failures

    def blocked_for(self, address: str) -> float:
        """Seconds until `address` may have its credentials checked again; 0 when it may."""
        now = self._clock()
        failures = self._recent(address, now)
        if failures is None or len(failures) < self.limit:
            return 0.0
        return failures[0] + self.window - now  # it holds the newest `limit` failures

    def record(self, address: str) -> None:
        now = self._clock()
        failures = self._recent(address, now)
        if failures is None:
            if len(self._failures) >= self._max_addresses:
                self._forget(now)
            failures = self._failures[address] = deque(maxlen=self.limit)
        failures.append(now)

    def _forget(self, now: float) -> None:
        """Drop addresses with no failure in the window, else the least recently added one,
        so that many addresses cannot grow this without bound."""
        for address in list(self._failures):
            self._recent(address, now)
        if len(self._failures) >= self._max_addresses:
            del self._failures[next(iter(self._failures))]
