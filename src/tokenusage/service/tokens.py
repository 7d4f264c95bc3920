"""API tokens: bearer tokens for the read-only JSON API and /metrics.

A token is 32 random bytes, shown once when made; the store keeps only its SHA-256 (the token
has all the entropy a password lacks, so a slow hash would only slow every request). Each
request looks the hash up, so a revoked token fails at once on every replica. The per-token
request budget is counted per process: each replica allows `limit` a minute.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable

from anyio import to_thread

from tokenusage.store import Store
from tokenusage.store.tokens import TokenRecord

PREFIX = "tu_"
MAX_NAME = 150
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]*")
PER_MINUTE = 600


class TokenError(Exception):
    """A request about tokens that cannot be done; the message says why."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", errors="replace")).hexdigest()


def check_name(name: str) -> str:
    name = name.strip()
    if not _NAME.fullmatch(name) or len(name) > MAX_NAME:
        raise TokenError(
            "a token name is 1 to 150 letters, digits and . _ @ - (starting with a letter or digit)"
        )
    return name


class ApiTokens:
    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, name: str) -> str:
        """A new token named `name`, to show once; `TokenError` when the name is taken."""
        name = check_name(name)
        token = PREFIX + secrets.token_urlsafe(32)
        if not self.store.create_token(name, token_hash(token)):
            raise TokenError(f"a token named {name!r} exists already")
        return token

    def listing(self) -> list[TokenRecord]:
        return self.store.list_tokens()

    def revoke(self, name: str) -> None:
        if not self.store.revoke_token(name.strip()):
            raise TokenError(f"there is no token named {name.strip()!r}")

    def check(self, token: str) -> str | None:
        """The token's name, None when it is unknown or revoked. Raises `StoreError`."""
        if not token.startswith(PREFIX) or len(token) > 200:
            return None
        return self.store.check_token(token_hash(token))

    async def acheck(self, token: str) -> str | None:
        return await to_thread.run_sync(self.check, token)


class RateLimit:
    """At most `limit` requests a minute per key, as a sliding one-minute window of two
    fixed ones; `wait(key)` is 0 when a request may go ahead, else whole seconds to wait."""

    def __init__(
        self,
        limit: int = PER_MINUTE,
        clock: Callable[[], float] = time.monotonic,
        keys: int = 10_000,
    ) -> None:
        self.limit = limit
        self.clock = clock
        self.keys = keys
        self._counts: OrderedDict[str, tuple[int, int, int]] = OrderedDict()

    def wait(self, key: str) -> int:
        now = self.clock()
        window = int(now // 60)
        old_window, previous, current = self._counts.pop(key, (window, 0, 0))
        if old_window != window:
            previous = current if old_window == window - 1 else 0
            current = 0
        weight = 1 - (now % 60) / 60
        used = previous * weight + current
        if used + 1 > self.limit:
            self._counts[key] = (window, previous, current)
            return max(1, math.ceil(60 - now % 60))  # at the latest, a new window then
        self._counts[key] = (window, previous, current + 1)
        while len(self._counts) > self.keys:
            self._counts.popitem(last=False)
        return 0
