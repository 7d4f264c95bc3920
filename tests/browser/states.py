"""The dashboard's states the audits visit besides the shared seeded one: a long history whose
balance is low (with an alert rule and an API token, so /alerts and /tokens show their
tables), a licence whose API is down with nothing stored, and a licence with no transactions."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser

from tests.browser.pages import Site, running_site, signed_in_state
from tests.fixtures import RunningLicenseServer
from tests.support.dashboard import running_dashboard
from tokenusage.service.alerts.manage import Alerts
from tokenusage.service.tokens import ApiTokens
from tokenusage.store import Store

LOW_BALANCE = Decimal("0.42")
DEAD_LICENCE: dict[str, Any] = {
    "license_key": "CTZ-NOPE-0000-1111-2222",
    "license_domain": "shop.example.com",
    "license_email": "owner@example.com",
}


def lower_balance(srv: RunningLicenseServer) -> None:
    """One more usage entry that leaves LOW_BALANCE: below the default threshold of 1.00."""
    balance = Decimal(srv.ledger.stats(srv.licence_id)["balance"])
    srv.ledger.add_entry(
        srv.licence_id,
        "usage",
        LOW_BALANCE - balance,
        service_type="Image processing",
        description="Thumbnail analysis batch for the spring catalogue",
        images=400,
    )
    assert Decimal(srv.ledger.stats(srv.licence_id)["balance"]) == LOW_BALANCE


@contextmanager
def low_balance_site(browser: Browser, root: Path, transactions: int = 1200) -> Iterator[Site]:
    with running_site(
        browser, root, transactions=transactions, prepare=lower_balance, page_size=300
    ) as site:
        with Store(site.dash.settings.store_url) as store:
            Alerts(store).add("Low balance", "balance_below", "5", ["ops@example.com"], [])
            ApiTokens(store).create("prometheus")
        yield site


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def api_down_site(browser: Browser, root: Path) -> Iterator[Site]:
    """A licence whose License API refuses connections, and nothing stored yet."""
    dead = f"http://127.0.0.1:{_free_port()}/api.php"
    with running_dashboard(None, root, api_url=dead, **DEAD_LICENCE) as dash:
        yield Site(None, dash, signed_in_state(browser, dash))  # type: ignore[arg-type]


@contextmanager
def empty_site(browser: Browser, root: Path) -> Iterator[Site]:
    """A licence without a single transaction."""
    with running_site(browser, root, transactions=0) as site:
        yield site
