"""`create_app(settings)`: the dashboard as an ASGI app.

Layers, outermost first: the HTTP metrics, security headers on every answer, the edge
(request framing, allowed hosts, HSTS, no Host echo in redirects), gzip, the friendly error
page (no traceback ever reaches a browser), the signed session cookie, and the guard
(signed-in admin on every non-public path, same origin and CSRF token on every unsafe method;
a bearer token and reads only on /api and /metrics). Routes only ask the service.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from tokenusage.config import Settings
from tokenusage.service import DashboardService
from tokenusage.service.alerts.checker import AlertChecker
from tokenusage.service.background import cancel_and_wait
from tokenusage.web import metrics as metrics_routes
from tokenusage.web.edge import EdgeMiddleware
from tokenusage.web.i18n import N_
from tokenusage.web.metrics import HttpMetricsMiddleware, Metrics
from tokenusage.web.render import STATIC, Renderer
from tokenusage.web.routes import actions, alerts, api, download, pages, signin, tokens
from tokenusage.web.security import (
    FriendlyErrorsMiddleware,
    GuardMiddleware,
    SecurityHeadersMiddleware,
    deny,
)
from tokenusage.web.sessions import SessionMiddleware, session_secret
from tokenusage.web.state import WebState, web_state

GZIP_MINIMUM_BYTES = 1024
_STATUS_MESSAGES = {
    404: N_("There is no such page."),
    405: N_("This address does not accept that method."),
}


def routes() -> list[BaseRoute]:
    return [
        *pages.ROUTES,
        *actions.ROUTES,
        *download.ROUTES,
        *signin.ROUTES,
        *api.ROUTES,
        *tokens.ROUTES,
        *alerts.ROUTES,
        *metrics_routes.ROUTES,
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]


async def http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    message = _STATUS_MESSAGES.get(status, N_("The request could not be handled."))
    return deny(request, web_state(request), status, message)


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for `settings`: X-Forwarded-For and -Proto are believed only from
    `forwarded_allow_ips` (uvicorn's own default believes anyone on 127.0.0.1, so whoever can
    reach the port from the machine could pick the address the sign-in throttle counts).
    A shutdown waits `shutdown_grace` seconds for the requests in flight, not for ever."""
    trusted = list(settings.forwarded_allow_ips)
    return {
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted or ["127.0.0.1"],  # unused without proxy_headers
        "server_header": False,
        "timeout_graceful_shutdown": settings.shutdown_grace,
    }


def create_app(settings: Settings, **service_options: Any) -> Starlette:
    """The dashboard for `settings`. `service_options` go to `DashboardService.from_settings`
    (tests pass a `transport` to put faults between the dashboard and the API).

    Raises `ConfigError` when the session secret cannot be read or created.
    """
    renderer = Renderer(settings)
    web = WebState(settings, renderer)
    secret = session_secret(settings)
    every_route = routes()
    metrics = Metrics(r.path for r in every_route if isinstance(r, Route))

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        web.service_or_none = DashboardService.from_settings(settings, **service_options)
        web.service.client.observers.append(metrics.observe_upstream)
        web.alerts = AlertChecker(web.service, on_sent=metrics.observe_alert)
        loop = None
        if settings.alert_interval > 0 and web.service.store is not None:
            loop = asyncio.create_task(web.alerts.run(settings.alert_interval))
        try:
            yield
        finally:
            if loop is not None:
                await cancel_and_wait(loop)
            await web.alerts.aclose()
            await web.service.aclose(wait=False)
            web.service_or_none = None

    middleware = [
        Middleware(HttpMetricsMiddleware, metrics=metrics),
        Middleware(SecurityHeadersMiddleware),
        Middleware(EdgeMiddleware, web=web),
        Middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES),
        Middleware(FriendlyErrorsMiddleware, web=web),
        Middleware(
            SessionMiddleware,
            secret=secret,
            max_age=settings.session_max_age,
            secure=settings.secure_cookies,
        ),
        Middleware(GuardMiddleware, web=web),
    ]
    app = Starlette(
        routes=every_route,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error},
    )
    app.state.web = web
    app.state.metrics = metrics
    return app
