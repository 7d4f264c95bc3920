"""The read-only JSON API under /api/v1, for scripts with a bearer token (see `web.apiauth`).

Each answer is the same object the CLI prints: `/summary` is `tokenusage status --json`,
`/usage` is `tokenusage usage --json`. `/transactions` pages with an opaque keyset cursor (the
id of the last row sent), so a page stays put while newer rows arrive.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tokenusage.service import Problem
from tokenusage.service.jsonout import transaction_json, view_json
from tokenusage.usage.buckets import By
from tokenusage.web.insights import request_filters
from tokenusage.web.openapi import document
from tokenusage.web.state import web_state

BY: tuple[By, ...] = ("day", "week", "month", "service", "type")
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_CURSOR = re.compile(r"v1:([0-9]{1,19})")
_DIGITS = re.compile(r"[0-9]{1,7}")


def api_error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def encode_cursor(before_id: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{before_id}".encode()).decode().rstrip("=")


def decode_cursor(text: str) -> int | None:
    """The id a cursor names; None when it is not one of ours."""
    if len(text) > 64:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        return None
    found = _CURSOR.fullmatch(raw)
    if found is None or int(found[1]) >= 2**63:
        return None
    return int(found[1])


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
    errors = list(filters.errors)
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
    rows, more, problems = await service.transactions(filters, before_id, limit)
    if rows is None:
        return _unavailable(problems)
    body: dict[str, Any] = {
        "transactions": [transaction_json(r) for r in rows],
        "next_cursor": encode_cursor(rows[-1].id) if more and rows else None,
    }
    if problems:
        body["problems"] = [p.as_json() for p in problems]
    return JSONResponse(body)


async def usage(request: Request) -> Response:
    params = request.query_params
    filters = request_filters(params)
    errors = list(filters.errors)
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
