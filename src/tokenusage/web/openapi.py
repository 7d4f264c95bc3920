"""The OpenAPI 3.1 document of the read-only JSON API (served at /api/v1/openapi.json).

Written by hand, beside the routes it describes; the tests validate it with
openapi-spec-validator and check every answer of the API against its schemas.
"""

from __future__ import annotations

import functools
from typing import Any

from tokenusage import __version__

MONEY = {
    "type": "string",
    "pattern": r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$",
    "description": "an exact decimal",
}
DATE = {"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
NULLABLE_INT = {"type": ["integer", "null"]}


def _param(name: str, description: str, schema: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema, **more}  # fmt: skip


_FROM = _param("from", "First business-timezone day, inclusive (YYYY-MM-DD).", DATE)
_TO = _param("to", "Last business-timezone day, inclusive (YYYY-MM-DD).", DATE)


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


_ERRORS = {
    "400": _error_response("A parameter cannot be used; `errors` says which and why."),
    "401": _error_response("The bearer token is missing, wrong or revoked."),
    "429": {
        **_error_response("Too many requests with this token; see Retry-After."),
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    },
    "503": _error_response("No data: the licence is not configured or nothing can be read."),
}

TRANSACTION = {
    "type": "object",
    "required": [
        "id", "created_at", "type", "service_type", "amount", "tokens_used",
        "images_processed", "description", "input_tokens", "completion_tokens", "cached_tokens",
    ],
    "properties": {
        "id": {"type": "integer"},
        "created_at": {"type": "string", "format": "date-time"},
        "type": {"type": "string", "enum": ["usage", "purchase", "refund"]},
        "service_type": {"type": "string"},
        "amount": MONEY,
        "tokens_used": {"type": "integer"},
        "images_processed": {"type": "integer"},
        "description": {"type": "string"},
        "input_tokens": NULLABLE_INT,
        "completion_tokens": NULLABLE_INT,
        "cached_tokens": NULLABLE_INT,
    },
}  # fmt: skip

USAGE_ROW = {
    "type": "object",
    "required": ["bucket", "spend", "purchased", "refunded", "count", "tokens", "images"],
    "properties": {
        "bucket": {"type": "string"},
        "spend": MONEY,
        "purchased": MONEY,
        "refunded": MONEY,
        "count": {"type": "integer"},
        "tokens": {"type": "integer"},
        "images": {"type": "integer"},
    },
}

SUMMARY = {
    "type": "object",
    "description": "The object `tokenusage status --json` prints.",
    "required": [
        "account", "stats", "pricing", "estimates", "low_balance", "transactions", "cache",
        "stale", "complete", "data_as_of", "problems", "runway", "spend",
    ],
    "properties": {
        "account": {"type": ["object", "null"]},
        "stats": {
            "type": ["object", "null"],
            "properties": {"balance": MONEY, "credits_used": MONEY},
        },
        "pricing": {"type": ["object", "null"]},
        "estimates": {"type": ["object", "null"]},
        "low_balance": {"type": "boolean"},
        "transactions": {"type": "integer"},
        "cache": {"type": "object"},
        "stale": {"type": "boolean"},
        "complete": {"type": "boolean"},
        "data_as_of": {"type": ["string", "null"], "format": "date-time"},
        "problems": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}},
        "runway": {
            "type": ["object", "null"],
            "properties": {
                "burn_7d": MONEY,
                "burn_30d": MONEY,
                "basis": {"type": "string"},
                "days_left": NULLABLE_INT,
                "runs_out_on": {"type": ["string", "null"]},
            },
        },
        "spend": {
            "type": ["object", "null"],
            "properties": {
                "today": MONEY,
                "month_to_date": MONEY,
                "previous_month_same_days": MONEY,
            },
        },
    },
}  # fmt: skip

PROBLEM = {
    "type": "object",
    "required": ["kind", "where", "message", "when"],
    "properties": {
        "kind": {"type": "string"},
        "where": {"type": "string"},
        "message": {"type": "string"},
        "when": {"type": "string", "format": "date-time"},
    },
}

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "string"}},
        "problems": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}},
    },
}


def _ok(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _secured(
    summary: str,
    responses: dict[str, Any],
    params: list[Any],
    unavailable: dict[str, Any] | None = None,
) -> dict[str, Any]:
    errors = {**_ERRORS, **({"503": unavailable} if unavailable else {})}
    return {
        "summary": summary,
        "parameters": params,
        "responses": {**responses, **errors},
        "security": [{"bearer": []}],
    }


@functools.cache
def document() -> dict[str, Any]:
    filters = [
        _FROM,
        _TO,
        _param(
            "type",
            "Only these types (repeat, or separate with commas).",
            {"type": "array", "items": {"type": "string", "enum": ["usage", "purchase", "refund"]}},
            style="form",
            explode=True,
        ),
        _param(
            "service",
            "Only these service types (repeat for several).",
            {"type": "array", "items": {"type": "string"}},
            style="form",
            explode=True,
        ),
        _param("q", "Text search in service type and description.", {"type": "string"}),
    ]
    page = [
        _param("limit", "Rows per page, 1 to 1000 (default 100).",
               {"type": "integer", "minimum": 1, "maximum": 1000}),
        _param("cursor", "`next_cursor` of the previous page (opaque).", {"type": "string"}),
    ]  # fmt: skip
    by = _param(
        "by",
        "Bucket by day, ISO week (named by its Monday), month, service or type.",
        {"type": "string", "enum": ["day", "week", "month", "service", "type"], "default": "day"},
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "tokenusage read-only API",
            "version": __version__,
            "description": "Figures of the ComusThumbz credit usage dashboard. Money is a "
            "decimal string; times are ISO 8601 UTC; days are business-timezone days.",
        },
        "servers": [{"url": "/"}],
        "paths": {
            "/api/v1/summary": {
                "get": _secured(
                    "Account, balance, pricing, runway and spend (`tokenusage status --json`).",
                    {"200": _ok({"$ref": "#/components/schemas/Summary"}, "The summary.")},
                    [],
                    unavailable=_ok(
                        {"$ref": "#/components/schemas/Summary"},
                        "No data at all: the summary, empty but for its `problems`.",
                    ),
                )
            },
            "/api/v1/transactions": {
                "get": _secured(
                    "The ledger, newest first, filtered, in keyset pages.",
                    {
                        "200": _ok(
                            {"$ref": "#/components/schemas/TransactionPage"},
                            "One page of transactions.",
                        )
                    },
                    [*filters, *page],
                )
            },
            "/api/v1/usage": {
                "get": _secured(
                    "Spend, purchases and refunds per bucket (`tokenusage usage --json`).",
                    {
                        "200": _ok(
                            {"type": "array", "items": {"$ref": "#/components/schemas/UsageRow"}},
                            "The buckets that had entries.",
                        )
                    },
                    [by, _FROM, _TO],
                )
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document (needs no token).",
                    "responses": {"200": _ok({"type": "object"}, "The OpenAPI document.")},
                    "security": [],
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `tokenusage token create NAME`.",
                }
            },
            "schemas": {
                "Transaction": TRANSACTION,
                "TransactionPage": {
                    "type": "object",
                    "required": ["transactions", "next_cursor"],
                    "properties": {
                        "transactions": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Transaction"},
                        },
                        "next_cursor": {"type": ["string", "null"]},
                        "problems": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Problem"},
                        },
                    },
                },
                "UsageRow": USAGE_ROW,
                "Summary": SUMMARY,
                "Problem": PROBLEM,
                "Error": ERROR,
            },
        },
    }
