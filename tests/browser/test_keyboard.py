"""Keyboard only: sign in, filter, page with the arrow keys, download, reach every action; a
focus ring of at least 3:1 against what lies behind it on every tab stop, light and dark; and
the pager within 30 tab stops of the top of the page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import Browser

from tests.browser import keys
from tests.browser.pages import OpenPage, Site
from tests.browser.states import low_balance_site

pytestmark = pytest.mark.browser

MAX_STOPS_TO_PAGER = 30
MIN_RING_CONTRAST = 3.0


@pytest.fixture(scope="module")
def low(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The overview in its low-balance state, with an alert rule and an API token."""
    with low_balance_site(browser, tmp_path_factory.mktemp("keys-low")) as site:
        yield site


def test_sign_in_with_the_keyboard(seeded: Site, open_page: OpenPage) -> None:
    w = open_page()
    page = w.page
    page.goto(seeded.url + "/login")
    assert page.evaluate("document.activeElement.id") == "username", "the form has no focus"
    page.keyboard.type(seeded.dash.admin)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(seeded.dash.password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == seeded.url + "/"
    assert page.locator("#history").count() == 1
    w.assert_clean()


def test_filter_with_the_keyboard(seeded: Site, open_page: OpenPage) -> None:
    w = open_page(state=seeded.state)
    page = w.page
    page.goto(seeded.url + "/")
    keys.start_at_the_top(page)
    keys.tab_to(page, "#filter-box > summary")  # the form folds into a disclosure
    page.keyboard.press("Enter")
    keys.tab_to(page, "#filters input[name=type][value=purchase]", limit=20)
    page.keyboard.press("Space")
    keys.tab_to(page, "#filters input[name=type][value=refund]", limit=3)
    page.keyboard.press("Space")
    keys.tab_to(page, "#filters button[type=submit]", limit=40)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "type=purchase" in page.url and "type=refund" in page.url, page.url
    types = page.locator("#history-table tbody tr").evaluate_all(
        "rows => [...new Set(rows.map(r => r.dataset.type || r.querySelector('td:nth-child(2)')"
        ".innerText.trim().toLowerCase()))]"
    )
    assert types and set(types) <= {"purchase", "refund"}, types
    w.assert_clean()


def test_page_with_the_arrow_keys_keeps_the_table_in_view(
    seeded: Site, open_page: OpenPage
) -> None:
    w = open_page(state=seeded.state, width=1440, height=900)
    page = w.page
    page.goto(seeded.url + "/")
    with page.expect_navigation():
        page.keyboard.press("ArrowRight")
    assert page.url.startswith(seeded.url + "/?page=2")
    page.wait_for_load_state("load")
    top = page.locator("#history").evaluate("e => e.getBoundingClientRect().top")
    assert -5 <= top <= 300, f"after paging the history starts at {top} px, out of view"
    with page.expect_navigation():
        page.keyboard.press("ArrowLeft")
    assert page.url.startswith(seeded.url + "/?page=1")
    w.assert_clean()


def test_download_with_the_keyboard(seeded: Site, open_page: OpenPage) -> None:
    w = open_page(state=seeded.state)
    page = w.page
    page.goto(seeded.url + "/")
    keys.start_at_the_top(page)
    keys.tab_to(page, "a[href^='/download.csv']")
    with page.expect_download() as info:
        page.keyboard.press("Enter")
    download = info.value
    assert download.failure() is None
    assert Path(download.path()).read_bytes().count(b"\n") > 1000
    w.assert_clean()


def test_every_action_is_a_tab_stop_and_its_links_lead_there(
    seeded: Site, open_page: OpenPage
) -> None:
    w = open_page(state=seeded.state)
    page = w.page
    page.goto(seeded.url + "/")
    stops = keys.tab_stops(page)
    actions = page.locator("nav.nav a, nav.nav button, form.session button").evaluate_all(
        "es => es.map(e => [e.dataset.tabStop !== undefined, e.innerText.trim()])"
    )
    assert len(actions) >= 10, actions
    missed = [name for reached, name in actions if not reached]
    assert not missed, f"not reachable with Tab: {missed} (of {len(stops)} stops)"
    for path in ("/alerts", "/tokens", "/debug", "/help", "/"):
        keys.tab_to(page, f"nav.nav a[href='{path}']")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url == seeded.url + path
    keys.tab_to(page, "nav.nav form[action='/actions/refresh'] button")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.startswith(seeded.url + "/")
    w.assert_clean()


def test_the_pager_is_within_30_tab_stops(low: Site, open_page: OpenPage) -> None:
    w = open_page(state=low.state, width=1440)
    page = w.page
    page.goto(low.url + "/")
    stops = keys.tab_stops(page)
    to_pager = next((s["press"] for s in stops if s["inPager"]), None)
    listing = "\n".join(f"{s['press']:4} {s['what']}" for s in stops[:40])
    assert to_pager is not None, f"no pager link among {len(stops)} tab stops"
    assert to_pager <= MAX_STOPS_TO_PAGER, (
        f"{to_pager} Tab presses to the pager (at most {MAX_STOPS_TO_PAGER}):\n{listing}"
    )
    w.assert_clean()


PAGES = ("/login", "/", "/?page=4", "/debug", "/help", "/alerts", "/tokens")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_focus_ring_on_every_tab_stop(
    low: Site, open_page: OpenPage, scheme: Literal["light", "dark"]
) -> None:
    """Every tab stop of every page shows a solid outline of at least 3:1 against the nearest
    opaque background behind it."""
    bad: list[str] = []
    counted = 0
    for path in PAGES:
        w = open_page(
            state=None if path == "/login" else low.state, color_scheme=scheme, width=1440
        )
        page = w.page
        page.goto(low.url + path)
        stops = keys.tab_stops(page)
        assert stops, f"{path}: no tab stops"
        counted += len(stops)
        bad += [
            f"{path} {s['what']}: ring {s['ring']} {s['width']}px on {s['behind']}, "
            f"{s['ratio']:.2f}:1"
            for s in stops
            if s["visible"] and (s["width"] < 2 or s["ratio"] < MIN_RING_CONTRAST)
        ]
        w.assert_clean()
    assert counted > 50
    shown = "\n".join(bad[:40]) + (f"\n… and {len(bad) - 40} more" if len(bad) > 40 else "")
    assert not bad, f"{len(bad)} of {counted} tab stops ({scheme}) lack a 3:1 focus ring:\n{shown}"
