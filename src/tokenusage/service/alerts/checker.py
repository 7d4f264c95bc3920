"""The alert check: sync, read the figures, fire or re-arm each rule, deliver what is queued.

One replica at a time checks, under the store's lease "alerts": `serve` keeps trying to take
it and renews it while it holds it, so when the holder dies another takes over within
`alert_lease_seconds`. Exactly-once does not rest on the lease alone: firing is a conditional
update in the store and each queued delivery is claimed before it is sent (`store.alerts`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
from anyio import to_thread

from tokenusage.service.alerts import text
from tokenusage.service.alerts.channels import ChannelError, post_webhook, send_email
from tokenusage.service.alerts.rules import (
    AlertError,
    Channel,
    Reading,
    condition,
    rearms,
)
from tokenusage.service.background import cancel_and_wait
from tokenusage.service.facade import DashboardService
from tokenusage.service.problems import Problem
from tokenusage.store import Store, StoreError
from tokenusage.store.alerts import DeliveryRecord, RuleRecord

log = logging.getLogger(__name__)
LEASE = "alerts"
# A claimed delivery whose claimer has said nothing for this long is claimed again.
STALE_CLAIM = timedelta(minutes=10)


@dataclass
class CheckReport:
    held_by: str | None = None  # another checker held the lease: nothing was done
    fired: list[str] = field(default_factory=list)
    rearmed: list[str] = field(default_factory=list)
    delivered: list[DeliveryRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _plain(value: Decimal) -> str:
    return format(value, "f") if value.is_finite() else "Infinity"


class AlertChecker:
    def __init__(
        self,
        service: DashboardService,
        *,
        holder: str | None = None,
        on_sent: Callable[[str, str, str], None] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.service = service
        self.settings = service.settings
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.on_sent = on_sent
        self.ttl = timedelta(seconds=self.settings.alert_lease_seconds)
        self._client = httpx.AsyncClient(
            timeout=self.settings.webhook_timeout, follow_redirects=False, transport=transport
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    def _store(self) -> Store:
        store = self.service.store
        if store is None:
            raise StoreError("no local store: alerts need one")
        return store

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await to_thread.run_sync(fn, *args)

    # -- the lease ---------------------------------------------------------------------------

    async def acquire(self) -> bool:
        store = self._store()
        return bool(await self._call(store.acquire_lease, LEASE, self.holder, self.ttl))

    async def release(self) -> None:
        store = self._store()
        await self._call(store.release_lease, LEASE, self.holder)

    @asynccontextmanager
    async def _renewing(self) -> AsyncIterator[None]:
        """Keep the lease while a check runs longer than a third of its time-to-live."""
        store = self._store()

        async def renew() -> None:
            while True:
                await asyncio.sleep(self.ttl.total_seconds() / 3)
                with suppress(StoreError):
                    await self._call(store.renew_lease, LEASE, self.holder, self.ttl)

        task = asyncio.create_task(renew())
        try:
            yield
        finally:
            await cancel_and_wait(task)

    # -- one check ---------------------------------------------------------------------------

    async def read(self) -> tuple[Reading, list[Problem]]:
        """The figures after an incremental sync, so no alert rests on old data."""
        service = self.service
        problems = await service.sync()
        view = await service.view(1)
        problems += [p for p in view.problems if p not in problems]
        runway = view.insights.runway if view.insights is not None else None
        synced = view.transactions_cache.fetched_at
        stale = None
        if synced is not None:
            stale = Decimal(int((view.now - synced).total_seconds() // 60))
        store = self._store()
        purchase = await self._call(store.newest_purchase_id, service.identity)
        reading = Reading(
            now=view.now,
            balance=view.stats.balance if view.stats is not None else None,
            runway_days=None if runway is None else runway.days_left,
            runway_known=runway is not None,
            spend_today=view.insights.spend.today if view.insights is not None else None,
            stale_minutes=stale,
            newest_purchase_id=purchase,
        )
        return reading, problems

    def _payload(self, rule: RuleRecord, value: Decimal, reading: Reading) -> dict[str, Any]:
        threshold = Decimal(rule.threshold)
        locale = self.settings.locale
        return {
            "alert": rule.name,
            "kind": rule.kind,
            "value": _plain(value),
            "threshold": _plain(threshold),
            "balance": None if reading.balance is None else _plain(reading.balance),
            "runway_days": reading.runway_days,
            "text": text.sentence(rule.kind, value, threshold, locale),
            "dashboard_url": self.settings.public_url,
        }

    async def evaluate(self, reading: Reading) -> tuple[list[str], list[str]]:
        store = self._store()
        fired: list[str] = []
        rearmed: list[str] = []
        for rule in await self._call(store.alert_rules):
            value = reading.value(rule.kind)
            if not rule.enabled or value is None:
                continue
            threshold = Decimal(rule.threshold)
            if rule.state == "armed" and condition(rule.kind, value, threshold):
                payload = self._payload(rule, value, reading)
                queued = [(channel, payload) for channel in rule.channels]
                if await self._call(
                    store.fire_alert, rule.name, _plain(value), reading.newest_purchase_id, queued
                ):
                    log.warning("alert %s fired: %s", rule.name, payload["text"])
                    fired.append(rule.name)
            elif rule.state == "fired":
                newest = reading.newest_purchase_id
                purchased = newest is not None and (
                    rule.purchase_id is None or newest > rule.purchase_id
                )
                if rearms(rule.kind, value, threshold, purchased) and await self._call(
                    store.rearm_alert, rule.name, _plain(value)
                ):
                    log.info("alert %s re-armed at %s", rule.name, _plain(value))
                    rearmed.append(rule.name)
        return fired, rearmed

    async def deliver(self, only: list[int] | None = None) -> list[DeliveryRecord]:
        """Send what is queued (or the deliveries `only`), each with its retries."""
        store = self._store()
        claimed = await self._call(store.claim_deliveries, self.holder, STALE_CLAIM, only)
        done = []
        for delivery in claimed:
            await self._send(delivery)
            found = await self._call(store.alert_delivery, delivery.id)
            if found is not None:
                done.append(found)
        return done

    async def _send(self, delivery: DeliveryRecord) -> None:
        channel = Channel.from_json(delivery.channel)
        settings = self.settings
        attempts, detail, state = 0, "", "failed"
        for attempt in range(settings.alert_retries + 1):
            attempts += 1
            try:
                await self._send_once(channel, delivery)
            except ChannelError as exc:
                detail = str(exc)
                log.warning(
                    "alert %s: %s failed (attempt %d): %s", delivery.rule, channel, attempts, exc
                )
                if attempt < settings.alert_retries:
                    await asyncio.sleep(settings.alert_retry_backoff * 2**attempt)
            else:
                state, detail = "sent", ""
                break
        store = self._store()
        await self._call(store.finish_delivery, delivery.id, self.holder, state, attempts, detail)
        if self.on_sent is not None:
            self.on_sent(delivery.rule, channel.type, state)

    async def _send_once(self, channel: Channel, delivery: DeliveryRecord) -> None:
        payload = delivery.payload
        locale = self.settings.locale
        if channel.type == "webhook":
            await post_webhook(self._client, self.settings, channel.target, payload)
            return
        if delivery.test:
            subject, _ = text.test_texts(delivery.rule, locale)
        else:
            subject = text.subject(delivery.rule, payload["text"], locale)
        body = text.body(payload["text"], payload.get("dashboard_url") or "", locale)
        await send_email(self.settings, channel.target, subject, body)

    async def check_once(self) -> CheckReport:
        """One check, by a holder of the lease."""
        report = CheckReport()
        store = self._store()
        if not any(r.enabled for r in await self._call(store.alert_rules)):
            report.delivered = await self.deliver()
            return report
        reading, report.problems = await self.read()
        report.fired, report.rearmed = await self.evaluate(reading)
        report.delivered = await self.deliver()
        return report

    async def check_now(self) -> CheckReport:
        """`tokenusage alerts check`: one check now, under the same lease as `serve`."""
        if not await self.acquire():
            store = self._store()
            return CheckReport(held_by=await self._call(store.lease_holder, LEASE))
        try:
            async with self._renewing():
                return await self.check_once()
        finally:
            await self.release()

    async def run(self, interval: float) -> None:
        """`serve`'s loop: hold the lease when free, check every `interval` seconds."""
        step = min(interval, self.ttl.total_seconds() / 3)
        due = 0.0
        try:
            while True:
                try:
                    if await self.acquire():
                        async with self._renewing():
                            if time.monotonic() >= due:
                                due = time.monotonic() + interval
                                await self.check_once()
                            else:
                                await self.deliver()
                except StoreError as exc:
                    log.warning("alert check: %s", " ".join(str(exc).split()))
                except Exception:
                    log.exception("alert check failed")
                await asyncio.sleep(step)
        finally:
            with suppress(Exception):
                await asyncio.shield(self.release())

    async def send_test(self, name: str) -> list[DeliveryRecord]:
        """`alerts test NAME`: a test message through each of the rule's channels, now."""
        store = self._store()
        rule = await self._call(store.alert_rule, name.strip())
        if rule is None:
            raise AlertError(f"there is no alert named {name.strip()!r}")
        _, sentence = text.test_texts(rule.name, self.settings.locale)
        payload = {
            "alert": rule.name,
            "kind": rule.kind,
            "value": None,
            "threshold": rule.threshold,
            "balance": None,
            "runway_days": None,
            "text": sentence,
            "dashboard_url": self.settings.public_url,
            "test": True,
        }
        ids = await self._call(
            store.queue_alert_test, rule.name, [(c, payload) for c in rule.channels]
        )
        return await self.deliver(only=ids)
