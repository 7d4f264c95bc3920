"""Keyboard only: a transaction's detail. The table is one tab stop (its scroll region), not a
stop per row or per description; the arrow keys move to a row and Enter opens its detail, a
dialog with the full description."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.browser import keys
from tests.browser.pages import OpenPage, Site

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1440, 375])
def test_enter_on_a_row_opens_its_detail(seeded: Site, open_page: OpenPage, width: int) -> None:
    w = open_page(state=seeded.state, width=width)
    page = w.page
    page.goto(seeded.url + "/")
    stops = keys.tab_stops(page)
    in_table = [s["what"] for s in stops if s["inHistoryBody"]]
    assert in_table == [], f"{len(in_table)} tab stops inside the table's rows: {in_table[:5]}"

    keys.start_at_the_top(page)
    keys.tab_to(page, "#history-table")
    detail = page.locator("#row-detail")
    assert not detail.evaluate("d => d.open"), "a detail is open already"
    page.keyboard.press("ArrowDown")
    row = page.locator("#history-table tbody tr").first
    assert row.evaluate("r => r === document.activeElement")
    page.keyboard.press("Enter")
    detail.wait_for(state="visible", timeout=5_000)
    description = (row.locator("td.desc").text_content() or "").strip()
    assert description and description in detail.inner_text()
    page.keyboard.press("Escape")
    assert row.evaluate("r => r === document.activeElement"), "focus returns to the row"
    w.assert_clean()


@pytest.mark.parametrize(("locale", "point"), [("en-US", "."), ("pt-BR", ",")])
def test_the_detail_shows_the_rows_exact_amount_as_the_server_formats_it(
    seeded: Site, open_page: OpenPage, locale: str, point: str
) -> None:
    """The amount in the detail is the table's own cell (Babel, every digit, the locale's
    separators), not a second formatting in the browser that could disagree with it."""
    w = open_page(state=seeded.state, locale=locale)
    page = w.page
    page.goto(seeded.url + "/")
    detail = page.locator("#row-detail")
    for index in (0, 1, 2):
        row = page.locator("#history-table tbody tr").nth(index)
        cell = row.locator("td.amount")
        row.locator("td.desc").click()
        detail.wait_for(state="visible", timeout=5_000)
        shown = detail.locator('[data-field="amount"]').inner_text().strip()
        assert shown == (cell.text_content() or "").strip()
        number = "".join(c for c in shown if c.isdigit() or c in "-+" + point)
        exact = Decimal(cell.get_attribute("data-amount") or "")
        assert Decimal(number.replace(point, ".")) == exact, (shown, exact)
        page.keyboard.press("Escape")
    w.assert_clean()
