"""The raw record of one License API call, kept for the debug page.

The manual's "Debug API" shows raw responses so an admin can see *why* a call failed (a PHP
warning instead of JSON, an error message). The record is safe to show: the URL carries a masked
key, the body is cut at `BODY_CAPTURE_BYTES` so a 3 MB history page does not end up in memory
twice or in the HTML, and any echo of the key in the body is masked too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode

from tokenusage.licenseapi.redact import mask_key, scrub, scrub_bytes

BODY_CAPTURE_BYTES = 64 * 1024
# Read past the cut and masked before cutting: a key across the cut must not show half of it.
CAPTURE_MARGIN = 1024
KEY_PARAM = "license_key"


@dataclass(frozen=True, slots=True)
class Exchange:
    """One call as the debug page shows it.

    `status` is the last HTTP status received (None when no response arrived), `latency_ms` the
    wall time of the whole call including retries, `attempts` how many requests it took, `body`
    the last response body (cut, with a marker) and `error` the admin-facing error text.
    """

    endpoint: str
    url: str
    status: int | None
    latency_ms: float
    body: str
    error: str | None
    at: datetime
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.error is None


def display_url(url: str, params: Mapping[str, str], key: str) -> str:
    """The request URL with the licence key masked (the mask stays readable, not %-encoded)."""
    masked = "…".join(quote(part, safe="") for part in mask_key(key).split("…"))
    rest = urlencode({name: value for name, value in params.items() if name != KEY_PARAM})
    query = f"{KEY_PARAM}={masked}" + (f"&{rest}" if rest else "")
    return scrub(f"{url}?{query}", key)


def capture_body(body: bytes, *, total: int, exact: bool, key: str) -> str:
    """Body text for the record: at most `BODY_CAPTURE_BYTES`, marked when cut.

    `total` is the body size when `exact`, else a lower bound (a refused, oversized body).
    `body` may run `CAPTURE_MARGIN` bytes past the cut; the key is masked before cutting.
    """
    shown = min(len(body), BODY_CAPTURE_BYTES)
    masked = scrub_bytes(body[: BODY_CAPTURE_BYTES + CAPTURE_MARGIN], key)
    cut = shown < total or not exact
    text = (masked[:BODY_CAPTURE_BYTES] if cut else masked).decode("utf-8", errors="replace")
    if cut:
        size = f"{total:,} bytes" if exact else f"a body of more than {total:,} bytes"
        text += f"\n… [cut: first {shown:,} bytes of {size}]"
    return text
