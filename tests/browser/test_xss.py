"""Upstream text (service types, descriptions) is shown as text, never run, under the strict CSP;
a long description is cut in the table and shown whole on hover and on keyboard focus."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Page

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
    rows = page.locator("#history-table tbody tr:not(.purchase):not(.refund)")
    found = rows.evaluate_all(
        """rows => rows.map(r => {
          const cells = r.querySelectorAll("td");
          return [cells[2].getAttribute("title") || cells[2].textContent, cells[6].textContent];
        })"""
    )
    return [(s, d) for s, d in reversed(found)]


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


def _check_detail(page: Page, index: int, text: str) -> None:
    """The cell holds the whole text, cut by CSS to the column; the row's detail (Enter on the
    focused row) shows all of it, as text, in the top layer (never clipped by the table)."""
    row = page.locator("#history-table tbody tr").nth(index)
    cell = row.locator("td.desc")
    assert cell.text_content() == text
    assert cell.evaluate("e => getComputedStyle(e).textOverflow") == "ellipsis"
    assert cell.evaluate("e => e.scrollWidth > e.clientWidth"), "a long text is cut to fit"
    page.locator("#history-table").focus()
    for _ in range(index + 1):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    detail = page.locator("#row-detail")
    assert detail.evaluate("d => d.open")
    shown = detail.locator('[data-field="description"]')
    assert shown.text_content() == text
    assert shown.locator("*").count() == 0, "no markup was parsed from the text"
    box = shown.bounding_box()
    assert box is not None and box["width"] > 100
    page.keyboard.press("Escape")
    assert not detail.evaluate("d => d.open")


def test_long_description_is_cut_by_css_and_shown_whole_in_the_detail(
    hostile: Site, open_page: OpenPage
) -> None:
    w = open_page(state=hostile.state, width=1000, height=1600)
    page = w.page
    page.goto(hostile.url + "/")
    _check_detail(page, 1, LONG)
    last = page.locator("#history-table tbody tr").count() - 1
    _check_detail(page, last, LAST)
    w.assert_clean()
