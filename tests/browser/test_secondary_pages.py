"""Issue 11, the pages around the overview: help and debug headings at the size of the
overview's section headings, help using the width, one label column across the debug cards,
an outage told once on the debug page with no empty boxes, and a sign-in page without the
signed-in chrome."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.pages import OpenPage, Site
from tests.browser.states import api_down_site

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def down(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with api_down_site(browser, tmp_path_factory.mktemp("pages-down")) as site:
        yield site


def _font_sizes(page: Page, selector: str) -> set[str]:
    return set(
        page.locator(selector).evaluate_all("es => es.map(e => getComputedStyle(e).fontSize)")
    )


def test_headings_match_the_overview(seeded: Site, open_page: OpenPage) -> None:
    page = open_page(state=seeded.state, width=1440).page
    page.goto(seeded.url + "/")
    (overview,) = _font_sizes(page, "#history-title")
    for path, selector in (
        ("/help", "main h2"),
        ("/debug", "main h2"),
        ("/alerts", "main h2"),
        ("/tokens", "main h2"),
    ):
        page.goto(seeded.url + path)
        assert _font_sizes(page, selector) == {overview}, f"{path}: headings differ"


def test_help_uses_the_width(seeded: Site, open_page: OpenPage) -> None:
    page = open_page(state=seeded.state, width=1440).page
    page.goto(seeded.url + "/help")
    used = page.evaluate(
        """() => {
          const main = document.querySelector("main").getBoundingClientRect();
          const parts = [...document.querySelectorAll("main .panel")]
            .map(e => e.getBoundingClientRect());
          const left = Math.min(...parts.map(r => r.left));
          const right = Math.max(...parts.map(r => r.right));
          const pad = parseFloat(getComputedStyle(document.querySelector("main")).paddingLeft);
          return (right - left) / (main.width - 2 * pad);
        }"""
    )
    assert used > 0.95, f"help fills {used:.0%} of the column"
    markers = page.locator(".prose ol > li").first.evaluate(
        "e => getComputedStyle(e, '::marker').color !== getComputedStyle(e).color"
    )
    assert markers, "list markers are unstyled"


def test_debug_labels_share_one_column(seeded: Site, open_page: OpenPage) -> None:
    page = open_page(state=seeded.state, width=1440).page
    page.goto(seeded.url + "/debug")
    lefts = page.locator(".debug dl > dd").evaluate_all(
        "es => [...new Set(es.map(e => Math.round(e.getBoundingClientRect().left)))]"
    )
    assert len(lefts) == 1, f"values start at {sorted(lefts)} px: one label width per card"


def test_debug_tells_an_outage_once(down: Site, open_page: OpenPage) -> None:
    w = open_page(state=down.state, width=1440)
    page = w.page
    page.goto(down.url + "/debug")
    causes = page.locator("main .cause").all_inner_texts()
    assert len(causes) == 1, causes
    assert page.locator("main").inner_text().count(causes[0]) == 1
    assert page.locator("main pre").count() == 0, "empty response bodies are boxes"
    assert page.locator("main .na").count() >= 4
    w.assert_clean()


def test_debug_bodies_are_labelled_focusable_regions(seeded: Site, open_page: OpenPage) -> None:
    page = open_page(state=seeded.state, width=375).page
    page.goto(seeded.url + "/debug")
    bodies = page.locator("main pre")
    assert bodies.count() >= 3
    for n in range(bodies.count()):
        body = bodies.nth(n)
        assert body.get_attribute("tabindex") == "0"
        assert body.get_attribute("role") == "region"
        assert (body.get_attribute("aria-label") or "").endswith(": raw body")


def test_sign_in_shows_no_signed_in_chrome(seeded: Site, open_page: OpenPage) -> None:
    """Breadcrumb links to a dashboard a signed-out visitor cannot use are noise (base.html)."""
    page = open_page(width=375).page
    page.goto(seeded.url + "/login")
    assert page.locator(".breadcrumb:visible").count() == 0, "the sign-in page shows a breadcrumb"
    assert page.locator("nav.nav").count() == 0
    assert page.locator("#login-title").is_visible()
