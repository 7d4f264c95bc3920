"""The overview's insight parts: the runway strip, the chart and breakdown panel, the filter
controls and what the history says about its filters.

The runway and the chart/breakdown are cached fragments (the overview is benchmarked in
requests per second); their keys are built here from the values they show, since the view's
`Chart` and `Totals` are not hashable themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from datetime import date

from markupsafe import Markup
from starlette.datastructures import QueryParams

from tokenusage.service import DashboardView
from tokenusage.service.model import Insights
from tokenusage.usage.branding import brand
from tokenusage.usage.buckets import BreakdownRow, Totals
from tokenusage.usage.filters import PRESETS, Filters, filters_from_query, preset_range
from tokenusage.web import chart
from tokenusage.web.formatting import Formatter
from tokenusage.web.i18n import N_, translations
from tokenusage.web.render import TYPE_NAMES, Renderer

PRESET_LABELS = {
    "7d": N_("7 days"),
    "30d": N_("30 days"),
    "90d": N_("90 days"),
    "12m": N_("12 months"),
}


def request_filters(params: QueryParams) -> Filters:
    """The filters of a `/` or `/download.csv` request; bad values become `errors`."""
    multi = {"type": params.getlist("type"), "service": params.getlist("service")}
    return filters_from_query(params, multi)


def service_name(key: str) -> str:
    """A service as the screen shows it: branded; purchases may have none."""
    return brand(key) if key else "\u2014"


@dataclass(frozen=True)
class Preset:
    key: str
    label: str  # msgid
    href: str
    current: bool


def presets(filters: Filters, today: date) -> list[Preset]:
    """The date-range shortcuts, keeping the other filters; "all" drops the range."""
    out = []
    for key, _days in PRESETS:
        first, last = preset_range(key, today)
        href = "/?" + replace(filters, first=first, last=last).query() + "#insights"
        current = filters.first == first and filters.last == last
        out.append(Preset(key, PRESET_LABELS[key], href, current))
    undated = replace(filters, first=None, last=None).query()
    out.append(Preset("all", N_("All"), f"/?{undated}#insights", not filters.dated))
    return out


def page_href(filters: Filters, page: int) -> str:
    """A page of the filtered history; the reader stays at the table."""
    return f"/?{filters.query(page=page)}#history"


def download_href(filters: Filters) -> str:
    query = filters.query()
    return f"/download.csv?{query}" if query else "/download.csv"


def _totals(t: Totals) -> tuple[object, ...]:
    return (t.spend, t.purchased, t.refunded, t.count, t.tokens, t.images)


def _row(r: BreakdownRow) -> tuple[object, ...]:
    return (r.key, _totals(r.totals), r.share, _totals(r.previous), r.change)


def insights_key(ins: Insights) -> Hashable:
    """Everything the chart and breakdown panel shows, as a hashable value."""
    c = ins.chart
    buckets = tuple(
        (b.start, b.end, tuple(sorted(b.spend.items())), _totals(b.totals)) for b in c.buckets
    )
    rows = tuple(_row(r) for r in (*ins.by_service, *ins.by_type))
    return (
        ins.first,
        ins.last,
        ins.default_range,
        ins.previous_first,
        ins.previous_last,
        c.granularity,
        c.series,
        buckets,
        rows,
    )


def runway_html(renderer: Renderer, view: DashboardView, locale: str, currency: str) -> Markup:
    ins = view.insights
    if ins is None:
        return Markup("")
    key = (ins.runway, ins.spend, view.low_balance)
    return renderer.fragment("_partials/runway.html", key, locale, currency, view=view, ins=ins)


def insights_html(renderer: Renderer, view: DashboardView, locale: str, currency: str) -> Markup:
    ins = view.insights
    if ins is None:
        return Markup("")

    def chart_html() -> Markup:
        fmt = renderer.formatter(locale, currency)
        return chart.render(ins.chart, fmt, translations(locale).gettext, service_name)

    return renderer.fragment(
        "_partials/insights.html",
        ("built", ins.key) if ins.key is not None else insights_key(ins),
        locale,
        currency,
        ins=ins,
        chart_html=chart_html,
        service_name=service_name,
    )


def service_names(services: tuple[str, ...]) -> str:
    return ", ".join(service_name(s) for s in services)


def filter_parts(filters: Filters, fmt: Formatter, gettext: Callable[[str], str]) -> list[str]:
    """The active filters in words, for "Showing X-Y of N" to name what it counts."""
    f = filters
    parts = []
    if f.first and f.last:
        parts.append(
            gettext(N_("%(first)s to %(last)s"))
            % {"first": fmt.calendar_day(f.first), "last": fmt.calendar_day(f.last)}
        )
    elif f.first:
        parts.append(gettext(N_("from %(first)s")) % {"first": fmt.calendar_day(f.first)})
    elif f.last:
        parts.append(gettext(N_("until %(last)s")) % {"last": fmt.calendar_day(f.last)})
    if f.types:
        names = ", ".join(gettext(TYPE_NAMES[t]) for t in f.types)
        parts.append(gettext(N_("type: %(types)s")) % {"types": names})
    if f.services:
        parts.append(gettext(N_("service: %(services)s")) % {"services": service_names(f.services)})
    if f.q:
        parts.append(gettext(N_("search: \u201c%(text)s\u201d")) % {"text": f.q})
    return parts
