"""Keyboard only: a transaction's detail. The table is one tab stop, a row of `#history tbody`
(not a stop per row or per description); Enter on the focused row opens its detail, an element
`[data-row-detail]` that becomes visible with the full description. Written against the
selectors agreed with the design pass (issue 11), which builds the detail."""

from __future__ import annotations

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
    assert len(in_table) == 1, f"{len(in_table)} tab stops inside the table's rows: {in_table[:5]}"

    keys.start_at_the_top(page)
    keys.tab_to(page, "#history tbody tr")
    assert page.locator("[data-row-detail]:visible").count() == 0, "a detail is open already"
    page.keyboard.press("Enter")
    detail = page.locator("[data-row-detail]:visible")
    detail.first.wait_for(state="visible", timeout=5_000)
    assert detail.count() == 1
    text = detail.inner_text()
    row = page.locator("#history tbody tr").first
    assert row.evaluate("r => r.contains(document.activeElement) || r === document.activeElement")
    description = page.evaluate(
        "() => { const r = document.querySelector('#history tbody tr');"
        " const d = r.querySelector('.desc .full, [data-description]');"
        " return d ? (d.dataset.description || d.textContent).trim() : ''; }"
    )
    if description:
        assert description in text, f"the detail lacks the full description: {text[:200]}"
    w.assert_clean()
