"""What every request handler shares: settings, the service, the renderer, the throttle."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from anyio import to_thread
from starlette.requests import Request

from tokenusage.config import Settings
from tokenusage.service import DashboardService
from tokenusage.store import StoreError
from tokenusage.web.auth import fingerprint
from tokenusage.web.throttle import LoginThrottle

if TYPE_CHECKING:
    from tokenusage.web.render import Renderer

log = logging.getLogger(__name__)
ADMIN_CACHE_SECONDS = 5.0
MAX_VERIFICATIONS = 4
MAX_REVOKED = 10_000


@dataclass
class WebState:
    settings: Settings
    renderer: Renderer
    service_or_none: DashboardService | None = None
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    # Password checks running at once, whoever asks: a flood of sign-ins cannot take every
    # worker thread and gigabytes of memory.
    verifications: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(MAX_VERIFICATIONS)
    )
    _admins: dict[str, tuple[str | None, float]] = field(default_factory=dict)
    _revoked: dict[str, float] = field(default_factory=dict)

    @property
    def service(self) -> DashboardService:
        if self.service_or_none is None:
            raise RuntimeError("the dashboard service is created by the app's lifespan")
        return self.service_or_none

    async def admin_hash(self, name: str) -> str | None:
        """The stored hash, or None (no such admin, or no usable store)."""
        store = self.service.store
        if store is None:
            return None
        try:
            return await to_thread.run_sync(store.get_admin_hash, name)
        except StoreError as exc:
            log.error("cannot read admin %r from the store: %s", name, exc)
            return None

    async def has_admins(self) -> bool:
        store = self.service.store
        if store is None:
            return False
        try:
            return bool(await to_thread.run_sync(store.admin_names))
        except StoreError as exc:
            log.error("cannot list admins in the store: %s", exc)
            return False

    async def save_admin_hash(self, name: str, password_hash: str) -> bool:
        """Store a re-hashed password (stronger parameters); a failure only costs speed.
        True when it was stored (the session must then be sealed with the new hash)."""
        store = self.service.store
        if store is None:
            return False
        try:
            await to_thread.run_sync(store.upsert_admin, name, password_hash)
        except StoreError as exc:
            log.warning("could not store the re-hashed password of %r: %s", name, exc)
            return False
        finally:
            self.forget_admin(name)
        return True

    async def admin_fingerprint(self, name: str) -> str | None:
        """`fingerprint` of the admin's hash, re-read at most every few seconds: every page
        checks it, and a password change should end old sessions soon, not instantly."""
        now = time.monotonic()
        cached = self._admins.get(name)
        if cached is not None and now - cached[1] < ADMIN_CACHE_SECONDS:
            return cached[0]
        stored = await self.admin_hash(name)
        value = fingerprint(stored) if stored is not None else None
        if len(self._admins) > 1000:
            self._admins.clear()
        self._admins[name] = (value, now)
        return value

    def forget_admin(self, name: str) -> None:
        self._admins.pop(name, None)

    def revoke_session(self, sid: str) -> None:
        """Sign-out: a copy of the cookie must not outlive it. Kept in process memory for the
        cookie's lifetime (a restart, or another replica, does not know it)."""
        now = time.time()
        if len(self._revoked) >= MAX_REVOKED:
            self._revoked = {k: v for k, v in self._revoked.items() if v > now}
            while len(self._revoked) >= MAX_REVOKED:
                del self._revoked[next(iter(self._revoked))]
        self._revoked[sid] = now + self.settings.session_max_age

    def session_revoked(self, sid: str) -> bool:
        until = self._revoked.get(sid)
        return until is not None and until > time.time()


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state
