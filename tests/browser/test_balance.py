"""Green balance at or above the threshold, red below it with the LOW BALANCE WARNING banner
and its purchase link."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.pages import OpenPage, Site, running_site
from tests.fixtures import RunningLicenseServer

pytestmark = pytest.mark.browser

BUY_URL = "https://credits.example.test/buy?from=tokenusage"


def _ledger(balance: Decimal) -> object:
    def prepare(srv: RunningLicenseServer) -> None:
        srv.ledger.add_entry(
            srv.licence_id, "purchase", Decimal("5.00"), service_type="Credit purchase"
        )
        srv.ledger.add_entry(
            srv.licence_id,
            "usage",
            balance - Decimal("5.00"),
            service_type="Image processing",
            description="Thumbnail analysis batch",
            images=100,
        )
        assert Decimal(srv.ledger.stats(srv.licence_id)["balance"]) == balance

    return prepare


@pytest.fixture(scope="module")
def healthy(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Exactly at the threshold: the design says green means "at least 1.00"."""
    root = tmp_path_factory.mktemp("healthy")
    with running_site(
        browser, root, prepare=_ledger(Decimal("1.00")), buy_credits_url=BUY_URL
    ) as site:
        yield site


@pytest.fixture(scope="module")
def low(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root: Path = tmp_path_factory.mktemp("low")
    with running_site(
        browser, root, prepare=_ledger(Decimal("0.99")), buy_credits_url=BUY_URL
    ) as site:
        yield site


def _rgb(page: Page, selector: str) -> tuple[int, int, int]:
    colour = page.locator(selector).evaluate("e => getComputedStyle(e).color")
    found = re.fullmatch(r"rgba?\((\d+), (\d+), (\d+)(?:, [\d.]+)?\)", colour)
    assert found, colour
    r, g, b = (int(x) for x in found.groups())
    return r, g, b


def test_balance_at_threshold_is_green_without_banner(healthy: Site, open_page: OpenPage) -> None:
    w = open_page(state=healthy.state)
    page = w.page
    page.goto(healthy.url + "/")

    balance = page.locator("dd.balance")
    assert balance.get_attribute("class") == "balance good"
    assert balance.inner_text().strip() == "$1.00"
    r, g, _ = _rgb(page, "dd.balance")
    assert g > r, f"a healthy balance should be green, is rgb{_rgb(page, 'dd.balance')}"
    assert page.locator(".low-balance").count() == 0
    assert page.get_by_text("LOW BALANCE WARNING").count() == 0
    w.assert_clean()


def test_balance_below_threshold_is_red_with_banner_and_purchase_link(
    low: Site, open_page: OpenPage
) -> None:
    w = open_page(state=low.state)
    page = w.page
    page.goto(low.url + "/")

    balance = page.locator("dd.balance")
    assert balance.get_attribute("class") == "balance bad"
    assert balance.inner_text().strip() == "$0.99"
    r, g, _ = _rgb(page, "dd.balance")
    assert r > g, f"a low balance should be red, is rgb{_rgb(page, 'dd.balance')}"

    banner = page.locator(".low-balance")
    assert banner.is_visible()
    assert banner.locator("h2").inner_text().strip() == "LOW BALANCE WARNING"
    assert "Your credit balance is below $1.00." in banner.inner_text()
    link = banner.get_by_role("link", name="Click here to purchase credits")
    assert link.is_visible()
    assert link.get_attribute("href") == BUY_URL
    # The banner comes before the cards, where it cannot be missed.
    above = page.evaluate(
        "document.querySelector('.low-balance').compareDocumentPosition("
        "document.querySelector('.cards')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    assert above
    w.assert_clean()


def test_green_and_red_are_different_colours(healthy: Site, low: Site, open_page: OpenPage) -> None:
    colours = {}
    for name, site in (("healthy", healthy), ("low", low)):
        page = open_page(state=site.state).page
        page.goto(site.url + "/")
        colours[name] = _rgb(page, "dd.balance")
    assert colours["healthy"] != colours["low"], colours
    distance = sum(abs(a - b) for a, b in zip(colours["healthy"], colours["low"], strict=True))
    assert distance > 100, f"green and red are too close to tell apart: {colours}"
