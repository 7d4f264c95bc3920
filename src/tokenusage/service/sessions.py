"""Sign-ins as server-side records in the store, so that every replica, and a restarted one,
agrees on who is signed in (DESIGN decision 8).

The signed cookie carries a random token; the store keeps a record under the token's SHA-256.
Signing out deletes the record, "sign out everywhere" and a new password delete every record of
the admin, and a record whose admin's password hash no longer matches its seal ends too. The
idle lifetime (`session_max_age`) and the absolute one (`session_absolute_max_age`) are judged
from the record's times.

Each replica remembers what it last read of a token for `RECHECK_SECONDS`: a warm page does not
ask the store on every request, and a revocation made on another replica is obeyed there
within that time. The replica that revokes obeys at once. Activity is written back at most
every `touch_interval` seconds, which is the precision of the idle lifetime.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from anyio import to_thread
from cachetools import LRUCache

from tokenusage.config import Settings
from tokenusage.service.admins import fingerprint
from tokenusage.store import SessionRecord, Store

RECHECK_SECONDS = 1.0
MAX_REMEMBERED = 10_000
TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Seen:
    admin: str | None  # None: no session (never was, revoked, expired)
    checked: float  # `time.monotonic()` of the read


class Sessions:
    """Start, check and end sign-ins. Store calls run in worker threads; each may raise
    `StoreError`, which callers tell apart from "not signed in"."""

    def __init__(
        self,
        settings: Settings,
        store: Callable[[], Store],
        *,
        clock: Callable[[], datetime] = _utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle = timedelta(seconds=settings.session_max_age)
        self.lifetime = timedelta(seconds=settings.session_absolute_max_age)
        self.touch_interval = timedelta(seconds=min(60.0, settings.session_max_age / 10))
        self._store = store
        self._clock = clock
        self._monotonic = monotonic
        self._seen: LRUCache[str, _Seen] = LRUCache(MAX_REMEMBERED)

    async def start(self, admin: str, password_hash: str) -> str:
        """A new session for `admin`, who just proved `password_hash`; returns its token.
        Expired records of anyone are cleared on the way."""
        store = self._store()
        token = secrets.token_urlsafe(TOKEN_BYTES)
        key = token_hash(token)

        def create() -> None:
            store.purge_sessions(self.idle, self.lifetime)
            store.create_session(key, admin, fingerprint(password_hash))

        await to_thread.run_sync(create)
        self._seen[key] = _Seen(admin, self._monotonic())
        return token

    async def check(self, token: str) -> str | None:
        """The admin `token` signs in, or None."""
        key = token_hash(token)
        seen = self._seen.get(key)
        now = self._monotonic()
        if seen is not None and now - seen.checked < RECHECK_SECONDS:
            return seen.admin
        store = self._store()
        record = await to_thread.run_sync(store.get_session, key)
        admin = self._standing(record)
        if record is not None and admin is None:
            await to_thread.run_sync(store.delete_session, key)
        elif record is not None and self._clock() - record.seen_at >= self.touch_interval:
            await to_thread.run_sync(store.touch_session, key)
        self._seen[key] = _Seen(admin, now)
        return admin

    def last_known(self, token: str) -> tuple[bool, str | None]:
        """(whether this replica has read `token` before, the admin it read or None): when
        the store is down, a session known dead stays dead; the caller decides the rest."""
        seen = self._seen.get(token_hash(token))
        return (False, None) if seen is None else (True, seen.admin)

    async def end(self, token: str) -> None:
        """Sign-out. Obeyed here at once, even when the store cannot be told (`StoreError`)."""
        key = token_hash(token)
        self._seen[key] = _Seen(None, float("inf"))  # never re-read: the token is dead
        store = self._store()
        await to_thread.run_sync(store.delete_session, key)

    async def end_everywhere(self, admin: str) -> int:
        """End every session of `admin` (this one included); how many there were."""
        for seen in self._seen.values():
            if seen.admin == admin:
                seen.admin = None
        store = self._store()
        return await to_thread.run_sync(store.delete_admin_sessions, admin)

    def _standing(self, record: SessionRecord | None) -> str | None:
        if record is None or record.password_hash is None:
            return None
        if fingerprint(record.password_hash) != record.seal:  # a new password since
            return None
        now = self._clock()
        if now - record.seen_at > self.idle or now - record.created_at > self.lifetime:
            return None
        return record.admin
