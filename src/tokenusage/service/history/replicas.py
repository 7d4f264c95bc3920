"""One sync of a licence's history at a time across the replicas that share a PostgreSQL store.

In one process, concurrent callers already share one sync (single-flight). Replicas share only
the store, so a lease row (`store.leases`) names the replica whose sync runs; another replica
that needs a sync waits until the lease is free and then looks at the mirror again: when the
holder's sync made it current, a page view has nothing left to do. The holder renews its lease
while it works; a holder that dies frees it after `LEASE_TTL`.

SQLite keeps the in-process path only: one file is, in practice, one process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from tokenusage.service.background import cancel_and_wait
from tokenusage.service.context import Context
from tokenusage.store import StoreError

log = logging.getLogger(__name__)
LEASE_TTL = timedelta(seconds=20)
RENEW_EVERY = 5.0
POLL = 0.1


class ReplicaTurns:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"

    @property
    def shared(self) -> bool:
        store = self.ctx.store
        return store is not None and store.backend != "sqlite"

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[bool]:
        """Hold this licence's history lease for the block (waiting for it as long as the
        caller lets this run); yields whether another replica held it first, so that its
        sync may have done the caller's work."""
        if not self.shared:
            yield False
            return
        ctx, holder = self.ctx, self.holder
        name = f"history:{ctx.identity}"
        waited = False
        while not await ctx.stored_or_raise(lambda s: s.acquire_lease(name, holder, LEASE_TTL)):
            waited = True
            while await ctx.stored_or_raise(lambda s: s.lease_holder(name)) is not None:
                await asyncio.sleep(POLL)
        renewing = asyncio.ensure_future(self._renew(name))
        try:
            yield waited
        finally:
            await cancel_and_wait(renewing)
            try:
                await ctx.stored_or_raise(lambda s: s.release_lease(name, holder))
            except StoreError as exc:  # it expires on its own
                log.warning("could not release the history sync lease: %s", exc)

    async def _renew(self, name: str) -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY)
            try:
                kept = await self.ctx.stored_or_raise(
                    lambda s: s.renew_lease(name, self.holder, LEASE_TTL)
                )
            except StoreError as exc:
                log.warning("could not renew the history sync lease: %s", exc)
                continue
            if not kept:
                log.warning("the history sync lease expired: another replica may sync too")
                return
