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
from tokenusage.service.admins import Admins, fingerprint
from tokenusage.store import StoreError
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

    def admins(self) -> Admins:
        """The admin accounts; `StoreError` when the store could not be opened at all."""
        store = self.service.store
        if store is None:
            raise StoreError(
                self.service.store_problem.message
                if self.service.store_problem
                else "no local store"
            )
        return Admins(store)

    async def any_admin(self) -> bool:
        """Whether anyone can sign in; `StoreError` when the store cannot say."""
        admins = self.admins()
        return await to_thread.run_sync(admins.any)

    async def sign_in(self, name: str, password: str) -> str | None:
        """The admin's (possibly re-hashed) password hash when the password is right, else
        None; `StoreError` when the store cannot be asked. Argon2 runs in a worker thread."""
        admins = self.admins()
        try:
            return await to_thread.run_sync(admins.sign_in, name, password)
        finally:
            self.forget_admin(name)

    async def admin_seal(self, name: str) -> tuple[str | None, str | None]:
        """(`fingerprint` of the admin's hash, None), re-read at most every few seconds: every
        page checks it, and a password change should end old sessions soon, not instantly.

        When the store cannot be read: (the last fingerprint seen, or None, and the problem).
        An outage is not a sign-out: the caller keeps the session and says the store is down.
        """
        now = time.monotonic()
        cached = self._admins.get(name)
        if cached is not None and now - cached[1] < ADMIN_CACHE_SECONDS:
            return cached[0], None
        try:
            admins = self.admins()
            stored = await to_thread.run_sync(admins.get_hash, name)
        except StoreError as exc:
            problem = " ".join(str(exc).split())
            log.warning("cannot read admin %r from the store: %s", name, problem)
            return (cached[0] if cached is not None else None), problem
        value = fingerprint(stored) if stored is not None else None
        if len(self._admins) > 1000:
            self._admins.clear()
        self._admins[name] = (value, now)
        return value, None

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
