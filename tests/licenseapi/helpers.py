"""Shared data and a client factory for the License API client tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tokenusage.licenseapi import LicenseApiClient

KEY = "CTZ-4F9A-2B7C-91DE-8842"
DOMAIN = "example.com"
EMAIL = "admin@example.com"
API_URL = "https://license.test/api.php"

PRICING: dict[str, Any] = {
    "currency": "USD",
    "image_processing_per_10k": "5.00",
    "input_tokens_per_1m": "2.50",
    "completion_tokens_per_1m": "10.00",
    "cached_tokens_per_1m": "1.25",
}
USER_INFO: dict[str, Any] = {
    "email": EMAIL,
    "license_type": "Pro",
    "domain": DOMAIN,
    "member_since": "2025-01-15 08:30:00",
}
USER_STATS: dict[str, Any] = {
    "balance": "12.50",
    "credits_used": "87.50",
    "tokens_used": 1234567,
    "api_calls": 321,
    "images_processed": 42,
}


def transaction(id_: int, amount: str = "-0.01", **extra: Any) -> dict[str, Any]:
    return {
        "id": id_,
        "created_at": "2026-11-24 13:05:00",
        "type": "usage",
        "service_type": "chat",
        "amount": amount,
        "tokens_used": 100,
        "images_processed": 0,
        "description": "chat via openai (gpt-4o)",
        **extra,
    }


Handler = Callable[[httpx.Request], httpx.Response]


def mock_client(handler: Handler, **options: Any) -> LicenseApiClient:
    options.setdefault("backoff_base", 0.001)
    return LicenseApiClient(
        API_URL, KEY, DOMAIN, EMAIL, transport=httpx.MockTransport(handler), **options
    )


def envelope(payload: Any) -> dict[str, Any]:
    return {"success": True, "data": payload}


def replying(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Handler:
    """A handler answering every request alike: bytes as they are, anything else as JSON."""

    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, bytes):
            return httpx.Response(status, content=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return handler
