"""The overview's insight parts rendered from a hand-made view (no service, no server): the
runway in each of its states, the chart and breakdown, the filters and what the history says
about them, in English and Portuguese."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request

from tests.web.pagetools import Node, parse
from tokenusage.config import Settings
from tokenusage.licenseapi.models import Pricing, UserInfo, UserStats
from tokenusage.service.model import NONE, CacheInfo, DashboardView, Insights, Matching
from tokenusage.store import MirrorRow
from tokenusage.usage.buckets import (
    DayTotal,
    breakdowns,
    chart,
    previous_range,
)
from tokenusage.usage.filters import Filters, parse_filters
from tokenusage.usage.pagination import paginate
from tokenusage.usage.runway import Runway, SpendSoFar, forecast
from tokenusage.web.render import Renderer
from tokenusage.web.routes.pages import overview_context

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
TODAY = NOW.date()
ACCEPT = {"en": "en-US", "pt_BR": "pt-BR"}
NO_FILTERS = Filters()


def day_totals() -> list[DayTotal]:
    out = []
    for back in range(60):
        day = TODAY - timedelta(days=back)
        out.append(DayTotal(day, "openai", "usage", 3, Decimal("-2.5"), 3000, 0))
        if back % 3 == 0:
            out.append(DayTotal(day, "image_search", "usage", 1, Decimal("-0.75"), 0, 40))
    out.append(DayTotal(TODAY - timedelta(days=4), "", "purchase", 1, Decimal(100), 0, 0))
    out.append(DayTotal(TODAY - timedelta(days=9), "openai", "refund", 1, Decimal(2), 0, 0))
    return out


def make_insights(runway: Runway | None, first: date | None = None) -> Insights:
    days = day_totals()
    start, end = (first or TODAY - timedelta(days=29)), TODAY
    before = previous_range(start, end)
    now_days = [d for d in days if start <= d.day <= end]
    old_days = [d for d in days if before[0] <= d.day <= before[1]]
    by_service, by_type = breakdowns(now_days, old_days)
    return Insights(
        first=start,
        last=end,
        default_range=first is None,
        chart=chart(days, start, end),
        by_service=by_service,
        by_type=by_type,
        previous_first=before[0],
        previous_last=before[1],
        spend=SpendSoFar(Decimal("2.5"), Decimal("80"), Decimal("64"), TODAY),
        runway=runway,
        services=("openai", "image_search"),
    )


def ok_runway(balance: str = "120") -> Runway:
    return forecast(Decimal(balance), Decimal("21"), Decimal("90"), NOW, UTC, TODAY)


def row(n: int) -> MirrorRow:
    return MirrorRow(
        n,
        NOW - timedelta(hours=n),
        "usage",
        "openai",
        Decimal("-0.5"),
        10,
        0,
        "chat",
        None,
        None,
        None,
    )


def make_view(
    insights: Insights | None, filters: Filters = NO_FILTERS, total: int = 3
) -> DashboardView:
    cache = CacheInfo("cached", NOW - timedelta(minutes=5), rows=total)
    return DashboardView(
        now=NOW,
        configured=True,
        account=UserInfo(email="a@example.com", license_type="pro", domain="example.com"),
        stats=UserStats(
            balance=Decimal(120),
            credits_used=Decimal(5),
            tokens_used=1,
            api_calls=1,
            images_processed=0,
        ),
        pricing=Pricing(
            image_processing_per_10k=Decimal(1),
            input_tokens_per_1m=Decimal(1),
            completion_tokens_per_1m=Decimal(1),
            cached_tokens_per_1m=Decimal(1),
        ),
        estimates=None,
        low_balance=False,
        window=paginate(total, 1, 2),
        transactions=[row(n) for n in range(min(total, 2))],
        pricing_cache=cache,
        transactions_cache=cache,
        account_cache=NONE,
        filters=filters,
        matching=Matching(total, Decimal("-1.5")) if filters.active else None,
        insights=insights,
    )


@pytest.fixture(scope="module")
def renderer(tmp_path_factory: pytest.TempPathFactory) -> Renderer:
    return Renderer(Settings(data_dir=tmp_path_factory.mktemp("data")))


def render(renderer: Renderer, view: DashboardView, locale: str = "en") -> tuple[Node, str]:
    headers = [(b"accept-language", ACCEPT[locale].encode())]
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": headers})
    context: dict[str, Any] = overview_context(renderer, view, locale)
    html = bytes(renderer.render(request, "overview.html", context).body).decode()
    return parse(html), html


def test_runway_comes_right_after_the_alerts_and_before_the_cards(renderer: Renderer) -> None:
    doc, html = render(renderer, make_view(make_insights(ok_runway())))
    assert html.index('id="runway"') < html.index('id="account-title"')
    assert html.index('id="account-title"') < html.index('id="spend-chart"')
    assert (
        html.index('id="spend-chart"') < html.index('id="breakdown"') < html.index('id="history"')
    )
    runway = doc.one(id="runway")
    assert runway.attrs["data-state"] == "ok"
    # 120 / 3 a day = 40 days
    assert doc.one(id="runway-days").text() == "40 days"
    assert doc.one(id="runway-forecast").text() == (
        "At this rate the balance lasts 40 days, until Jan 9, 2027."
    )
    assert doc.one(id="runway-basis").text() == (
        "Rate used: the average of the last 7 days, $3.00 a day."
    )
    assert doc.one(id="burn-30d").text() == "$3.00 a day"
    assert doc.one(id="spent-today").text() == "$2.50"
    assert doc.one(id="spent-month").text() == (
        "$80.00 $64.00 on the same days last month (+25.0%)"
    )


@pytest.mark.parametrize(
    ("runway", "state", "days", "says"),
    [
        (
            forecast(Decimal(0), Decimal(7), Decimal(30), NOW, UTC),
            "exhausted",
            "Used up",
            "used up",
        ),
        (
            forecast(Decimal(5), Decimal(0), Decimal(0), NOW, UTC, date(2026, 8, 1)),
            "idle",
            "No recent spend",
            "The last spend was on Aug 1, 2026.",
        ),
        (
            forecast(Decimal(5), Decimal(0), Decimal(0), NOW, UTC),
            "idle",
            "No recent spend",
            "No spend is recorded yet.",
        ),
        (
            forecast(Decimal(10**9), Decimal(7), Decimal(30), NOW, UTC),
            "ok",
            "More than 10 years",
            "more than 10 years",
        ),
        (
            forecast(Decimal(100), Decimal(0), Decimal(30), NOW, UTC),
            "ok",
            "100 days",
            "the last 30 days, $1.00 a day (nothing was spent in the last 7 days)",
        ),
    ],
)
def test_runway_states(
    renderer: Renderer, runway: Runway, state: str, days: str, says: str
) -> None:
    doc, _ = render(renderer, make_view(make_insights(runway)))
    assert doc.one(id="runway").attrs["data-state"] == state
    assert doc.one(id="runway-days").text() == days
    assert says in doc.one(id="runway").text()


def test_without_a_balance_the_spend_so_far_still_shows(renderer: Renderer) -> None:
    doc, _ = render(renderer, make_view(make_insights(None)))
    assert "not available" in doc.one(id="runway").text()
    assert doc.one(id="spent-today").text() == "$2.50"


def test_chart_and_breakdown(renderer: Renderer) -> None:
    doc, _ = render(renderer, make_view(make_insights(ok_runway())))
    figure = doc.one(id="spend-chart")
    assert len(figure.one("svg", cls="bars-svg").find_all("g", cls="bar")) == 30
    assert doc.one(id="insight-range").text().startswith("The last 30 days, Nov 1, 2026 to Nov 30")
    services = doc.one(id="breakdown-service").one("tbody").find_all("tr")
    # only services that were used: the purchase (no service) is the type breakdown's
    assert [r.one("th").text() for r in services] == ["openai", "image_search"]
    cells = [c.text() for c in services[0].find_all() if c.tag in ("th", "td")]
    # 30 days x 2.5 = 75 of 75 + 10 x 0.75 = 82.5; 90 calls; previous 30 days the same
    # 30 days x 2.5 of 75 + 10 x 0.75: 90.9%; 90 usage entries and a refund; as before
    assert cells == ["openai", "$75.00", "90.9%", "91", "90,000", "0", "0.0%"]
    types = {
        r.attrs["data-type"]: r for r in doc.one(id="breakdown-type").find_all("tr", data_type="*")
    }
    assert list(types) == ["usage", "purchase", "refund"]
    assert types["purchase"].find_all("td")[0].text() == "+$100.00"
    assert types["purchase"].find_all("td")[-1].text() == "new"
    assert types["usage"].find_all("td")[0].text() == "-$82.50"


def test_presets_keep_the_other_filters(renderer: Renderer) -> None:
    filters = parse_filters(types=["usage"], q="chat")
    doc, _ = render(renderer, make_view(make_insights(ok_runway()), filters))
    links = {a.attrs["data-preset"]: a for a in doc.one("nav", cls="presets").find_all("a")}
    assert list(links) == ["7d", "30d", "90d", "12m", "all"]
    assert links["7d"].attrs["href"] == "/?from=2026-11-24&to=2026-11-30&type=usage&q=chat#insights"
    assert links["all"].attrs["href"] == "/?type=usage&q=chat#insights"
    assert links["all"].attrs.get("aria-current") == "true"
    assert "aria-current" not in links["7d"].attrs


def test_filtered_history_names_its_filter_and_pages_keep_it(renderer: Renderer) -> None:
    filters = parse_filters("2026-11-01", "2026-11-30", ["usage", "refund"], ["openai"], "chat")
    first = date(2026, 11, 1)
    doc, html = render(renderer, make_view(make_insights(ok_runway(), first), filters, total=5))
    assert doc.one(id="showing").text() == ("Showing 1-2 of 5 matching transactions (Page 1 of 3)")
    assert doc.one(id="filter-summary").text() == (
        "Filtered by: Nov 1, 2026 to Nov 30, 2026 · type: usage, refund · service: openai · "
        "search: “chat”"
    )
    assert doc.one(id="matching-total").text().endswith("-$1.50")
    top, bottom = doc.one(id="pager-top"), doc.one(id="pager-bottom")
    query = "from=2026-11-01&to=2026-11-30&type=usage&type=refund&service=openai&q=chat"
    for pager in (top, bottom):
        assert pager.one("a", rel="next").attrs["href"] == f"/?{query}&page=2#history"
    assert doc.one(id="download-filtered").attrs["href"] == f"/download.csv?{query}"
    form = doc.one("form", id="filters")
    assert form.attrs["method"] == "get"
    assert doc.one("input", id="filter-from").attrs["value"] == "2026-11-01"
    checked = {(i.attrs["name"], i.attrs["value"]) for i in form.find_all("input", checked="*")}
    assert checked == {("type", "usage"), ("type", "refund"), ("service", "openai")}
    assert doc.one("input", id="filter-q").attrs["value"] == "chat"
    assert "2026-11-01 to 2026-11-30" not in html


def test_every_form_control_has_a_label(renderer: Renderer) -> None:
    doc, _ = render(renderer, make_view(make_insights(ok_runway())))
    form = doc.one("form", id="filters")
    labelled = {label.attrs["for"] for label in form.find_all("label", **{"for": "*"})}
    for control in form.find_all("input"):
        if control.attrs["type"] == "checkbox":
            continue  # wrapped in its label
        assert control.attrs["id"] in labelled, control.attrs


def test_bad_filter_values_are_shown_not_raised(renderer: Renderer) -> None:
    filters = parse_filters("2026-13-01", "", ["bogus"])
    doc, _ = render(renderer, make_view(make_insights(ok_runway()), filters))
    errors = doc.one(id="filter-errors").text()
    assert "Some filter values could not be used" in errors
    assert "bogus" in errors


def test_nothing_matches(renderer: Renderer) -> None:
    view = make_view(make_insights(ok_runway()), parse_filters(q="zzz"), total=0)
    doc, _ = render(renderer, view)
    assert doc.one(id="showing").text() == "No transactions match these filters."
    assert doc.one(id="no-match")
    assert not doc.find_all(id="download-filtered")


def test_portuguese(renderer: Renderer) -> None:
    filters = parse_filters("2026-11-01", "2026-11-30")
    doc, _ = render(
        renderer, make_view(make_insights(ok_runway(), date(2026, 11, 1)), filters), "pt_BR"
    )
    assert doc.one(id="runway-days").text() == "40 dias"
    assert "9 de jan. de 2027" in doc.one(id="runway-forecast").text()
    assert doc.one(id="spent-today").text() == "US$ 2,50"  # text() collapses the NBSP
    assert "1 de nov. de 2026" in doc.one(id="filter-summary").text()
    assert doc.one(id="breakdown-service").one("caption").text() == "Por serviço"


def test_the_fragments_are_cached_by_value(renderer: Renderer) -> None:
    view = make_view(make_insights(ok_runway()))
    render(renderer, view)
    before = len(renderer._fragments)
    same = replace(view, insights=make_insights(ok_runway()))  # equal values, new objects
    render(renderer, same)
    assert len(renderer._fragments) == before
    render(renderer, replace(view, insights=make_insights(ok_runway("121"))))
    assert len(renderer._fragments) == before + 1  # the runway only


def test_while_the_history_is_copied_the_insights_say_they_are_coming(
    renderer: Renderer,
) -> None:
    view = make_view(None)
    copying = replace(view, transactions_cache=replace(view.transactions_cache, syncing=True))
    doc, _ = render(renderer, copying)
    assert (
        "appear once the whole history is in the local store"
        in doc.one(id="insights-pending").text()
    )
    assert not render(renderer, view)[0].find_all(id="insights-pending")


def test_an_amount_the_column_rounds_carries_every_digit_for_its_detail(
    tmp_path: Path,
) -> None:
    """A ledger amount with more fraction digits than a column shows (over ten) is rounded
    in its cell; the row's detail then shows `data-exact`, every digit. (A renderer of its
    own: the table fragment is cached per data version, and these rows are made up.)"""
    renderer = Renderer(Settings(data_dir=tmp_path))
    view = make_view(None)
    long = replace(view.transactions[0], amount=Decimal("-1.12345678901"))
    doc, _ = render(renderer, replace(view, transactions=[long, view.transactions[1]]))
    first, second = doc.find_all("td", cls="amount")
    assert first.text() == "-$1.123457" and first.attrs["data-exact"] == "-$1.12345678901"
    assert first.attrs["data-amount"] == "-1.12345678901"
    assert "data-exact" not in second.attrs and second.text() == "-$0.500000"  # the column
