"""Response bytes to wire models, or to the typed error that says what was wrong with them.

JSON is decoded with `parse_float=Decimal` so money never passes through float, and strictly
(no NaN/Infinity). The contract allows the payload bare or in a `{"success": true, "data": …}`
envelope; `{"success": false, "error": …}` is a failure whatever the HTTP status.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from tokenusage.licenseapi.errors import InvalidResponse, LicenseError
from tokenusage.licenseapi.redact import scrub, scrub_bytes

M = TypeVar("M", bound=BaseModel)
_BOM = b"\xef\xbb\xbf"
_SNIPPET = 80
_MESSAGE_MAX = 300


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def load_json(body: bytes, *, key: str, endpoint: str) -> Any:
    """Decode strictly; the error quotes the body's start, as that is usually a PHP warning.

    The key is masked first, in any spelling: upstream text that echoes it (a description, a
    message) must not carry it into the store, a page, the CSV or the JSON API."""
    text = scrub_bytes(body.removeprefix(_BOM), key)
    if not text.strip():
        raise InvalidResponse("empty body, expected JSON", endpoint=endpoint)
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        start = text[:_SNIPPET].decode("utf-8", errors="replace")
        reason = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
        detail = f"not JSON ({reason}); body starts with {start!r}"
        raise InvalidResponse(scrub(detail, key), endpoint=endpoint) from None


def error_message(document: Any) -> str | None:
    """The server's reason in a failure body (`error`, `message`, or `error.message`), if any."""
    if not isinstance(document, dict):
        return None
    for name in ("error", "message"):
        value = document.get(name)
        if isinstance(value, dict):
            value = value.get("message")
        if isinstance(value, str) and value.strip():
            return value.strip()[:_MESSAGE_MAX]
    return None


def error_message_of_body(body: bytes) -> str | None:
    """`error_message` of a failure body that may not be JSON at all."""
    try:
        return error_message(json.loads(body.removeprefix(_BOM), parse_float=Decimal))
    except (ValueError, RecursionError):
        return None


def unwrap(document: Any, *, status: int, key: str, endpoint: str) -> dict[str, Any]:
    """The payload object, from the envelope or bare; a `success: false` body raises."""
    if not isinstance(document, dict):
        raise InvalidResponse(
            f"expected a JSON object, got {_json_type(document)}", endpoint=endpoint
        )
    if document.get("success") is False:
        reason = error_message(document) or "the server reported a failure without a reason"
        raise LicenseError(status, scrub(reason, key), endpoint=endpoint)
    if document.get("success") is True and "data" in document:
        payload = document["data"]
        if not isinstance(payload, dict):
            raise InvalidResponse(
                f"expected `data` to be a JSON object, got {_json_type(payload)}",
                endpoint=endpoint,
            )
        return payload
    return document


def validate(model: type[M], payload: dict[str, Any], *, status: int, key: str, endpoint: str) -> M:
    """`model` from `payload`; the error names the first bad field and what was wrong."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        reason = error_message(payload)
        if reason is not None:
            # Not a payload at all but an error body without `success: false`.
            raise LicenseError(status, scrub(reason, key), endpoint=endpoint) from None
        raise InvalidResponse(scrub(describe(exc), key), endpoint=endpoint) from None


def describe(exc: ValidationError) -> str:
    """ "field 'transactions.1.amount' malformed: …", one line however many branches failed.

    A number field is a union of a strict and a lenient branch (see `models`): both report
    the same bad value, and the lenient branch's message is the one that says why.
    """
    errors: list[Any] = []
    for error in exc.errors(include_url=False):
        loc = tuple(part for part in error["loc"] if not _is_branch(part))
        if errors and errors[-1]["loc"] == loc:
            errors[-1] = {**error, "loc": loc}
        else:
            errors.append({**error, "loc": loc})
    first = errors[0]
    field = ".".join(str(part) for part in first["loc"]) or "payload"
    if first["type"] == "missing":
        text = f"field '{field}' missing"
    else:
        got = repr(first.get("input"))
        if len(got) > _SNIPPET:
            got = got[: _SNIPPET - 1] + "…"
        text = f"field '{field}' malformed: {first['msg']} (got {got})"
    if len(errors) > 1:
        text += f" (and {len(errors) - 1} more)"
    return text


def _is_branch(part: str | int) -> bool:
    """pydantic's name for a union branch in an error's location (no wire field looks so)."""
    return isinstance(part, str) and (part in ("int", "decimal") or part.startswith("function-"))


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"
