"""The guard of the token paths (`/api/...`, `/metrics`): a bearer token and reads only.

A session cookie counts for nothing here and a token counts for nothing elsewhere, so a
token can never reach the dashboard's POST actions and a page's cookie cannot be replayed
by a script. Every answer is JSON. The token is looked up in the store on each request, so a
revocation holds at once on every replica.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from tokenusage.store import StoreError
from tokenusage.web.state import WebState

log = logging.getLogger(__name__)
PUBLIC = frozenset({"/api/v1/openapi.json"})
READS = frozenset({"GET", "HEAD"})


def is_token_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/") or path == "/metrics"


def bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _json(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def guard_api(
    web: WebState, app: ASGIApp, scope: Scope, receive: Receive, send: Send
) -> None:
    request = Request(scope)
    state: dict[str, Any] = scope.setdefault("state", {})
    state["admin"] = None
    path = scope["path"]
    if scope["method"] not in READS:
        response = _json(405, "the API is read-only: use GET", {"allow": "GET, HEAD"})
    elif path in PUBLIC or (path == "/metrics" and web.settings.metrics_public):
        await app(scope, receive, send)
        return
    elif (token := bearer(request)) is None:
        response = _json(401, "an API token is needed: Authorization: Bearer <token>", _CHALLENGE)
    else:
        try:
            name = await web.tokens().acheck(token)
        except StoreError as exc:
            log.warning("cannot check an API token in the store: %s", " ".join(str(exc).split()))
            name, response = None, _json(503, "the local store cannot check the token now")
        else:
            response = _json(401, "this API token is wrong or was revoked", _CHALLENGE)
        if name is not None:
            wait = web.rate.wait(name)
            if wait == 0:
                state["api_token"] = name
                await app(scope, receive, send)
                return
            response = _json(429, "too many requests with this token", {"retry-after": str(wait)})
    await response(scope, receive, send)


_CHALLENGE = {"www-authenticate": 'Bearer realm="tokenusage"'}
