"""One GET against the License API, turned into an `Attempt`: what came back, what went wrong,
and whether trying again could help. The retry loop and the deadline live in `client.py`.

Everything is filled in place, so when the overall deadline cancels a request midway, the
status and the body received so far still reach the debug page.
"""

from __future__ import annotations

import errno
import socket
import ssl
from dataclasses import dataclass, field

import httpx

from tokenusage.licenseapi import decode
from tokenusage.licenseapi.errors import (
    ConnectionFailed,
    HttpStatusError,
    InvalidResponse,
    LicenseApiError,
    LicenseError,
)
from tokenusage.licenseapi.exchange import BODY_CAPTURE_BYTES, CAPTURE_MARGIN
from tokenusage.licenseapi.redact import scrub

RETRY_STATUSES = frozenset({502, 503, 504})
LICENCE_STATUSES = frozenset({401, 403})
_DROPPED = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)


@dataclass(frozen=True, slots=True)
class Limits:
    """What a request needs to know to bound itself and to word (and scrub) its errors."""

    key: str
    hostname: str  # for DNS messages
    host: str  # host[:port], for the others
    max_body: int
    connect_timeout: float
    timeout: float


@dataclass(slots=True)
class Attempt:
    status: int | None = None
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0
    exact: bool = True
    error: LicenseApiError | None = None
    retry: bool = False
    retry_after: float | None = None

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)

    def head(self, limit: int) -> bytes:
        """The first `limit` bytes, without joining a whole multi-megabyte body for them."""
        taken: list[bytes] = []
        size = 0
        for chunk in self.chunks:
            if size >= limit:
                break
            taken.append(chunk)
            size += len(chunk)
        return b"".join(taken)[:limit]


async def send(
    http: httpx.AsyncClient,
    attempt: Attempt,
    url: str,
    params: dict[str, str],
    *,
    endpoint: str,
    limits: Limits,
) -> None:
    """Send one GET and fill `attempt`; only cancellation escapes as an exception."""
    try:
        async with http.stream("GET", url, params=params) as response:
            attempt.status = response.status_code
            await _read_body(response, attempt, endpoint, limits)
            headers = response.headers
    except httpx.TransportError as exc:
        got_response = attempt.status is not None
        detail = scrub(describe(exc, got_response=got_response, limits=limits), limits.key)
        timed_out = isinstance(exc, httpx.TimeoutException)
        attempt.error = ConnectionFailed(detail, endpoint=endpoint, timed_out=timed_out)
        # Nothing came back: the request may never have been handled, and a GET is idempotent.
        attempt.retry = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout) or (
            not got_response and isinstance(exc, _DROPPED)
        )
        return
    except httpx.DecodingError as exc:
        detail = scrub(f"body could not be decoded ({exc})", limits.key)
        attempt.error = InvalidResponse(detail, endpoint=endpoint)
        return
    if attempt.error is None:
        _judge_status(attempt, headers, endpoint, limits)


async def _read_body(
    response: httpx.Response, attempt: Attempt, endpoint: str, limits: Limits
) -> None:
    """Stream the body, refusing it (unread) once it is known to exceed `max_body`."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_body:
        attempt.size = int(declared)
        attempt.error = _too_large(endpoint, limits)
        return
    async for chunk in response.aiter_bytes():
        attempt.size += len(chunk)
        if attempt.size > limits.max_body:
            attempt.exact = False
            attempt.error = _too_large(endpoint, limits)
            # Only what the debug page shows is kept of a body that will never be decoded.
            attempt.chunks = [attempt.head(BODY_CAPTURE_BYTES + CAPTURE_MARGIN)]
            return
        attempt.chunks.append(chunk)


def _too_large(endpoint: str, limits: Limits) -> InvalidResponse:
    return InvalidResponse(f"response larger than {byte_size(limits.max_body)}", endpoint=endpoint)


def byte_size(size: int) -> str:
    """`64 MiB` for a whole number of KiB/MiB/GiB, else `1,000 bytes`: never rounded."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale:,} {unit}"
    return f"{size:,} bytes"


def _judge_status(attempt: Attempt, headers: httpx.Headers, endpoint: str, limits: Limits) -> None:
    status = attempt.status
    assert status is not None
    if 200 <= status < 300:
        return
    reason = decode.error_message_of_body(attempt.body)
    reason = scrub(reason, limits.key) if reason else None
    if status in LICENCE_STATUSES:
        attempt.error = LicenseError(status, reason, endpoint=endpoint)
        return
    if 300 <= status < 400:
        # Not followed: the query carries the licence key, and it must not go to another host.
        target = scrub(headers.get("location", "?"), limits.key)
        reason = f"redirect to {target} not followed: set api_url to the final address"
    attempt.error = HttpStatusError(status, reason, endpoint=endpoint)
    attempt.retry = status in RETRY_STATUSES
    retry_after = headers.get("retry-after", "")
    if attempt.retry and retry_after.isdigit():
        attempt.retry_after = float(retry_after)


def describe(exc: httpx.TransportError, *, got_response: bool, limits: Limits) -> str:
    """The specific cause behind "Failed to connect to License API", in the admin's terms."""
    host = limits.host
    chain = _chain(exc)
    reason = str(chain[-1]).strip() or type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout):
        return f"connecting to {host} timed out after {limits.connect_timeout:.1f} s"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out after {limits.timeout:.1f} s"
    if isinstance(exc, httpx.ConnectError):
        text = " ".join(str(part) for part in chain).lower()
        if any(isinstance(part, socket.gaierror) for part in chain) or "name or service" in text:
            return f"DNS lookup of {limits.hostname} failed ({reason})"
        if any(isinstance(part, ssl.SSLError) for part in chain) or "certificate" in text:
            return f"TLS handshake with {host} failed ({reason})"
        refused = any(getattr(part, "errno", None) == errno.ECONNREFUSED for part in chain)
        if refused or "refused" in text:
            return f"connection to {host} refused"
        return f"cannot connect to {host} ({reason})"
    if isinstance(exc, _DROPPED):
        when = "before the response was complete" if got_response else "without a response"
        return f"connection closed {when} ({reason})"
    return reason


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and its causes, outermost first: httpx wraps the `OSError` that says what happened."""
    chain = [exc]
    while len(chain) < 8:
        nxt = chain[-1].__cause__ or chain[-1].__context__
        if nxt is None or nxt in chain:
            break
        chain.append(nxt)
    return chain
