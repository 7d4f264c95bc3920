"""Client side of the ComusThumbz License API contract (see docs/license-api.md)."""

from tokenusage.licenseapi.client import DEFAULT_MAX_BODY_BYTES, LicenseApiClient
from tokenusage.licenseapi.errors import (
    ConnectionFailed,
    HttpStatusError,
    InvalidResponse,
    LicenseApiError,
    LicenseError,
)
from tokenusage.licenseapi.exchange import Exchange
from tokenusage.licenseapi.redact import mask_key

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "ConnectionFailed",
    "Exchange",
    "HttpStatusError",
    "InvalidResponse",
    "LicenseApiClient",
    "LicenseApiError",
    "LicenseError",
    "mask_key",
]
