"""Upstream text (service types, descriptions) is shown as text, never run, under the strict CSP;
a long description is cut in the table and shown whole on hover and on keyboard focus."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Locator, Page

from tests.browser.pages import OpenPage, Site, running_site
from tests.fixtures import RunningLicenseServer

pytestmark = pytest.mark.browser

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
SVG = "\"'><svg onload=alert(1)>"
LONG = f"Batch {SCRIPT} then {IMG} and then {SVG}, followed by a tail long enough to be cut"
LAST = "Thumbnail analysis of the oldest batch, the last row of the table: " + LONG
# (service type, description) of each usage entry, oldest first. Two long descriptions: the
# newest usage row's, near the top of the table, and the table's last row's (the purchase comes
# last), where a tooltip has the least room.
ENTRIES = [
    ("Image processing", LAST),
    (SCRIPT, IMG),
    (IMG, SCRIPT),
    (SVG, SVG),
    ("Image processing", LONG),
]


def _prepare(srv: RunningLicenseServer) -> None:
    for service, description in ENTRIES:
        srv.ledger.add_entry(
            srv.licence_id,
            "usage",
            Decimal("-0.01"),
            service_type=service,
            description=description,
            images=1,
        )
    srv.ledger.add_entry(srv.licence_id, "purchase", Decimal("10.00"), service_type="Top-up")


@pytest.fixture(scope="module")
def hostile(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("hostile")
    with running_site(browser, root, prepare=_prepare) as site:
        yield site


def _cells(page: Page) -> list[tuple[str, str]]:
    """(service, description) as text of each usage row, oldest first like ENTRIES."""
    rows = page.locator("#history-table tbody tr").filter(has=page.locator(".badge.usage"))
    found = rows.evaluate_all(
        """rows => rows.map(r => {
          const cells = r.querySelectorAll("td");
          const full = cells[6].querySelector(".desc .full");
          return [cells[2].textContent, full ? full.textContent : cells[6].textContent];
        })"""
    )
    return [(s, d) for s, d in reversed(found)]


def _box(locator: Locator) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None
    return box


def _assert_shown_whole(page: Page, full: Locator) -> None:
    box = _box(full)
    assert box["width"] > 100 and box["height"] > 10, f"tooltip not opened: {box}"
    # Not clipped by the table's scroll container nor covered: the tooltip is what is
    # painted at its own corners.
    for x, y in (
        (box["x"] + 4, box["y"] + 4),
        (box["x"] + box["width"] - 4, box["y"] + box["height"] - 4),
    ):
        inside = page.evaluate(
            "([x, y]) => { const e = document.elementFromPoint(x, y);"
            " return !!e && !!e.closest('.desc .full'); }",
            [x, y],
        )
        assert inside, f"the tooltip {box} is clipped or covered at ({x}, {y})"


def test_hostile_text_is_shown_literally_and_never_runs(hostile: Site, open_page: OpenPage) -> None:
    w = open_page(state=hostile.state)
    page = w.page
    page.goto(hostile.url + "/")

    assert _cells(page) == ENTRIES
    # Nothing was parsed into elements: no script, image or svg inside the table body.
    assert page.locator("#history-table tbody :is(script, img, svg:not(.icon))").count() == 0
    page.wait_for_timeout(200)  # an onerror/onload would have fired by now
    w.assert_clean()

    # The debug page shows the raw, unbranded bodies: escaped there too.
    page.goto(hostile.url + "/debug")
    assert SCRIPT in page.locator("main").inner_text()
    assert page.locator("main script, main img").count() == 0
    page.wait_for_timeout(200)
    w.assert_clean()


def _check_tooltip(page: Page, desc: Locator, text: str) -> None:
    full = desc.locator(".full")
    assert full.text_content() == text
    assert desc.locator("[aria-hidden=true]").text_content() == text[:50] + "…"
    closed = _box(full)
    assert closed["width"] <= 1 and closed["height"] <= 1, f"tooltip open before hover: {closed}"

    desc.hover()
    _assert_shown_whole(page, full)
    page.mouse.move(0, 0)
    assert _box(full)["width"] <= 1, "the tooltip stays open after the pointer left"

    desc.focus()
    _assert_shown_whole(page, full)
    page.evaluate("document.activeElement.blur()")


def test_long_description_is_cut_and_shown_whole_on_hover_and_focus(
    hostile: Site, open_page: OpenPage
) -> None:
    w = open_page(state=hostile.state, height=1600)  # the whole short page in view
    page = w.page
    page.goto(hostile.url + "/")
    assert page.locator(".desc").count() == 2
    _check_tooltip(page, page.locator("#history-table tbody tr").nth(1).locator(".desc"), LONG)
    w.assert_clean()


def test_long_description_of_the_last_row_is_not_clipped(
    hostile: Site, open_page: OpenPage
) -> None:
    w = open_page(state=hostile.state, height=1600)
    page = w.page
    page.goto(hostile.url + "/")
    _check_tooltip(page, page.locator("#history-table tbody tr").last.locator(".desc"), LAST)
    w.assert_clean()
