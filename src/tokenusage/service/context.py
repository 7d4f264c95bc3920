"""What the service's collaborators share, passed to each of them explicitly: settings, the
License API client, the store (None when it cannot be opened), the licence identity that keys
everything stored, the clock and the upstream flights."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from anyio import to_thread
from cachetools import LRUCache

from tokenusage.config import Settings
from tokenusage.licenseapi.client import LicenseApiClient
from tokenusage.service.flights import Upstream
from tokenusage.service.problems import Problem, Where, problem
from tokenusage.store import Store, StoreError, licence_identity

T = TypeVar("T")


@dataclass
class Context:
    settings: Settings
    client: LicenseApiClient
    store: Store | None
    clock: Callable[[], datetime]
    upstream: Upstream
    # Why the store could not be opened at start-up, when it could not.
    store_problem: Problem | None = None
    # What was built from stored figures (insights), by their version: see `viewparts`.
    built: LRUCache[Hashable, Any] = field(default_factory=lambda: LRUCache(64))

    def __post_init__(self) -> None:
        s = self.settings
        # Everything stored belongs to one licence: another key, domain or e-mail is
        # another identity, whose data is never shown for this one.
        self.identity = licence_identity(s.license_key, s.license_domain, s.license_email)

    def problem(self, exc: BaseException, where: Where) -> Problem:
        return problem(exc, where, self.clock())

    async def stored(self, fn: Callable[[Store], T], problems: list[Problem]) -> T | None:
        """`fn(store)` in a worker thread; a store that fails adds a problem and gives None."""
        store = self.store
        if store is None:
            return None
        try:
            return await to_thread.run_sync(lambda: fn(store))
        except StoreError as exc:
            problems.append(self.problem(exc, Where.STORE))
            return None

    async def stored_or_raise(self, fn: Callable[[Store], T]) -> T:
        store = self.store
        if store is None:
            raise StoreError(self.store_problem.message if self.store_problem else "no store")
        return await to_thread.run_sync(lambda: fn(store))
