"""The read-only JSON API under /api/v1, for scripts with a bearer token (see `web.apiauth`).

Each answer is the same object the CLI prints: `/summary` is `tokenusage status --json`,
`/usage` is `tokenusage usage --json`. `/transactions` pages with an opaque keyset cursor (the
id of the last row sent), so a page stays put while newer rows arrive.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tokenusage.service import Problem
from tokenusage.service.jsonout import decode_cursor, view_json
from tokenusage.usage.buckets import By
from tokenusage.web.insights import request_filters
from tokenusage.web.openapi import document
from tokenusage.web.state import web_state

BY: tuple[By, ...] = ("day", "week", "month", "service", "type")
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_DIGITS = re.compile(r"[0-9]{1,7}")


def api_error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _unavailable(problems: list[Problem]) -> JSONResponse:
    message = problems[0].message if problems else "no data"
    return api_error(503, message, problems=[p.as_json() for p in problems])


async def summary(request: Request) -> Response:
    view = await web_state(request).service.view(1)
    status = 200 if view.configured and view.has_data else 503
    return JSONResponse(view_json(view), status_code=status)


async def transactions(request: Request) -> Response:
    params = request.query_params
    filters = request_filters(params)
    errors = [str(note) for note in filters.errors]
    limit = DEFAULT_LIMIT
    raw_limit = params.get("limit", "").strip()
    if raw_limit:
        if _DIGITS.fullmatch(raw_limit) and 1 <= int(raw_limit) <= MAX_LIMIT:
            limit = int(raw_limit)
        else:
            errors.append(f"limit: a whole number from 1 to {MAX_LIMIT}")
    before_id = None
    raw_cursor = params.get("cursor", "").strip()
    if raw_cursor:
        before_id = decode_cursor(raw_cursor)
        if before_id is None:
            errors.append("cursor: not a cursor this API gave out")
    if errors:
        return api_error(400, "; ".join(errors), errors=errors)
    service = web_state(request).service
    body, problems = await service.transactions(filters, before_id, limit)
    if body is None:
        return _unavailable(problems)
    return Response(body, media_type="application/json")


async def usage(request: Request) -> Response:
    params = request.query_params
    filters = request_filters(params)
    errors = [str(note) for note in filters.errors]
    by = params.get("by", "day")
    if by not in BY:
        errors.append("by: one of day, week, month, service, type")
    if errors:
        return api_error(400, "; ".join(errors), errors=errors)
    service = web_state(request).service
    picked: By = next(b for b in BY if b == by)
    rows, problems = await service.usage(filters, picked)
    if problems and not rows:
        return _unavailable(problems)
    return JSONResponse([r.as_json() for r in rows])


async def openapi(request: Request) -> Response:
    return JSONResponse(document())


ROUTES = [
    Route("/api/v1/summary", summary, methods=["GET"]),
    Route("/api/v1/transactions", transactions, methods=["GET"]),
    Route("/api/v1/usage", usage, methods=["GET"]),
    Route("/api/v1/openapi.json", openapi, methods=["GET"]),
]
