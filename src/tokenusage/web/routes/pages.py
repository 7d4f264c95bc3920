"""The pages an admin reads: the overview (`/`, the manual's `?debug=1` included), Debug API and
Help. Reads only: nothing here changes a cache except by the service's freshness rules."""

from __future__ import annotations

import functools
import json
from dataclasses import replace
from datetime import date
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tokenusage.licenseapi.exchange import Exchange
from tokenusage.service import DashboardView
from tokenusage.usage.fmt import column_places
from tokenusage.usage.pagination import parse_page
from tokenusage.web import insights
from tokenusage.web.i18n import N_, translations
from tokenusage.web.insights import request_filters
from tokenusage.web.render import Renderer, locale_of
from tokenusage.web.sessions import pop_live_since
from tokenusage.web.state import web_state

# The debug page's sections: the calls the manual lists, in its order.
DEBUG_CALLS = (
    ("user/info", N_("USER INFO response")),
    ("user/stats", N_("USER STATS response")),
    ("credits/history", N_("First 5 transactions (credits/history)")),
    ("pricing/current", N_("PRICING response (last call)")),
)


async def overview(request: Request) -> Response:
    if request.query_params.get("debug") == "1":
        return await debug(request)
    web = web_state(request)
    live_since = pop_live_since(request.scope["session"])
    page = parse_page(request.query_params.get("page", "1"))
    filters = request_filters(request.query_params)
    view = await web.service.view(page, filters=filters, live_since=live_since)
    if not view.configured or not view.has_data:
        return web.renderer.render(request, "unable.html", {"view": view}, status=503)
    if view.insights is not None and filters.services:
        view = replace(view, filters=view.filters.with_known_services(view.insights.services))
    context = overview_context(web.renderer, view, locale_of(request, web.settings))
    return web.renderer.render(request, "overview.html", context)


def overview_context(renderer: Renderer, view: DashboardView, locale: str) -> dict[str, Any]:
    """What overview.html needs besides the per-request values (CSRF token, flashes)."""
    currency = view.pricing.currency if view.pricing else "USD"
    as_of = view.data_as_of
    today = view.now.astimezone(renderer.settings.tz).date()
    fmt = renderer.formatter(locale, currency)
    return {
        "view": view,
        "nav": "overview",
        "fmt": fmt,
        "filter_parts": insights.filter_parts(view.filters, fmt, translations(locale).gettext),
        "cards_html": _cards(renderer, view, locale, currency),
        "table_html": _table(renderer, view, locale, currency),
        "filters_html": _filters(renderer, view, locale, currency),
        "insights_head_html": _insights_head(renderer, view, locale, currency, today),
        "runway_html": insights.runway_html(renderer, view, locale, currency),
        "insights_html": insights.insights_html(renderer, view, locale, currency),
        "download_href": insights.download_href(view.filters),
        "service_name": insights.service_name,
        "data_age": (view.now - as_of).total_seconds() if as_of else 0.0,
        "auto_refresh": renderer.settings.auto_refresh_seconds,
        "page_number": view.window.page,
        "tz_name": tz_name(renderer),
    }


def tz_name(renderer: Renderer) -> str:
    """The business timezone as the table's header and the footer state it ("UTC")."""
    tz = renderer.settings.tz
    return getattr(tz, "key", None) or str(tz)


def _cards(renderer: Renderer, view: DashboardView, locale: str, currency: str) -> Markup:
    """The cards: they show the models and their fetch times, nothing else. The balance is
    in the runway's lead (`hero`) when there is one, else in the first card."""
    hero = bool(view.insights and view.insights.runway)
    key = (
        hero,
        view.account,
        view.stats,
        view.pricing,
        view.estimates,
        view.low_balance,
        view.pricing_cache.source,
        view.pricing_cache.fetched_at,
        view.stats_cache.fetched_at,
    )
    return renderer.fragment("_partials/cards.html", key, locale, currency, view=view, hero=hero)


def _insights_head(
    renderer: Renderer, view: DashboardView, locale: str, currency: str, today: date
) -> Markup:
    """The range and the presets: of the filters, the range shown and today."""
    ins = view.insights
    if ins is None:
        return Markup("")
    key = (view.filters, today, ins.first, ins.last, ins.default_range)
    return renderer.fragment(
        "_partials/insights_head.html",
        key,
        locale,
        currency,
        view=view,
        presets=functools.partial(insights.presets, view.filters, today),
    )


def _filters(renderer: Renderer, view: DashboardView, locale: str, currency: str) -> Markup:
    """The filter form: the filters and the ledger's services are all it shows."""
    services = view.insights.services if view.insights else view.filters.services
    return renderer.fragment(
        "_partials/filters.html",
        (view.filters, services),
        locale,
        currency,
        view=view,
        service_name=insights.service_name,
    )


def _table(renderer: Renderer, view: DashboardView, locale: str, currency: str) -> Markup:
    """The table and pager. Ledger entries never change, so the ids of the first and last
    row, the row count and the page window identify what it shows."""
    rows = view.transactions
    ends = (rows[0].id, rows[-1].id, len(rows)) if rows else (None,)
    key = (*ends, view.window, view.filters)

    def rows_html() -> Markup:
        # Only on a fragment-cache miss: a warm page does not look at its amounts again.
        places = column_places((row.amount for row in rows), currency)
        return renderer.rows_html(rows, locale, currency, places)

    return renderer.fragment(
        "_partials/table.html",
        key,
        locale,
        currency,
        view=view,
        rows_html=rows_html,
        tz_name=tz_name(renderer),
        page_href=functools.partial(insights.page_href, view.filters),
    )


def pretty_body(exchange: Exchange | None) -> str:
    """The raw body, indented when it is JSON (a cut body is shown as it came)."""
    if exchange is None:
        return ""
    try:
        return json.dumps(json.loads(exchange.body), indent=2, ensure_ascii=False)
    except ValueError:
        return exchange.body


async def debug(request: Request) -> Response:
    web = web_state(request)
    info = await web.service.debug(live=True)
    calls = []
    for endpoint, title in DEBUG_CALLS:
        exchange = info.exchanges.get(endpoint)
        calls.append((web.renderer.gettext(request, title), exchange, pretty_body(exchange)))
    context = {"debug": info, "calls": calls, "nav": "debug", "now": web.service.clock()}
    return web.renderer.render(request, "debug.html", context)


async def help_page(request: Request) -> Response:
    return web_state(request).renderer.render(request, "help.html", {"nav": "help"})


ROUTES = [
    Route("/", overview, methods=["GET"], name="overview"),
    Route("/debug", debug, methods=["GET"], name="debug"),
    Route("/help", help_page, methods=["GET"], name="help"),
]
