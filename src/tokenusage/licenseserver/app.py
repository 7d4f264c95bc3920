"""The reference License API as an ASGI app.

Every answer is JSON in the contract's envelope, errors included: a client must never have to
parse an HTML error page from this server.

A failed licence check keeps its status (401 unknown key, 403 known key that does not match or
is inactive) but is answered no sooner than `failure_floor` seconds after the request arrived,
whichever check failed, so timing does not tell a known key from an unknown one; and an address
past `failure_limit` failures in `failure_window` seconds is answered 429 (see `throttle.py`).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tokenusage.licenseapi.models import ENDPOINTS
from tokenusage.licenseserver import params as query
from tokenusage.licenseserver.ledger import Ledger, LedgerError, Licence
from tokenusage.licenseserver.throttle import FailedChecks
from tokenusage.store.engine import make_engine

log = logging.getLogger(__name__)


def _json(payload: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    response = _json({"success": False, "error": message}, status)
    response.headers.update(headers or {})
    return response


def _endpoint_of(path: str) -> str:
    """`/pricing/current` and `/projects/api.php/pricing/current` name the same endpoint."""
    path = path.strip("/")
    if "api.php/" in path:
        path = path.split("api.php/", 1)[1]
    return path


def create_app(
    db: str | Engine,
    *,
    failure_floor: float = 0.05,
    failure_limit: int = 20,
    failure_window: float = 60.0,
) -> Starlette:
    engine = make_engine(db) if isinstance(db, str) else db
    failed_checks = FailedChecks(failure_limit, failure_window)
    ledger = Ledger(engine)
    ledger.create_schema()

    def answer(request: Request, endpoint: str) -> dict[str, Any]:
        params = request.query_params
        lic: Licence = ledger.authenticate(
            params.get("license_key", ""), params.get("domain", ""), params.get("email", "")
        )
        if endpoint == "pricing/current":
            return ledger.current_pricing()
        if endpoint == "user/info":
            return {
                "email": lic.email,
                "license_type": lic.license_type,
                "domain": lic.domain,
                "member_since": lic.member_since.date().isoformat(),
            }
        if endpoint == "user/stats":
            return ledger.stats(lic.id)
        limit = query.limit(params.get("limit"))
        before_id = query.entry_id(params.get("before_id"), "before_id")
        after_id = query.entry_id(params.get("after_id"), "after_id")
        return ledger.history(lic.id, limit=limit, before_id=before_id, after_id=after_id)

    handlers: dict[str, Callable[[Request, str], dict[str, Any]]] = dict.fromkeys(ENDPOINTS, answer)

    async def dispatch(request: Request) -> Response:
        endpoint = _endpoint_of(request.url.path)
        if endpoint not in handlers:
            return error(404, f"Unknown endpoint: {endpoint or '/'}")
        if request.method not in ("GET", "HEAD"):
            return error(405, "Method not allowed: use GET")
        address = request.client.host if request.client else ""
        wait = failed_checks.blocked_for(address)
        if wait > 0:
            retry = str(math.ceil(wait))
            return error(
                429,
                f"Too many failed licence checks from this address: retry in {retry} s",
                {"Retry-After": retry},
            )
        arrived = asyncio.get_running_loop().time()
        try:
            payload = await run_in_threadpool(handlers[endpoint], request, endpoint)
        except LedgerError as exc:
            if exc.status in (401, 403):
                failed_checks.record(address)
                elapsed = asyncio.get_running_loop().time() - arrived
                await asyncio.sleep(max(0.0, failure_floor - elapsed))
            return error(exc.status, exc.message)
        except Exception:
            log.exception("unexpected error answering %s", endpoint)
            return error(500, "Internal server error")
        return _json({"success": True, "data": payload})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        engine.dispose()

    methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"]
    app = Starlette(routes=[Route("/{path:path}", dispatch, methods=methods)], lifespan=lifespan)
    app.state.ledger = ledger
    return app
