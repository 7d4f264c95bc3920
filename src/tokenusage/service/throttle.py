"""Sign-in throttling: at most `limit` failed attempts per `window` seconds per (username,
client address), counted in the store, so failures on one replica count on all and a restart
forgets nothing. Keying on the pair means a guesser cannot lock the real admin out from
another address; the address is the peer's unless a trusted proxy names it
(`forwarded_allow_ips`), so a header cannot choose it."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable

from anyio import to_thread

from tokenusage.store import Store

LIMIT = 5
WINDOW = 60.0


class SignInThrottle:
    def __init__(
        self, store: Callable[[], Store], limit: int = LIMIT, window: float = WINDOW
    ) -> None:
        self._store = store
        self.limit = limit
        self.window = window

    @staticmethod
    def key(username: str, client_ip: str) -> str:
        pair = f"{username.strip().casefold()}\0{client_ip}"
        return hashlib.sha256(pair.encode()).hexdigest()

    async def attempt(self, key: str) -> int:
        """0 when an attempt may go ahead now, and then it counts as a failure until
        `succeeded` (so parallel attempts cannot slip past the limit while theirs run); else
        the whole seconds until one may. Raises `StoreError`."""
        store = self._store()
        wait = await to_thread.run_sync(store.throttle_attempt, key, self.limit, self.window)
        return max(1, math.ceil(wait)) if wait > 0 else 0

    async def succeeded(self, key: str) -> None:
        store = self._store()
        await to_thread.run_sync(store.throttle_clear, key)
