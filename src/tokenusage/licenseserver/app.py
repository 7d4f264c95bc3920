"""The reference License API as an ASGI app.

Every answer is JSON in the contract's envelope, errors included: a client must never have to
parse an HTML error page from this server.
"""

from __future__ import annotations

import logging
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

from tokenusage.licenseapi.models import ENDPOINTS, MAX_HISTORY_LIMIT
from tokenusage.licenseserver.ledger import Ledger, LedgerError, Licence
from tokenusage.store.engine import make_engine

log = logging.getLogger(__name__)


def _json(payload: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


def error(status: int, message: str) -> Response:
    return _json({"success": False, "error": message}, status)


def _id_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise LedgerError(400, f"{name} must be a positive integer")
    return int(raw)


def _limit_param(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None or raw == "":
        return MAX_HISTORY_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_HISTORY_LIMIT:
        raise LedgerError(400, f"limit must be an integer between 1 and {MAX_HISTORY_LIMIT}")
    return int(raw)


def _endpoint_of(path: str) -> str:
    """`/pricing/current` and `/projects/api.php/pricing/current` name the same endpoint."""
    path = path.strip("/")
    if "api.php/" in path:
        path = path.split("api.php/", 1)[1]
    return path


def create_app(db: str | Engine) -> Starlette:
    engine = make_engine(db) if isinstance(db, str) else db
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
        limit = _limit_param(request)
        before_id, after_id = _id_param(request, "before_id"), _id_param(request, "after_id")
        return ledger.history(lic.id, limit=limit, before_id=before_id, after_id=after_id)

    handlers: dict[str, Callable[[Request, str], dict[str, Any]]] = dict.fromkeys(ENDPOINTS, answer)

    async def dispatch(request: Request) -> Response:
        endpoint = _endpoint_of(request.url.path)
        if endpoint not in handlers:
            return error(404, f"Unknown endpoint: {endpoint or '/'}")
        if request.method not in ("GET", "HEAD"):
            return error(405, "Method not allowed: use GET")
        try:
            payload = await run_in_threadpool(handlers[endpoint], request, endpoint)
        except LedgerError as exc:
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
