"""The pages an admin reads: the overview (`/`, the manual's `?debug=1` included), Debug API and
Help. Reads only: nothing here changes a cache except by the service's freshness rules."""

from __future__ import annotations

import json

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tokenusage.licenseapi.exchange import Exchange
from tokenusage.service import DashboardView
from tokenusage.usage.pagination import parse_page
from tokenusage.web.i18n import N_
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
    view = await web.service.view(page, live_since=live_since)
    if not view.configured or not view.has_data:
        return web.renderer.render(request, "unable.html", {"view": view}, status=503)
    locale = locale_of(request, web.settings)
    currency = view.pricing.currency if view.pricing else "USD"
    as_of = view.data_as_of
    context = {
        "view": view,
        "nav": "overview",
        "fmt": web.renderer.formatter(locale, currency),
        "cards_html": _cards(web.renderer, view, locale, currency),
        "table_html": _table(web.renderer, view, locale, currency),
        "data_age": (view.now - as_of).total_seconds() if as_of else 0.0,
        "auto_refresh": web.settings.auto_refresh_seconds,
        "page_number": view.window.page,
    }
    return web.renderer.render(request, "overview.html", context)


def _cards(renderer: Renderer, view: DashboardView, locale: str, currency: str) -> Markup:
    """The four cards: they show the models and their fetch times, nothing else."""
    key = (
        view.account,
        view.stats,
        view.pricing,
        view.estimates,
        view.low_balance,
        view.pricing_cache.source,
        view.pricing_cache.fetched_at,
        view.stats_cache.fetched_at,
    )
    return renderer.fragment("_partials/cards.html", key, locale, currency, view=view)


def _table(renderer: Renderer, view: DashboardView, locale: str, currency: str) -> Markup:
    """The table and pager. Ledger entries never change, so the ids of the first and last
    row, the row count and the page window identify what it shows."""
    rows = view.transactions
    key = (rows[0].id, rows[-1].id, len(rows), view.window) if rows else (None, view.window)

    def rows_html() -> Markup:
        return renderer.rows_html(rows, locale, currency)

    return renderer.fragment(
        "_partials/table.html", key, locale, currency, view=view, rows_html=rows_html
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
