"""Paging the transaction history with the Left and Right arrow keys."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Request

from tests.browser.pages import OpenPage, Site

pytestmark = pytest.mark.browser

# How long a key press gets to start a navigation it must not start. A navigation would show
# up as a request within milliseconds on loopback, long before it replaces the document.
QUIET_MS = 300


def _showing(page: Page) -> str:
    return page.locator("#showing").inner_text().strip()


def _press_and_stay(page: Page, key: str) -> None:
    """Press `key` and prove that no navigation followed: the same document is still there."""
    url = page.url
    requests: list[str] = []

    def navigation(request: Request) -> None:
        if request.is_navigation_request():
            requests.append(request.url)

    page.on("request", navigation)
    page.evaluate("window.__sameDocument = true")
    page.keyboard.press(key)
    page.wait_for_timeout(QUIET_MS)
    page.remove_listener("request", navigation)
    assert not requests, f"{key} navigated to {requests}"
    assert page.url == url
    assert page.evaluate("window.__sameDocument === true"), f"{key} reloaded the page"


def test_arrow_keys_move_between_pages(seeded: Site, open_page: OpenPage) -> None:
    w = open_page(state=seeded.state)
    page = w.page
    page.goto(seeded.url + "/")
    assert _showing(page) == "Showing 1-300 of 1,200 transactions (Page 1 of 4)"
    first_row = page.locator("#history-table tbody tr").first.inner_text()

    _press_and_stay(page, "ArrowLeft")  # no page before the first

    with page.expect_navigation():
        page.keyboard.press("ArrowRight")
    assert page.url == seeded.url + "/?page=2#history"
    assert _showing(page) == "Showing 301-600 of 1,200 transactions (Page 2 of 4)"
    assert page.locator("#history-table tbody tr").count() == 300
    assert page.locator("#pager-bottom [aria-current=page]").inner_text().strip() == "2"
    assert page.locator("#history-table tbody tr").first.inner_text() != first_row

    with page.expect_navigation():
        page.keyboard.press("ArrowLeft")
    assert page.url == seeded.url + "/?page=1#history"
    assert _showing(page) == "Showing 1-300 of 1,200 transactions (Page 1 of 4)"
    assert page.locator("#history-table tbody tr").first.inner_text() == first_row

    page.goto(seeded.url + "/?page=4")
    assert _showing(page) == "Showing 901-1,200 of 1,200 transactions (Page 4 of 4)"
    _press_and_stay(page, "ArrowRight")  # no page after the last
    w.assert_clean()


def test_arrow_keys_do_not_page_while_typing(seeded: Site, open_page: OpenPage) -> None:
    w = open_page(state=seeded.state)
    page = w.page
    page.goto(seeded.url + "/?page=2")
    page.evaluate(
        """() => {
          for (const tag of ["input", "textarea"]) {
            const field = document.createElement(tag);
            field.id = "probe-" + tag;
            field.value = "some text";
            document.querySelector("main").prepend(field);
          }
        }"""
    )
    for tag in ("input", "textarea"):
        page.locator(f"#probe-{tag}").focus()
        _press_and_stay(page, "ArrowRight")
        _press_and_stay(page, "ArrowLeft")
    assert _showing(page) == "Showing 301-600 of 1,200 transactions (Page 2 of 4)"

    # With the field left, the keys page again.
    page.evaluate("document.activeElement.blur()")
    with page.expect_navigation():
        page.keyboard.press("ArrowRight")
    assert page.url == seeded.url + "/?page=3#history"
    w.assert_clean()


def test_modified_arrow_keys_are_left_to_the_browser(seeded: Site, open_page: OpenPage) -> None:
    """Alt+Arrow is the browser's Back/Forward and Shift+Arrow selects text."""
    w = open_page(state=seeded.state)
    page = w.page
    page.goto(seeded.url + "/?page=2")
    for key in ("Shift+ArrowRight", "Control+ArrowRight", "Shift+ArrowLeft"):
        _press_and_stay(page, key)
    w.assert_clean()
