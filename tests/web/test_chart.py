"""The spend chart's SVG, from hand-made day totals: heights in proportion, every bar and
segment says its value, the table holds the same numbers, and nothing needs inline style."""

from __future__ import annotations

import re
from datetime import UTC, date, timedelta
from decimal import Decimal

import pytest

from tests.web.pagetools import Node, parse
from tokenusage.usage.branding import brand
from tokenusage.usage.buckets import OTHER, DayTotal, chart
from tokenusage.web import chart as svg
from tokenusage.web.formatting import Formatter
from tokenusage.web.i18n import translations

FIRST = date(2026, 11, 1)


def usage(day: int, service: str, amount: str) -> DayTotal:
    return DayTotal(FIRST + timedelta(days=day), service, "usage", 1, -Decimal(amount), 10, 0)


def purchase(day: int, amount: str) -> DayTotal:
    return DayTotal(FIRST + timedelta(days=day), "", "purchase", 1, Decimal(amount), 0, 0)


def draw(days: list[DayTotal], locale: str = "en", last: int = 9) -> tuple[Node, str]:
    made = chart(days, FIRST, FIRST + timedelta(days=last))
    html = str(svg.render(made, Formatter(locale, UTC), translations(locale).gettext, brand))
    return parse(html), html


def heights(doc: Node) -> dict[str, float]:
    """Bar title -> summed segment height."""
    out = {}
    for g in doc.one("svg", cls="bars-svg").find_all("g", cls="bar"):
        title = g.children[0]
        assert isinstance(title, Node) and title.tag == "title"
        out[title.text()] = sum(float(r.attrs["height"]) for r in g.find_all("rect"))
    return out


def cells(node: Node) -> list[str]:
    return [c.text() for c in node.find_all() if c.tag in ("th", "td")]


def test_nice_step() -> None:
    assert svg.nice_step(Decimal("9.3")) == 10
    assert svg.nice_step(Decimal("2.1")) == Decimal("2.5")
    assert svg.nice_step(Decimal("0.00071")) == Decimal("0.001")
    assert svg.nice_step(Decimal(5)) == 5


def test_bar_heights_are_proportional_to_spend() -> None:
    doc, _ = draw(
        [usage(0, "a", "10"), usage(1, "a", "20"), usage(2, "b", "5"), usage(2, "a", "5")]
    )
    bars = heights(doc)
    first = bars["Nov 1, 2026: $10.00 spent"]
    assert bars["Nov 2, 2026: $20.00 spent"] == pytest.approx(2 * first, abs=0.02)
    assert bars["Nov 3, 2026: $10.00 spent"] == pytest.approx(first, abs=0.02)
    # the scale's top is a round number at or above the peak: 20 -> 20 (5 a tick)
    assert bars["Nov 2, 2026: $20.00 spent"] == pytest.approx(svg.VIEW_H)
    assert [t.text() for t in doc.one("ol", cls="y-axis").find_all("li")] == [
        "$20.00",
        "$15.00",
        "$10.00",
        "$5.00",
        "$0.00",
    ]
    assert len(bars) == 10, "every day of the range has a bar, empty ones included"
    assert bars["Nov 10, 2026: $0.00 spent"] == svg.VIEW_H  # the hover target only


def test_every_segment_says_its_value_and_service_is_branded() -> None:
    doc, _ = draw([usage(0, "openai", "1.5"), usage(0, "claude-3-opus", "0.25")])
    titles = [t.text() for r in doc.find_all("rect") for t in r.find_all("title")]
    assert "Nov 1, 2026, openai: $1.50" in [t.replace(brand("openai"), "openai") for t in titles]
    assert all("claude" not in t.lower() for t in titles), titles
    assert any(t.endswith(": $0.25") for t in titles)


def test_top_five_then_other_with_classes_and_legend() -> None:
    days = [usage(0, f"svc{i}", str(10 - i)) for i in range(7)]
    doc, _ = draw(days)
    classes = [r.attrs["class"] for r in doc.one("svg", cls="bars-svg").find_all("rect")]
    assert classes == ["s0", "s1", "s2", "s3", "s4", "other"] + ["hit"] * 9
    legend = [li.text() for li in doc.one("ul", cls="legend").find_all("li")]
    assert legend == ["svc0", "svc1", "svc2", "svc3", "svc4", "Other", "Purchase", "Refund"]
    other = doc.find_all("rect", cls="other")[0]
    assert other.one("title").text() == "Nov 1, 2026, Other: $9.00"  # svc5 5 + svc6 4


def test_table_holds_the_same_numbers() -> None:
    days = [usage(0, "a", "1.25"), usage(3, "b", "2"), purchase(3, "100")]  # b spent most
    doc, _ = draw(days, last=4)
    table = doc.one("table")
    assert [th.text() for th in table.one("thead").find_all("th")] == [
        "Day",
        "b",
        "a",
        "Total spent",
        "Purchases",
        "Refunds",
    ]
    body = [cells(tr) for tr in table.one("tbody").find_all("tr")]
    assert body[0] == ["Nov 1, 2026", "$0.00", "$1.25", "$1.25", "$0.00", "$0.00"]
    assert body[3] == ["Nov 4, 2026", "$2.00", "$0.00", "$2.00", "$100.00", "$0.00"]
    foot = cells(table.one("tfoot"))
    assert foot == ["Total", "$2.00", "$1.25", "$3.25", "$100.00", "$0.00"]
    marks = doc.one("svg", cls="marks-svg").find_all("rect")
    assert [m.attrs["class"] for m in marks] == ["mark purchase"]
    assert marks[0].one("title").text() == "Nov 4, 2026: purchases +$100.00"


def test_pt_br_numbers_and_dates() -> None:
    doc, _ = draw([usage(0, "a", "1234.5")], locale="pt_BR")
    titles = [t.text() for t in doc.find_all("title")]
    assert "1 de nov. de 2026: US$ 1.234,50 gastos".replace(" ", "\xa0") in [
        t.replace(" ", "\xa0") for t in titles
    ], titles[:2]
    assert doc.one("summary").text() == translations("pt_BR").gettext("The numbers as a table")


def test_weeks_and_months() -> None:
    made = chart([usage(0, "a", "1")], FIRST, FIRST + timedelta(days=200))
    assert made.granularity == "week"
    html = str(svg.render(made, Formatter("en", UTC), translations("en").gettext, brand))
    assert "Oct 26 \u2013 Nov 1, 2026" not in html  # clipped to the range: starts Nov 1
    assert "Nov 1 \u2013 Nov 1, 2026: $1.00 spent" in html
    made = chart([usage(0, "a", "1")], FIRST, FIRST + timedelta(days=500))
    assert made.granularity == "month"
    assert "Nov 2026: $1.00 spent" in str(
        svg.render(made, Formatter("en", UTC), translations("en").gettext, brand)
    )


def test_nothing_spent_says_so() -> None:
    doc, _html = draw([purchase(2, "50")])
    assert doc.one("p", cls="chart-empty").text() == "No credits were spent in this range."
    assert not doc.find_all("rect", cls="s0")


def test_no_inline_style_or_script_and_untrusted_names_are_escaped() -> None:
    _, html = draw([usage(0, "<script>x</script>", "1"), usage(1, 'a" onload="x', "2")])
    assert not re.search(r"\sstyle=", html)
    assert "<script" not in html
    assert ' onload="' not in html
    assert OTHER not in html


def test_the_summary_reads_at_cents_and_keeps_every_digit() -> None:
    days = [usage(0, "a", "1.234567"), usage(1, "b", "0.000433")]
    exact = sum((-d.amount for d in days), Decimal(0))  # 1.235000, spent
    doc, html = draw(days)
    fmt = Formatter("en", UTC)
    figure = doc.one("p", "chart-summary").one("data")
    assert figure.text() == fmt.cents(exact) == "$1.24"
    assert figure.attrs["value"] == "1.235000" and figure.attrs["title"] == fmt.exact(exact)
    label = re.search(r'role="img" aria-label="([^"]+)"', html)
    assert label is not None and label.group(1).startswith(fmt.exact(exact) + " spent")
