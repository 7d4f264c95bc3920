"""Issue 11 in the browser: the balance leads (also on a phone in pt_BR, dark, low balance),
the keyboard path to the pager is short and every focus ring shows at 3:1, the row detail
opens by keyboard, Clear Cache asks first, and the Amount column reads at a glance."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.pages import OpenPage, Site, running_site
from tests.browser.test_design_shots import copy_out

pytestmark = pytest.mark.browser

# Contrast of two CSS colours, and the colour painted behind an element (the nearest ancestor
# with an opaque background).
CONTRAST_JS = """
window.__lum = (c) => {
  const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => {
    v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
window.__contrast = (a, b) => {
  const [x, y] = [__lum(a), __lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
};
window.__behind = (e) => {
  for (let n = e; n; n = n.parentElement) {
    const bg = getComputedStyle(n).backgroundColor;
    const alpha = bg.startsWith("rgba") ? Number(bg.match(/[\\d.]+/g)[3]) : 1;
    if (alpha > 0.5) return bg;
  }
  return getComputedStyle(document.body).backgroundColor;
};
"""


def _open(open_page: OpenPage, site: Site, **kwargs: Any) -> Page:
    page = open_page(state=site.state, **kwargs).page
    page.goto(site.url + "/")
    page.evaluate(CONTRAST_JS)
    return page


@pytest.mark.parametrize("locale", ["en-US", "pt-BR"])
def test_on_a_phone_the_sign_out_buttons_share_one_row(
    low_site: Site, open_page: OpenPage, locale: str
) -> None:
    """At 375 px the header is the title, the breadcrumb and one row of sign-out buttons; who
    is signed in is still there for a screen reader (and on wider screens for everyone)."""
    page = _open(open_page, low_site, locale=locale, width=375, height=812)
    buttons = page.locator("form.session button")
    tops = [box["y"] for box in (buttons.nth(i).bounding_box() for i in range(2)) if box]
    assert len(tops) == 2 and abs(tops[0] - tops[1]) < 2, f"two rows: {tops}"
    who = page.locator("form.session .who")
    assert "admin" in (who.text_content() or "")
    assert page.get_by_role("banner").get_by_text(who.text_content() or "").count() == 1
    page.set_viewport_size({"width": 1024, "height": 812})
    assert who.is_visible() and (who.bounding_box() or {"width": 0})["width"] > 40


def test_balance_leads_on_a_phone_in_pt_br_dark_low_balance(
    low_site: Site, open_page: OpenPage
) -> None:
    page = _open(open_page, low_site, locale="pt-BR", width=375, height=812, color_scheme="dark")
    balance = page.locator("dd.balance")
    assert balance.get_attribute("class") == "balance bad"
    box = balance.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 812, f"below the first screen: {box}"
    nav = page.locator("nav.nav").bounding_box()
    assert nav is not None and nav["y"] + nav["height"] < 812 * 0.45, f"header and nav: {nav}"
    # The balance is the largest text on the page.
    sizes = page.evaluate(
        """() => {
          const balance = document.querySelector("dd.balance");
          const own = parseFloat(getComputedStyle(balance).fontSize);
          let other = 0;
          for (const e of document.querySelectorAll("body *")) {
            if (balance.contains(e) || !e.offsetParent) continue;
            const text = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
            if (text) other = Math.max(other, parseFloat(getComputedStyle(e).fontSize));
          }
          return [own, other];
        }"""
    )
    assert sizes[0] > sizes[1] * 1.3, f"balance {sizes[0]}px, largest other text {sizes[1]}px"
    # The state is said next to it, and the banner is readable (white on the alarm red).
    assert page.locator(".state-pill").inner_text().strip() == "Saldo baixo"
    banner = page.locator(".low-balance")
    ratio = banner.evaluate("e => __contrast(getComputedStyle(e).color, __behind(e))")
    assert ratio >= 4.5, f"the low-balance banner's text is {ratio:.2f}:1"


def test_headline_money_at_cents_with_the_exact_value_on_focus(
    seeded: Site, open_page: OpenPage
) -> None:
    page = _open(open_page, seeded)
    for selector in ("dd.balance data", "dd[data-stat=credits_used] data"):
        money = page.locator(selector)
        shown = money.evaluate("e => e.firstChild.textContent")
        assert len(shown.split(".")[1]) == 2, shown
        exact = money.locator(".exact-value")
        if exact.count():
            assert not exact.is_visible()
            money.focus()
            assert exact.is_visible()
            assert (
                exact.inner_text()
                .replace(",", "")
                .endswith(
                    money.get_attribute("value").rstrip("0")  # type: ignore[union-attr]
                )
            )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_tab_stops_to_the_pager_and_visible_focus_rings(
    seeded: Site, open_page: OpenPage, scheme: str
) -> None:
    page = _open(open_page, seeded, color_scheme=scheme)
    stops = []
    for _ in range(60):
        page.keyboard.press("Tab")
        info = page.evaluate(
            """() => {
              const e = document.activeElement;
              const s = getComputedStyle(e);
              const ring = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2;
              const behind = __behind(e.parentElement || e);
              return {
                tag: e.tagName + (e.id ? "#" + e.id : ""),
                ring, ratio: ring ? __contrast(s.outlineColor, behind) : 0,
                pager: !!e.closest("#pager-top"),
              };
            }"""
        )
        stops.append(info)
        if info["pager"]:
            break
    assert stops[-1]["pager"], f"the top pager was not reached in 60 Tabs: {stops}"
    assert len(stops) <= 30, f"{len(stops)} tab stops to the pager: {[s['tag'] for s in stops]}"
    for stop in stops:
        assert stop["ring"], f"no focus ring on {stop['tag']}"
        assert stop["ratio"] >= 3, f"focus ring of {stop['tag']} is {stop['ratio']:.2f}:1"


def test_pager_and_landmarks_pass_contrast_and_names(seeded: Site, open_page: OpenPage) -> None:
    for scheme in ("light", "dark"):
        page = _open(open_page, seeded, color_scheme=scheme)
        disabled = page.locator("#pager-top span.disabled").first
        ratio = disabled.evaluate("e => __contrast(getComputedStyle(e).color, __behind(e))")
        assert ratio >= 4.5, f"disabled Previous is {ratio:.2f}:1 in {scheme}"
    section = page.locator("section.history")
    region = page.locator("#history-table")
    names = [
        section.evaluate(
            "e => document.getElementById(e.getAttribute('aria-labelledby')).textContent"
        ),
        region.get_attribute("aria-label"),
    ]
    assert names[0] and names[1] and names[0] != names[1], names


def test_row_detail_opens_by_keyboard_with_one_tab_stop(
    seeded: Site, open_page: OpenPage, screenshot_dir: Path
) -> None:
    page = _open(open_page, seeded)
    rows = page.locator("#history-table tbody tr")
    assert rows.count() == 300
    assert page.locator("#history-table tbody [tabindex]").count() == 0, "no tab stop per row"
    page.locator("#history-table").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowDown")
    second = rows.nth(1)
    assert second.evaluate("r => r === document.activeElement")
    ring = second.evaluate("r => getComputedStyle(r).outlineStyle")
    assert ring != "none"
    page.keyboard.press("Enter")
    detail = page.locator("#row-detail")
    assert detail.evaluate("d => d.open")
    shot = screenshot_dir / "row-detail.png"
    page.screenshot(path=shot)
    copy_out([shot])
    field = lambda name: detail.locator(f'[data-field="{name}"]').inner_text()  # noqa: E731
    assert field("id") == second.get_attribute("data-id")
    assert field("description") == second.locator("td.desc").text_content()
    split = (second.get_attribute("data-split") or "").split(" ")
    for name, raw in zip(("input", "completion", "cached"), split, strict=True):
        shown = field(name).replace(",", "")
        assert shown == (raw or "\u2014"), (name, shown, raw)
    exact = Decimal(second.locator("td.amount").get_attribute("data-amount") or "")
    assert Decimal(field("amount").replace(",", "").replace("$", "")) == exact
    page.keyboard.press("Escape")
    assert not detail.evaluate("d => d.open")
    assert second.evaluate("r => r === document.activeElement"), "focus returns to the row"
    # Left/Right still page while a row is focused; the URL keeps #history.
    with page.expect_navigation():
        page.keyboard.press("ArrowRight")
    assert page.url.endswith("/?page=2#history")


def test_amount_column_aligns_and_usage_is_neutral(seeded: Site, open_page: OpenPage) -> None:
    page = _open(open_page, seeded)
    cells = page.evaluate(
        """() => [...document.querySelectorAll("#history-table tbody tr")].map(r => {
          const td = r.cells[3];
          const range = document.createRange();
          range.selectNodeContents(td);
          const box = range.getBoundingClientRect();
          return {kind: r.className || "usage", text: td.textContent, right: box.right,
                  colour: getComputedStyle(td).color,
                  text_colour: getComputedStyle(r.cells[1]).color,
                  numeric: getComputedStyle(td).fontVariantNumeric};
        })"""
    )
    decimals = {len(c["text"].split(".")[1]) for c in cells}
    assert len(decimals) == 1, f"one precision for the column: {decimals}"
    rights = {round(c["right"]) for c in cells}
    assert max(rights) - min(rights) <= 1, "the amounts end on one line (decimal points align)"
    assert all("tabular-nums" in c["numeric"] for c in cells)
    bad = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--bad')")
    red = page.evaluate(
        f"(() => {{ const e = document.createElement('i'); e.style.color = '{bad.strip()}';"
        " document.body.append(e); const c = getComputedStyle(e).color; e.remove(); return c; })()"
    )
    usage = [c for c in cells if c["kind"] == "usage"]
    marked = [c for c in cells if c["kind"] != "usage"]
    assert usage and marked
    assert all(c["colour"] != red and c["text_colour"] != red for c in usage), "usage is red"
    assert {c["colour"] for c in marked}.isdisjoint({c["colour"] for c in usage})


@pytest.fixture
def small(browser: Browser, tmp_path: Path) -> Iterator[Site]:
    with running_site(browser, tmp_path, transactions=40) as site:
        yield site


def test_clear_cache_asks_in_a_dialog(
    small: Site, open_page: OpenPage, screenshot_dir: Path
) -> None:
    w = open_page(state=small.state)
    page = w.page
    page.goto(small.url + "/")
    rows = page.locator("#history-table tbody tr").count()
    assert rows == 40
    button = page.locator("nav.nav form[data-confirm] button")
    colour = button.evaluate("b => getComputedStyle(b).color")
    assert colour != page.locator("nav.nav .nav-actions .btn").first.evaluate(
        "b => getComputedStyle(b).color"
    ), "Clear Cache has the danger style"
    dialog = page.locator("#clear-dialog")
    button.click()
    assert dialog.evaluate("d => d.open")
    shot = screenshot_dir / "clear-cache-dialog.png"
    page.screenshot(path=shot)
    copy_out([shot])
    dialog.get_by_role("button", name="Cancel").click()
    assert not dialog.evaluate("d => d.open")
    assert page.url == small.url + "/", "cancel stays on the page"
    # By keyboard: Enter on the focused button opens it; confirming clears and says so.
    button.focus()
    page.keyboard.press("Enter")
    assert dialog.evaluate("d => d.open")
    with page.expect_navigation():
        dialog.get_by_role("button", name="Clear Cache").click()
    flash = page.locator("[data-flash=success]")
    assert flash.inner_text().strip() == (
        "Cleared 40 cached transactions. Fresh data will be fetched."
    )
    w.assert_clean()


def test_clear_cache_without_scripts_confirms_on_a_page(browser: Browser, small: Site) -> None:
    context = browser.new_context(storage_state=small.state, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(small.url + "/")
        page.locator("nav.nav form[data-confirm] button").click()
        page.wait_for_load_state()
        assert page.locator("#confirm-message").inner_text().startswith("Nothing was cleared")
        page.goto(small.url + "/")
        assert page.locator("#history-table tbody tr").count() == 40, "nothing was cleared"
        page.locator("nav.nav form[data-confirm] button").click()
        page.locator("main form button.danger-solid").click()
        page.wait_for_load_state()
        assert "Cleared 40 cached transactions" in page.locator("[data-flash]").inner_text()
    finally:
        context.close()
