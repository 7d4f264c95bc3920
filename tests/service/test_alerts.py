"""Alerts end to end against real parts: the reference License API, a real SMTP server
(aiosmtpd) and a real webhook receiver that checks signatures. A rule fires once per crossing,
re-arms past its margin, and a failing channel is retried, logged and never fatal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures import RunningLicenseServer
from tests.service.conftest import make_service
from tests.support.receivers import Hooks, Mailbox, smtp_server, webhook_receiver
from tokenusage.service import DashboardService
from tokenusage.service.alerts.checker import AlertChecker
from tokenusage.service.alerts.manage import Alerts

SECRET = "webhook secret for the tests"
pytestmark = pytest.mark.anyio


@pytest.fixture
def smtp() -> Iterator[tuple[int, Mailbox]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def hooks() -> Iterator[tuple[str, Hooks]]:
    with webhook_receiver(SECRET) as receiver:
        yield receiver


def alert_settings(port: int, **extra: Any) -> dict[str, Any]:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_starttls": False,
        "smtp_from": "dashboard@example.com",
        "webhook_secret": SECRET,
        "alert_retries": 2,
        "alert_retry_backoff": 0.01,
        "public_url": "https://dash.example.com",
        **extra,
    }


async def checker_for(
    srv: RunningLicenseServer, tmp: Path, port: int, **extra: Any
) -> AsyncIterator[AlertChecker]:
    db_url = f"sqlite:///{tmp}/store.sqlite3"
    service = make_service(srv, db_url, tmp, **alert_settings(port, **extra))
    checker = AlertChecker(service)
    try:
        yield checker
    finally:
        await checker.aclose()
        await service.aclose()


def balance(srv: RunningLicenseServer) -> Decimal:
    return Decimal(srv.ledger.stats(srv.licence_id)["balance"])


def add_rule(service: DashboardService, name: str, kind: str, threshold: str,
             emails: list[str], webhooks: list[str]) -> None:  # fmt: skip
    assert service.store is not None
    Alerts(service.store).add(name, kind, threshold, emails, webhooks)


async def test_fires_once_per_crossing_and_rearms_past_the_margin(
    license_server: RunningLicenseServer,
    tmp_path: Path,
    smtp: tuple[int, Mailbox],
    hooks: tuple[str, Hooks],
) -> None:
    srv, (port, box), (url, hook) = license_server, smtp, hooks
    start = balance(srv)
    async for checker in checker_for(srv, tmp_path, port):
        threshold = start - Decimal("1.00")
        add_rule(checker.service, "low", "balance_below", str(threshold), ["ops@example.com"],
                 [url])  # fmt: skip
        report = await checker.check_once()
        assert report.fired == [] and box.count() == 0 and hook.count() == 0
        srv.ledger.add_entry(srv.licence_id, "usage", Decimal("-1.50"), service_type="chat")
        report = await checker.check_once()
        assert report.fired == ["low"]
        assert [d.state for d in report.delivered] == ["sent", "sent"]
        for _ in range(3):  # still below: nothing more
            assert (await checker.check_once()).fired == []
        assert box.count() == 1 and hook.count() == 1 and hook.bad_signatures == 0
        body = hook.received[0]
        assert body["alert"] == "low" and body["kind"] == "balance_below"
        assert Decimal(body["value"]) == balance(srv) and Decimal(body["threshold"]) == threshold
        assert (
            body["balance"] == body["value"] and body["dashboard_url"] == "https://dash.example.com"
        )
        assert "below" in body["text"] and isinstance(body["runway_days"], (int, type(None)))
        rcpts, mail = box.messages[0]
        assert rcpts == ["ops@example.com"] and mail["To"] == "ops@example.com"
        assert mail["From"] == "dashboard@example.com"
        assert mail["Subject"].startswith("[tokenusage] low: The credit balance is")
        assert "https://dash.example.com" in mail.get_content()
        # Back above the threshold, but not by 10%: still fired.
        srv.ledger.add_entry(srv.licence_id, "refund", Decimal("0.60"))
        assert (await checker.check_once()).rearmed == []
        # A purchase that lifts it over the threshold re-arms it; a new drop fires again.
        srv.ledger.add_entry(srv.licence_id, "purchase", Decimal("0.10"))
        assert (await checker.check_once()).rearmed == ["low"]
        srv.ledger.add_entry(srv.licence_id, "usage", Decimal("-2.00"), service_type="chat")
        assert (await checker.check_once()).fired == ["low"]
        assert box.count() == 2 and hook.count() == 2


async def test_the_message_speaks_the_installations_language(
    license_server: RunningLicenseServer, tmp_path: Path, smtp: tuple[int, Mailbox]
) -> None:
    srv, (port, box) = license_server, smtp
    async for checker in checker_for(srv, tmp_path, port, locale="pt_BR"):
        limit = str(balance(srv) + 5)
        add_rule(checker.service, "saldo", "balance_below", limit, ["a@example.com"], [])
        report = await checker.check_once()
        assert report.fired == ["saldo"]
        _, mail = box.messages[0]
        assert "O saldo de créditos é" in mail["Subject"]
        assert "Abra o painel: https://dash.example.com" in mail.get_content()
        sent = await checker.send_test("saldo")
        assert [d.state for d in sent] == ["sent"]
        assert box.messages[1][1]["Subject"] == "[tokenusage] Teste do alerta saldo"


async def test_failing_channels_are_retried_logged_and_not_fatal(
    license_server: RunningLicenseServer,
    tmp_path: Path,
    smtp: tuple[int, Mailbox],
    hooks: tuple[str, Hooks],
) -> None:
    srv, (port, box), (url, hook) = license_server, smtp, hooks
    box.refuse = True
    hook.status = 500
    async for checker in checker_for(srv, tmp_path, port, webhook_timeout=0.5):
        limit = str(balance(srv) + 1)
        add_rule(checker.service, "a", "balance_below", limit, ["x@example.com"], [url])
        report = await checker.check_once()
        assert report.fired == ["a"]
        outcomes = {d.channel["type"]: d for d in report.delivered}
        assert outcomes["email"].state == "failed" and outcomes["email"].attempts == 3
        assert "refused" in outcomes["email"].detail
        assert outcomes["webhook"].state == "failed" and "HTTP 500" in outcomes["webhook"].detail
        hook.status, hook.delay = 200, 2.0
        tested = await checker.send_test("a")
        by_type = {d.channel["type"]: d for d in tested}
        assert by_type["webhook"].state == "failed" and "timed out" in by_type["webhook"].detail
        assert checker.service.store is not None
        logged = Alerts(checker.service.store).deliveries()
        assert len(logged) == 4 and all(d.state == "failed" for d in logged)
        assert (await checker.check_once()).fired == [], "a failed delivery does not re-fire"


async def test_one_checker_at_a_time(
    license_server: RunningLicenseServer, tmp_path: Path, smtp: tuple[int, Mailbox]
) -> None:
    srv, (port, _) = license_server, smtp
    async for first in checker_for(srv, tmp_path, port):
        second = AlertChecker(first.service, holder="other")
        try:
            assert await first.acquire()
            report = await second.check_now()
            assert report.held_by == first.holder
            await first.release()
            assert (await second.check_now()).held_by is None
        finally:
            await second.aclose()


async def test_concurrent_checks_fire_once(
    license_server: RunningLicenseServer,
    tmp_path: Path,
    smtp: tuple[int, Mailbox],
    hooks: tuple[str, Hooks],
) -> None:
    """Even two checkers that overlap (a lease that expired mid-check) send one message."""
    srv, (port, box), (url, hook) = license_server, smtp, hooks
    async for one in checker_for(srv, tmp_path, port):
        limit = str(balance(srv) + 1)
        add_rule(one.service, "low", "balance_below", limit, ["o@example.com"], [url])
        two = AlertChecker(one.service, holder="two")
        try:
            reports = await asyncio.gather(*(c.check_once() for c in (one, two, one, two)))
        finally:
            await two.aclose()
        assert sum(len(r.fired) for r in reports) == 1
        assert box.count() == 1 and hook.count() == 1


async def test_the_loop_stops_whenever_it_is_cancelled(
    license_server: RunningLicenseServer, tmp_path: Path, smtp: tuple[int, Mailbox]
) -> None:
    """`serve` stops the loop with a cancellation, at whatever step the loop is: holding the
    lease, checking, renewing, or between checks. A cancellation that landed while the lease
    renewal was being stopped used to be swallowed, and the shutdown hung for ever."""
    srv, (port, _) = license_server, smtp
    async for checker in checker_for(srv, tmp_path, port):
        for steps in range(200):
            loop = asyncio.create_task(checker.run(0.01))
            for _ in range(steps):
                await asyncio.sleep(0)
            loop.cancel()
            done, _ = await asyncio.wait([loop], timeout=5)
            assert done, f"the loop went on after a cancellation {steps} steps in"
        assert await checker.acquire(), "every stopped loop gave the lease back"
