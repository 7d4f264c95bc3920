"""What every request meets first, before sessions and routes: framing, host and origin.

- Request smuggling: a request with both `Content-Length` and `Transfer-Encoding` is one that
  a proxy in front may have framed differently (RFC 9112 §6.3). It is refused with 400 and the
  connection is closed, so nothing pipelined behind it is read. uvicorn's default parser (h11)
  lets Transfer-Encoding win and keeps the connection open.
- Host: with `allowed_hosts`, a request for another host gets 400. No answer repeats the Host
  header: a redirect that a framework made absolute from it becomes relative again, or is
  built on `public_url`.
- HSTS on every answer over HTTPS (direct TLS, or a trusted proxy's X-Forwarded-Proto), never
  over plain HTTP.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tokenusage.web.i18n import N_
from tokenusage.web.origins import header, host_allowed, origin_of, own_origins
from tokenusage.web.security import deny
from tokenusage.web.state import WebState


def _smuggled(scope: Scope) -> bool:
    names = {key for key, _ in scope["headers"]}
    return b"transfer-encoding" in names and b"content-length" in names


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, *, web: WebState) -> None:
        self.app = app
        self.web = web
        self.settings = web.settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = header(scope, b"host")
        hsts = scope.get("scheme") == "https" and self.settings.hsts_max_age > 0

        async def send_safely(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if hsts:
                    headers["strict-transport-security"] = f"max-age={self.settings.hsts_max_age}"
                location = headers.get("location")
                if location is not None and host:
                    headers["location"] = self._relocated(
                        location, own_origins(scope, self.settings)
                    )
            await send(message)

        if _smuggled(scope):
            message = N_(
                "The request is malformed: it has both Content-Length and Transfer-Encoding."
            )
            response = deny(Request(scope), self.web, 400, message)
            response.headers["connection"] = "close"  # uvicorn then closes the connection
            await response(scope, receive, send_safely)
        elif not host_allowed(host, self.settings):
            message = N_("This dashboard does not answer for that host name.")
            await deny(Request(scope), self.web, 400, message)(scope, receive, send_safely)
        else:
            await self.app(scope, receive, send_safely)

    def _relocated(self, location: str, own: set[str]) -> str:
        """A redirect to this dashboard made absolute from the Host header: relative again,
        or on `public_url`."""
        if origin_of(location) not in own:
            return location
        parts = urlsplit(location)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return f"{self.settings.public_url}{target}" if self.settings.public_url else target
