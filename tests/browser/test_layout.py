"""Phone-width layout and keyboard use of the transaction table."""

from __future__ import annotations

import pytest

from tests.browser.pages import OpenPage, Site

pytestmark = pytest.mark.browser

PHONE = 375


def test_phone_nav_keeps_its_spacing(seeded: Site, open_page: OpenPage) -> None:
    w = open_page(width=PHONE, state=seeded.state)
    page = w.page
    page.goto(seeded.url + "/")
    gaps = page.evaluate(
        """() => {
          const header = document.querySelector(".site-header").getBoundingClientRect();
          const buttons = [...document.querySelectorAll("nav.nav .btn")]
            .map(b => b.getBoundingClientRect());
          const cards = document.querySelector(".cards").getBoundingClientRect();
          const top = Math.min(...buttons.map(b => b.top));
          const bottom = Math.max(...buttons.map(b => b.bottom));
          return {above: top - header.bottom, below: cards.top - bottom};
        }"""
    )
    assert gaps["above"] >= 6 and gaps["below"] >= 6, gaps
    w.assert_clean()


def test_arrow_keys_scroll_a_focused_table_instead_of_paging(
    seeded: Site, open_page: OpenPage
) -> None:
    w = open_page(width=900, state=seeded.state)
    page = w.page
    page.goto(seeded.url + "/")
    region = page.locator("#history-table")
    # A box narrower than the table, as on a small tablet or a zoomed page (phones get a
    # stacked layout instead, which needs no sideways scrolling).
    region.evaluate("e => { e.style.width = '420px'; }")
    region.focus()  # and in view: rows off screen are not laid out (content-visibility)
    region.scroll_into_view_if_needed()
    overflow = region.evaluate("e => e.scrollWidth - e.clientWidth")
    assert overflow > 0, "the table is wider than its container"
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)
    assert page.url == seeded.url + "/", "ArrowRight in the focused table changed the page"
    assert region.evaluate("e => e.scrollLeft") > 0
    w.assert_clean()
