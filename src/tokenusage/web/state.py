"""What every request handler shares: settings, the service, the renderer, the sign-in
throttle and the sessions (both kept in the store, see `service.sessions` and
`service.throttle`)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from anyio import to_thread
from starlette.requests import Request

from tokenusage.config import Settings
from tokenusage.service import DashboardService
from tokenusage.service.admins import Admins
from tokenusage.service.sessions import Sessions
from tokenusage.service.throttle import SignInThrottle
from tokenusage.service.tokens import ApiTokens, RateLimit
from tokenusage.store import Store, StoreError

if TYPE_CHECKING:
    from tokenusage.service.alerts.checker import AlertChecker
    from tokenusage.web.render import Renderer

log = logging.getLogger(__name__)
MAX_VERIFICATIONS = 4


@dataclass
class WebState:
    settings: Settings
    renderer: Renderer
    service_or_none: DashboardService | None = None
    # Password checks running at once, whoever asks: a flood of sign-ins cannot take every
    # worker thread and gigabytes of memory.
    verifications: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(MAX_VERIFICATIONS)
    )
    sessions: Sessions = field(init=False)
    throttle: SignInThrottle = field(init=False)
    rate: RateLimit = field(init=False)  # API requests per token
    alerts: AlertChecker | None = None  # made by the app's lifespan, with the service

    def __post_init__(self) -> None:
        self.sessions = Sessions(self.settings, self.store)
        self.throttle = SignInThrottle(self.store)
        self.rate = RateLimit(self.settings.api_rate_limit)

    @property
    def service(self) -> DashboardService:
        if self.service_or_none is None:
            raise RuntimeError("the dashboard service is created by the app's lifespan")
        return self.service_or_none

    def store(self) -> Store:
        """The store; `StoreError` when it could not be opened at all."""
        store = self.service.store
        if store is None:
            raise StoreError(
                self.service.store_problem.message
                if self.service.store_problem
                else "no local store"
            )
        return store

    def admins(self) -> Admins:
        """The admin accounts; `StoreError` when the store could not be opened at all."""
        return Admins(self.store())

    def tokens(self) -> ApiTokens:
        """The API tokens; `StoreError` when the store could not be opened at all."""
        return ApiTokens(self.store())

    async def any_admin(self) -> bool:
        """Whether anyone can sign in; `StoreError` when the store cannot say."""
        admins = self.admins()
        return await to_thread.run_sync(admins.any)

    async def sign_in(self, name: str, password: str) -> str | None:
        """The admin's (possibly re-hashed) password hash when the password is right, else
        None; `StoreError` when the store cannot be asked. Argon2 runs in a worker thread."""
        admins = self.admins()
        return await to_thread.run_sync(admins.sign_in, name, password)


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state
