"""Issue 8 in the browser: the runway, the spend chart, the breakdown and the history's filters
on the seeded 1,200-entry ledger (30 days ending now), in English and Portuguese, light and
dark, at desktop and phone widths; and the filtered CSV download."""

from __future__ import annotations

import csv
import io
import os
import shutil
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page

from tests.browser.pages import OpenPage, Site
from tests.browser.test_screenshots import png_size
from tests.fixtures import SEED_END
from tokenusage.usage.branding import brand
from tokenusage.usage.fmt import format_money

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
LOCALES = {"en": "en-US", "pt_BR": "pt-BR"}
SCHEMES = ("light", "dark")
WIDTHS = (1440, 375)
# The seeded ledger's last 30 days, as a date filter.
LEDGER_MONTH = f"from={SEED_END.date() - timedelta(days=29)}&to={SEED_END.date()}"


def ledger(site: Site) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = site.srv.ledger.history(site.srv.licence_id)["transactions"]
    return rows


def when(row: dict[str, Any]) -> datetime:
    moment = row["created_at"]
    stamp = moment if isinstance(moment, datetime) else datetime.fromisoformat(str(moment))
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def shown_amounts(page: Page) -> list[Decimal]:
    cells = page.locator("#history-table td[data-amount]")
    return [Decimal(a) for a in cells.evaluate_all("cs => cs.map(c => c.dataset.amount)")]


def texts(locator: Locator) -> list[str]:
    """The text of SVG elements (which have no innerText)."""
    found: list[str] = locator.evaluate_all("els => els.map(e => e.textContent)")
    return found


def showing(page: Page) -> str:
    return page.locator("#showing").inner_text().strip()


def test_filters_in_the_url_select_the_rows_and_are_named(
    seeded: Site, open_page: OpenPage
) -> None:
    w = open_page(state=seeded.state)
    page = w.page
    page.goto(seeded.url + "/?type=purchase&type=refund")
    expected = [r for r in ledger(seeded) if r["type"] in ("purchase", "refund")]
    assert expected, "the demo ledger has purchases and refunds"
    n = len(expected)
    assert showing(page) == f"Showing 1-{n} of {n} matching transactions (Page 1 of 1)"
    assert page.locator("#filter-summary").inner_text().strip() == (
        "Filtered by: type: purchase, refund"
    )
    amounts = shown_amounts(page)
    assert amounts == [Decimal(str(r["amount"])) for r in expected]
    total = sum(amounts, Decimal(0))
    shown_total = page.locator("#matching-total").inner_text().strip()
    assert shown_total.endswith(": +" + format_money(total, "USD", "en")), shown_total
    kinds = page.locator("#history-table tbody td.type").all_text_contents()
    assert set(kinds) == {"purchase", "refund"}
    # The form shows the state it came from.
    assert page.locator("input[name=type][value=purchase]").is_checked()
    assert not page.locator("input[name=type][value=usage]").is_checked()
    w.assert_clean()


def test_the_form_filters_by_date_and_search_and_lands_on_the_history(
    seeded: Site, open_page: OpenPage
) -> None:
    w = open_page(state=seeded.state)
    page = w.page
    page.goto(seeded.url + "/")
    today = SEED_END.date()  # the seeded ledger's last day
    first = today - timedelta(days=6)
    # Without active filters the form is folded into one tab stop; it opens on a click.
    assert not page.locator("#filter-from").is_visible()
    page.locator("#filter-box > summary").click()
    page.locator("#filter-from").fill(first.isoformat())
    page.locator("#filter-to").fill(today.isoformat())
    page.locator("input[name=type][value=usage]").check()
    page.locator("#filter-q").fill("image")
    with page.expect_navigation():
        page.locator("#filters button[type=submit]").click()
    assert "from=" + first.isoformat() in page.url and "type=usage" in page.url
    assert "q=image" in page.url and page.url.endswith("#history")
    expected = [
        r
        for r in ledger(seeded)
        if r["type"] == "usage"
        and first <= when(r).date() <= today
        and ("image" in r["service_type"].lower() or "image" in r["description"].lower())
    ]
    assert expected
    shown = showing(page)
    assert f"of {len(expected):,} matching transactions" in shown, shown
    assert (
        page.locator("#filter-summary")
        .inner_text()
        .strip()
        .startswith(f"Filtered by: {first:%b} {first.day}, {first.year} to")
    )
    # The chart follows the date range: 7 daily bars.
    assert page.locator("#spend-chart svg.bars-svg g.bar").count() == 7
    # The reader was taken to the table.
    assert page.evaluate("document.getElementById('history').getBoundingClientRect().top") < 50
    page.locator("#clear-filters").click()
    page.wait_for_url(seeded.url + "/#history")
    assert showing(page) == "Showing 1-300 of 1,200 transactions (Page 1 of 4)"
    # A preset sets the range, keeping the other filters.
    page.goto(seeded.url + "/?type=usage")
    with page.expect_navigation():
        page.locator("[data-preset='90d']").click()
    now = datetime.now(UTC).date()
    assert page.url == f"{seeded.url}/?from={now - timedelta(days=89)}&to={now}&type=usage#insights"
    assert page.locator("[data-preset='90d']").get_attribute("aria-current") == "true"
    assert page.locator("#spend-chart svg.bars-svg g.bar").count() == 90
    w.assert_clean()


def test_pagers_above_and_below_keep_filters_and_the_reader_at_the_table(
    seeded: Site, open_page: OpenPage
) -> None:
    w = open_page(state=seeded.state)
    page = w.page
    page.goto(seeded.url + "/?type=usage")
    usage = [r for r in ledger(seeded) if r["type"] == "usage"]
    assert len(usage) > 300
    for where in ("top", "bottom"):
        assert page.locator(f"#pager-{where} a[rel=next]").get_attribute("href") == (
            "/?type=usage&page=2#history"
        )
    assert (
        page.locator("#pager-top").bounding_box()["y"]
        < (  # type: ignore[index]
            page.locator("#history-table").bounding_box()["y"]  # type: ignore[index]
        )
    )
    with page.expect_navigation():
        page.locator("#pager-top a[rel=next]").click()
    assert page.url == seeded.url + "/?type=usage&page=2#history"
    assert showing(page).startswith(f"Showing 301-600 of {len(usage):,} matching")
    assert shown_amounts(page) == [Decimal(str(r["amount"])) for r in usage[300:600]]
    assert page.evaluate("window.scrollY") > 300, "the page did not scroll to the history"
    # The arrow keys still page, through the same filtered links.
    page.locator("body").click(position={"x": 5, "y": 5})
    with page.expect_navigation():
        page.keyboard.press("ArrowLeft")
    assert page.url == seeded.url + "/?type=usage&page=1#history"
    w.assert_clean()


def test_runway_chart_and_breakdown(seeded: Site, open_page: OpenPage) -> None:
    w = open_page(state=seeded.state)
    page = w.page
    page.goto(seeded.url + "/")
    runway = page.locator("#runway")
    now = datetime.now(UTC)
    spends = [when(r) for r in ledger(seeded) if r["type"] == "usage"]
    recent = [t for t in spends if t > now - timedelta(days=30)]
    if not recent:  # the seeded ledger ends on a fixed day: the wall clock may be far past it
        assert runway.get_attribute("data-state") == "idle"
        assert "Nothing was spent in the last 30 days" in runway.inner_text()
    else:
        assert runway.get_attribute("data-state") == "ok"
        basis = "7" if any(t > now - timedelta(days=7) for t in recent) else "30"
        assert f"Rate used: the average of the last {basis} days" in runway.inner_text()
        assert "At this rate the balance lasts" in page.locator("#runway-forecast").inner_text()
    # The runway is read right after the balance: above the cards.
    assert runway.bounding_box()["y"] < page.locator("#account-title").bounding_box()["y"]  # type: ignore[index]

    assert page.locator("#spend-chart svg.bars-svg g.bar").count() == 30  # no date filter
    page.goto(seeded.url + "/?" + LEDGER_MONTH)  # the wall clock may be past the seeded ledger
    bars = page.locator("#spend-chart svg.bars-svg g.bar")
    assert bars.count() == 30
    titles = texts(bars.locator("> title"))
    assert all(" spent" in t for t in titles), titles[:3]
    segments = texts(page.locator("#spend-chart svg.bars-svg rect:not(.hit) > title"))
    assert segments and all(": $" in t for t in segments)
    table_rows = page.locator("#spend-chart table tbody tr")
    assert table_rows.count() == 30
    page.locator("#spend-chart summary").click()
    assert table_rows.first.is_visible()
    assert page.locator("#spend-chart .marks-svg rect.purchase").count() >= 1

    since = SEED_END.date() - timedelta(days=29)
    spent: dict[str, Decimal] = {}
    for r in ledger(seeded):
        if r["type"] == "usage" and since <= when(r).date() <= SEED_END.date():
            key = r["service_type"]
            spent[key] = spent.get(key, Decimal(0)) - Decimal(str(r["amount"]))
    names = page.locator("#breakdown-service tbody th").all_inner_texts()
    assert {brand(k) for k in spent} <= {n.strip() for n in names}
    assert not any("gpt-" in n or "claude" in n for n in names), names
    top = max(spent, key=lambda k: spent[k])
    assert names[0].strip() == brand(top)
    types = page.locator("#breakdown-type tbody tr").evaluate_all(
        "rs => rs.map(r => r.dataset.type)"
    )
    assert types == ["usage", "purchase", "refund"]
    w.assert_clean()


def test_portuguese_numbers_and_dates(seeded: Site, open_page: OpenPage) -> None:
    w = open_page(locale="pt-BR", state=seeded.state)
    page = w.page
    page.goto(seeded.url + "/?type=usage&" + LEDGER_MONTH)
    assert page.locator("#runway-title").inner_text() == "Saldo e autonomia"
    assert "transações encontradas" in showing(page)
    assert page.locator("#filter-summary").inner_text().strip().endswith(" · tipo: uso")
    summary = page.locator("#spend-chart .chart-summary").inner_text()
    assert "US$" in summary and " de " in summary and "gastos" in summary
    title = texts(page.locator("#spend-chart svg.bars-svg g.bar > title"))[0]
    assert " de " in title and "," in title, title  # "1 de nov. de 2026: US$ 12,34 gastos"
    w.assert_clean()


def test_dark_mode_colours(seeded: Site, open_page: OpenPage) -> None:
    colours = {}
    for scheme in SCHEMES:
        w = open_page(state=seeded.state, color_scheme=scheme)
        page = w.page
        page.goto(seeded.url + "/")
        colours[scheme] = page.evaluate(
            """() => [getComputedStyle(document.body).backgroundColor,
                      getComputedStyle(document.querySelector('#spend-chart rect.s0')).fill,
                      getComputedStyle(document.querySelector('#runway')).color]"""
        )
        w.assert_clean()
    assert colours["light"][0] == "rgb(244, 246, 249)"
    assert colours["dark"][0] == "rgb(15, 20, 27)"
    assert colours["dark"][1] == "rgb(240, 171, 252)" != colours["light"][1]
    assert colours["dark"][2] != colours["light"][2]


def test_filtered_download_is_exactly_the_matching_rows(seeded: Site, open_page: OpenPage) -> None:
    w = open_page(state=seeded.state)
    page = w.page
    page.goto(seeded.url + "/?type=refund&type=purchase")
    with page.expect_download() as info:
        page.locator("#download-filtered").click()
    download = info.value
    name = download.suggested_filename
    assert "filtered" in name and name.endswith(".csv"), name
    data = Path(download.path()).read_bytes()
    records = list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))[1:]
    expected = [r for r in ledger(seeded) if r["type"] in ("purchase", "refund")]
    assert len(records) == len(expected)
    assert {r[1] for r in records} == {"purchase", "refund"}
    assert sum((Decimal(r[3]) for r in records), Decimal(0)) == sum(
        (Decimal(str(r["amount"])) for r in expected), Decimal(0)
    )
    # The nav's Download History link follows the filters too.
    href = page.get_by_role("link", name="Download History").get_attribute("href")
    assert href == "/download.csv?type=purchase&type=refund"
    w.assert_clean()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("locale", LOCALES)
def test_insights_screenshots(
    seeded: Site,
    open_page: OpenPage,
    screenshot_dir: Path,
    capsys: pytest.CaptureFixture[str],
    locale: str,
    scheme: str,
    width: int,
) -> None:
    """Saved for a human to look at; the phone layout never scrolls sideways, filters open."""
    w = open_page(locale=LOCALES[locale], width=width, state=seeded.state, color_scheme=scheme)
    page = w.page
    page.goto(seeded.url + "/?type=usage&" + LEDGER_MONTH)
    page.locator("#filters details.services summary").click()
    stem = f"insights-{locale}-{scheme}-{width}"
    shots = []
    parts = {"runway": "#runway", "insights": "#insights", "filters": "#history > header"}
    for part, selector in parts.items():
        path = screenshot_dir / f"{stem}-{part}.png"
        page.locator(selector).screenshot(path=path)
        assert png_size(path)[0] <= width
        shots.append(path)
    full = screenshot_dir / f"{stem}-full.png"
    page.screenshot(path=full, full_page=True)
    assert png_size(full)[0] == width
    shots.append(full)
    page.locator("#pager-top a[rel=next]").click()  # lands at the table
    page.wait_for_url("**#history")
    at_table = screenshot_dir / f"{stem}-page2.png"
    page.screenshot(path=at_table)
    shots.append(at_table)
    with capsys.disabled():
        print("\nscreenshots: " + "\n             ".join(str(p) for p in shots))
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width + 1, f"the page scrolls sideways: {scroll_width} > {width}"
    w.assert_clean()


def test_readme_screenshot(seeded: Site, open_page: OpenPage, screenshot_dir: Path) -> None:
    """The README's picture of the feature, made from the running dashboard: always into the
    test output, and into docs/ with TOKENUSAGE_WRITE_DOCS=1."""
    w = open_page(width=1440, height=1300, state=seeded.state)
    page = w.page
    page.goto(seeded.url + "/?" + LEDGER_MONTH)
    top = page.locator("#runway").bounding_box()
    end = page.locator("#insights").bounding_box()
    assert top and end
    clip = {
        "x": 0,
        "y": top["y"] - 6,
        "width": 1440,
        "height": end["y"] + end["height"] - top["y"] + 18,
    }
    target = screenshot_dir / "readme-insights.png"
    page.screenshot(path=target, clip=clip, full_page=True)
    assert png_size(target)[0] == 1440
    assert target.stat().st_size > 50_000, "the picture looks empty"
    if os.environ.get("TOKENUSAGE_WRITE_DOCS"):
        shutil.copyfile(target, ROOT / "docs" / "insights.png")
    w.assert_clean()


def test_no_series_looks_like_a_purchase_or_refund_mark(seeded: Site, open_page: OpenPage) -> None:
    """Refunds are marked blue and purchases green, in the chart as in the table: no series
    colour may come near either, in light or dark."""
    for scheme in SCHEMES:
        w = open_page(state=seeded.state, color_scheme=scheme)
        w.page.goto(seeded.url + "/")
        found = w.page.evaluate(
            """() => {
              const probe = document.createElement("span");
              document.body.append(probe);
              const rgb = (cls) => {
                probe.className = cls;
                return getComputedStyle(probe).backgroundColor.match(/[\\d.]+/g).map(Number);
              };
              const out = {};
              for (const c of ["s0", "s1", "s2", "s3", "s4", "other",
                               "swatch mark-purchase", "swatch mark-refund"]) out[c] = rgb(c);
              probe.remove();
              return out;
            }"""
        )
        w.assert_clean()
        for mark in ("swatch mark-purchase", "swatch mark-refund"):
            for series in ("s0", "s1", "s2", "s3", "s4", "other"):
                a, b = found[series][:3], found[mark][:3]
                distance = sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5
                assert distance > 90, (scheme, series, mark, a, b)
