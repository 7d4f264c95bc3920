"""Auto-refresh revalidates, it does not purge: a page left open picks up a new transaction
through an incremental sync, and neither the mirror nor the pricing cache is thrown away."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Request, expect

from tests.browser.pages import OpenPage, Site, running_site
from tests.support.dashboard import wait_synced
from tokenusage.usage.export import plain_decimal
from tokenusage.usage.fmt import format_money_fixed

pytestmark = pytest.mark.browser

PROBE = "Auto-refresh probe: 3 thumbnails of set 4711"


@pytest.fixture(scope="module")
def refreshing(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("autorefresh")
    with running_site(browser, root, transactions=50, auto_refresh_seconds=2) as site:
        yield site


def test_auto_refresh_syncs_without_clearing_caches(refreshing: Site, open_page: OpenPage) -> None:
    srv, dash = refreshing.srv, refreshing.dash
    w = open_page(state=refreshing.state)
    page = w.page
    posts: list[str] = []

    def record(request: Request) -> None:
        if request.method == "POST":
            posts.append(request.url.removeprefix(refreshing.url))

    page.on("request", record)
    page.goto(refreshing.url + "/")
    assert page.locator("body").get_attribute("data-auto-refresh") == "2"
    expect(page.locator("#showing")).to_contain_text("of 50 transactions")
    wait_synced(dash)
    store = dash.service.store
    assert store is not None
    key = dash.service.identity
    mirror_before = store.mirror_status(key)
    pricing_before = store.pricing_status(key)
    assert mirror_before.full_synced_at is not None
    assert pricing_before.fetched_at is not None

    srv.ledger.add_entry(
        srv.licence_id,
        "usage",
        Decimal("-0.42"),
        service_type="Image processing",
        description=PROBE,
        images=3,
    )

    # No click, no reload from the test: the page does it by itself.
    expect(page.locator("#showing")).to_contain_text("of 51 transactions", timeout=20_000)
    newest = page.locator("#history-table tbody tr").first
    expect(newest).to_contain_text(PROBE)
    expect(newest).to_contain_text("-$0.42")
    balance = Decimal(srv.ledger.stats(srv.licence_id)["balance"])
    # The headline at cents; the exact balance in the value (and one hover or focus away).
    expect(page.locator("dd.balance data")).to_have_attribute("value", plain_decimal(balance))
    cents = format_money_fixed(balance, "USD", "en", 2)
    assert page.locator("dd.balance").inner_text().strip() == cents

    assert "/actions/sync" in posts
    purges = [p for p in posts if p != "/actions/sync"]
    assert not purges, f"auto-refresh posted {purges}"
    mirror_after = store.mirror_status(key)
    assert mirror_after.rows == 51
    assert mirror_after.full_synced_at == mirror_before.full_synced_at, "it did a full resync"
    assert mirror_after.synced_at is not None and mirror_before.synced_at is not None
    assert mirror_after.synced_at > mirror_before.synced_at
    pricing_after = store.pricing_status(key)
    assert pricing_after.present
    assert pricing_after.fetched_at == pricing_before.fetched_at, "the pricing cache was purged"
    w.assert_clean()
