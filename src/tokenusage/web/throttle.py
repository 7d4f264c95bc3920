"""Sign-in throttling: at most `limit` failures per `window` seconds per (username, client IP).

Kept in process memory: a restart forgets it, which only gives an attacker one more window,
and the Argon2 cost still bounds guesses per second. Keying on the pair means a guesser cannot
lock the real admin out from another address.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

from cachetools import LRUCache

MAX_TRACKED = 10_000


class LoginThrottle:
    def __init__(
        self, limit: int = 5, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        # A flood of made-up names stays bounded: the least recently failed are forgotten.
        self._failures: LRUCache[tuple[str, str], deque[float]] = LRUCache(MAX_TRACKED)

    @staticmethod
    def key(username: str, client_ip: str) -> tuple[str, str]:
        return username.strip().casefold(), client_ip

    def retry_after(self, key: tuple[str, str]) -> int:
        """Seconds until another attempt is allowed; 0 when it is allowed now."""
        failures = self._recent(key)
        if len(failures) < self.limit:
            return 0
        return max(1, math.ceil(failures[0] + self.window - self.clock()))

    def failed(self, key: tuple[str, str]) -> None:
        failures = self._recent(key)
        failures.append(self.clock())
        self._failures[key] = failures

    def succeeded(self, key: tuple[str, str]) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        failures = self._failures.get(key, deque())
        horizon = self.clock() - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            self._failures.pop(key, None)
        return failures
