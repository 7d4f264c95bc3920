"""The app's outer layers: security headers, the friendly error page, and the guard that
signs every request in and checks the CSRF token of every unsafe one.

The guard is a middleware rather than a decorator on each route so that a route added later
is protected without anyone remembering to protect it (tests enumerate the routes to prove it).
"""

from __future__ import annotations

import hmac
import logging
from typing import Any
from urllib.parse import parse_qs, quote

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tokenusage.store import StoreError
from tokenusage.web.apiauth import guard_api, is_token_path
from tokenusage.web.i18n import N_
from tokenusage.web.origins import foreign_origin
from tokenusage.web.state import WebState

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_FORM_BYTES = 64 * 1024
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def is_public(path: str) -> bool:
    return path == "/login" or path == "/static" or path.startswith("/static/")


def wants_json(request: Request) -> bool:
    if is_token_path(request.url.path):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


class SecurityHeadersMiddleware:
    """Headers on every response, error pages included. Pages carry account data, so they
    are never stored by caches; versioned static files are cached for good."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")
        versioned = static and b"v=" in scope.get("query_string", b"")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                if versioned and message["status"] in (200, 304):
                    headers["cache-control"] = "public, max-age=31536000, immutable"
                elif not static or message["status"] >= 400:
                    # An error, even a missing static file, must not be cached for a year.
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class FriendlyErrorsMiddleware:
    """Any unexpected exception becomes a 500 page without a traceback (logged instead)."""

    def __init__(self, app: ASGIApp, *, web: WebState) -> None:
        self.app = app
        self.web = web

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            # One line at the usual levels; the traceback only when debugging.
            log.error(
                "unexpected error serving %s %s: %s: %s",
                scope["method"], scope["path"], type(exc).__name__, exc,
                exc_info=log.isEnabledFor(logging.DEBUG),
            )  # fmt: skip
            if started:  # a streamed body broke off: nothing more can be said to the client
                raise
            message = N_(
                "Something went wrong on the dashboard server. The error has been logged; "
                "please try again."
            )
            response = deny(Request(scope), self.web, 500, message)
            await response(scope, receive, send)


def deny(request: Request, web: WebState, status: int, message: str, **values: Any) -> Response:
    """An error as the client can read it: JSON for scripts, a page for browsers."""
    text = web.renderer.gettext(request, message, **values)
    if wants_json(request):
        return JSONResponse({"error": text}, status_code=status)
    return web.renderer.render(request, "error.html", {"status": status, "message": text}, status)


class GuardMiddleware:
    """Signed-in admin for every non-public path; valid CSRF token for every unsafe method.
    The token paths (`/api/...`, `/metrics`) have their own guard (`web.apiauth`)."""

    def __init__(self, app: ASGIApp, *, web: WebState) -> None:
        self.app = app
        self.web = web

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if is_token_path(scope["path"]):
            await guard_api(self.web, self.app, scope, receive, send)
            return
        request = Request(scope)
        static = scope["path"].startswith("/static/")
        state = scope.setdefault("state", {})
        admin = None if static else await self._admin(scope["session"], state)
        state["admin"] = admin
        if admin is None and not is_public(scope["path"]):
            await self._sign_in_first(request)(scope, receive, send)
            return
        if scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if foreign_origin(scope, self.web.settings):
            message = N_(
                "This request came from another site and was refused (the origin check "
                "failed). Use the dashboard's own pages."
            )
            response = deny(request, self.web, 403, message)
        elif body is None:
            response = deny(request, self.web, 413, N_("The request is too large."))
        elif not self._csrf_ok(request, scope["session"], body):
            response = deny(
                request,
                self.web,
                403,
                N_(
                    "The form's security token is missing or out of date (CSRF check failed). "
                    "Reload the page and try again."
                ),
            )
        else:
            await self.app(scope, _replay(body, receive), send)
            return
        await response(scope, receive, send)

    async def _admin(self, session: dict[str, Any], state: dict[str, Any]) -> str | None:
        """The admin of the session's server-side record (see `service.sessions`)."""
        name, sid = session.get("admin"), session.get("sid")
        if not isinstance(name, str) or not isinstance(sid, str):
            return None
        sessions = self.web.sessions
        try:
            admin = await sessions.check(sid)
        except StoreError as exc:
            # The store is down, not the session gone: keep it untouched (the signed cookie
            # vouches for it) unless this replica has seen it end before the outage.
            problem = " ".join(str(exc).split())
            log.warning("cannot check a session in the store: %s", problem)
            state["store_problem"] = problem
            known, admin = sessions.last_known(sid)
            if not known:
                return name
        if admin is None:
            self._sign_out(session)  # signed out, expired, a new password, the admin left
        return admin

    @staticmethod
    def _sign_out(session: dict[str, Any]) -> None:
        for key in ("admin", "seal", "sid"):
            session.pop(key, None)

    def _sign_in_first(self, request: Request) -> Response:
        if request.method in ("GET", "HEAD") and not wants_json(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        return deny(
            request, self.web, 401, N_("You are not signed in, or your session has expired.")
        )

    @staticmethod
    def _csrf_ok(request: Request, session: dict[str, Any], body: bytes) -> bool:
        expected = session.get("csrf")
        if not isinstance(expected, str) or not expected:
            return False
        sent = request.headers.get(CSRF_HEADER)
        content_type = request.headers.get("content-type", "")
        if sent is None and content_type.startswith("application/x-www-form-urlencoded"):
            try:
                fields = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=50)
            except ValueError:  # more fields than any form of ours has
                return False
            values = fields.get(CSRF_FIELD)
            sent = values[0] if values else None
        return sent is not None and hmac.compare_digest(sent.encode(), expected.encode())


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None past `MAX_FORM_BYTES` (forms here are tiny)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the already-read body to the app, then defers to the client."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
