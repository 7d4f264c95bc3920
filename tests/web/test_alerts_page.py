"""The Alerts page: add, switch, test and remove rules as a signed-in admin (CSRF-checked),
the state of each rule and the log of deliveries with their outcomes, in both languages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures import RunningLicenseServer
from tests.support.dashboard import RunningDashboard, running_dashboard
from tests.support.receivers import Hooks, Mailbox, smtp_server, webhook_receiver
from tests.web.pagetools import flashes, page_csrf, parse
from tests.web.support import signed_in

SECRET = "page webhook secret"


@pytest.fixture
def site(
    seeded_server: RunningLicenseServer, tmp_path: Path
) -> Iterator[tuple[RunningDashboard, Mailbox, Hooks, str]]:
    with (
        smtp_server() as (port, box),
        webhook_receiver(SECRET) as (url, hooks),
        running_dashboard(
            seeded_server,
            tmp_path / "dash",
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_starttls=False,
            webhook_secret=SECRET,
            alert_retries=1,
            alert_retry_backoff=0.01,
        ) as dash,
    ):
        yield dash, box, hooks, url


def test_add_test_switch_and_remove(site: tuple[RunningDashboard, Mailbox, Hooks, str]) -> None:
    dash, box, hooks, url = site
    with signed_in(dash) as http:
        page = http.get("/alerts")
        assert page.status_code == 200 and "No alert rules yet." in page.text
        csrf = page_csrf(page.text)
        form = {
            "csrf_token": csrf,
            "name": "low balance",
            "kind": "balance_below",
            "threshold": "5.00",
            "emails": "ops@example.com",
            "webhooks": url,
        }
        assert http.post("/alerts", data=form).headers["location"] == "/alerts"
        doc = parse(http.get("/alerts").text)
        row = doc.one("tr", data_rule="low balance")
        assert "Balance below ($): 5.00" in row.text() and "armed" in row.text()
        assert http.post("/alerts/test", data={"csrf_token": csrf, "name": "low balance"})
        doc = parse(http.get("/alerts").text)
        assert flashes(doc) == [("success", "Test message of low balance sent.")]
        assert box.count() == 1 and hooks.count() == 1 and hooks.received[0]["test"] is True
        assert len(doc.find_all("tr", data_delivery="sent")) == 2
        off = {"csrf_token": csrf, "name": "low balance", "enabled": "0"}
        http.post("/alerts/switch", data=off)
        assert "off" in parse(http.get("/alerts").text).one("tr", data_rule="low balance").text()
        http.post("/alerts/remove", data={"csrf_token": csrf, "name": "low balance"})
        doc = parse(http.get("/alerts").text)
        assert flashes(doc) == [("success", "Alert low balance removed.")]
        assert not doc.find_all("tr", data_rule="low balance")


def test_a_failing_channel_shows_in_the_log(
    site: tuple[RunningDashboard, Mailbox, Hooks, str],
) -> None:
    dash, box, hooks, url = site
    box.refuse = True
    hooks.status = 500
    with signed_in(dash) as http:
        csrf = page_csrf(http.get("/alerts").text)
        rule = {"name": "x", "kind": "stale_minutes", "threshold": "60", "emails": "a@e.com"}
        http.post("/alerts", data={"csrf_token": csrf, **rule, "webhooks": url})
        http.post("/alerts/test", data={"csrf_token": csrf, "name": "x"})
        doc = parse(http.get("/alerts").text)
        assert [level for level, _ in flashes(doc)] == ["success", "error"]
        failed = doc.find_all("tr", data_delivery="failed")
        assert len(failed) == 2
        assert any("HTTP 500" in row.text() for row in failed)


def test_bad_rules_are_explained_and_posts_need_csrf(
    site: tuple[RunningDashboard, Mailbox, Hooks, str],
) -> None:
    dash, *_ = site
    with signed_in(dash) as http:
        csrf = page_csrf(http.get("/alerts").text)
        http.post("/alerts", data={"csrf_token": csrf, "name": "y", "kind": "balance_below",
                                   "threshold": "ten", "emails": "a@example.com"})  # fmt: skip
        [(level, text)] = flashes(parse(http.get("/alerts").text))
        assert level == "error" and "not a number" in text
        assert http.post("/alerts", data={"name": "z"}).status_code == 403
        page = http.get("/alerts", headers={"accept-language": "pt-BR"})
        assert "Regras de alerta" in page.text and "Adicionar alerta" in page.text


def test_the_page_needs_an_admin(reader_dashboard: RunningDashboard) -> None:
    with httpx.Client(base_url=reader_dashboard.url) as anonymous:
        assert anonymous.get("/alerts").status_code == 303
