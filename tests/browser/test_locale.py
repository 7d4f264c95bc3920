"""Brazilian Portuguese for a browser that asks for it: the page's language, its text from the
pt_BR catalog, and numbers and money in pt_BR conventions."""

from __future__ import annotations

import re
from functools import cache

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from tests.browser.pages import OpenPage, Site
from tokenusage.web.i18n import LOCALE_DIR

pytestmark = pytest.mark.browser


@cache
def catalog() -> Catalog:
    with (LOCALE_DIR / "pt_BR" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale="pt_BR")


def translated(msgid: str) -> str:
    message = catalog().get(msgid)
    assert message is not None, f"{msgid!r} is not in the pt_BR catalog"
    assert isinstance(message.string, str) and message.string, f"{msgid!r} is not translated"
    assert not message.fuzzy, f"the pt_BR translation of {msgid!r} is fuzzy"
    return message.string


def test_pt_br_page_language_numbers_and_money(seeded: Site, open_page: OpenPage) -> None:
    w = open_page(locale="pt-BR", state=seeded.state)
    page = w.page
    page.goto(seeded.url + "/")

    assert page.locator("html").get_attribute("lang") == "pt-BR"
    assert "1.200" in page.locator("#showing").inner_text()
    assert "1,200" not in page.locator("#showing").inner_text()
    balance = page.locator("dd.balance").inner_text().strip()
    assert re.fullmatch(r"US\$\s[0-9.]+,[0-9]{2}", balance), balance  # a headline: at cents
    prices = page.locator("#pricing-title ~ table.prices td.num").first.inner_text()
    assert "US$" in prices and "5,00" in prices, prices
    w.assert_clean()


def test_pt_br_page_text_comes_from_the_catalog(seeded: Site, open_page: OpenPage) -> None:
    w = open_page(locale="pt-BR", state=seeded.state)
    page = w.page
    page.goto(seeded.url + "/")

    nav = page.locator("nav.nav")
    for msgid in ("Refresh Data", "Download History", "Update Pricing", "Clear Cache"):
        assert translated(msgid) in nav.inner_text(), msgid
    assert page.locator("#history-title").inner_text().strip() == translated(
        "Complete Transaction History"
    )
    assert page.locator("h1").inner_text().strip() == translated("Token & Credit Usage Dashboard")
    w.assert_clean()


def test_english_browser_gets_english(seeded: Site, open_page: OpenPage) -> None:
    w = open_page(locale="en-US", state=seeded.state)
    page = w.page
    page.goto(seeded.url + "/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Refresh Data" in page.locator("nav.nav").inner_text()
    assert "1,200" in page.locator("#showing").inner_text()
    w.assert_clean()
