"""Typed errors of the License API client, worded as the manual's Troubleshooting section.

Pages, the CLI and logs show `str(error)` to the admin. Each message starts with the manual's
wording, because the manual tells the admin what to do about exactly that text, and ends with the
specific cause. No message may carry the licence key: whatever could echo it (upstream error
text, URLs, exception strings) goes through `scrub` before it reaches an error.
"""

from __future__ import annotations

CONNECTION_FAILED = "Failed to connect to License API"
INVALID_RESPONSE = "Invalid API response format"
LICENSE_ERROR = "License error"


class LicenseApiError(Exception):
    """Any failed License API call. `message` is the admin-facing text; `detail` the cause."""

    def __init__(
        self, message: str, *, endpoint: str | None = None, detail: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.endpoint = endpoint
        self.detail = detail

    def __str__(self) -> str:
        return self.message


class ConnectionFailed(LicenseApiError):
    """The API could not be reached or did not answer in time (DNS, refused, TLS, timeout).
    `timed_out` tells a slow API from an unreachable one."""

    def __init__(
        self,
        detail: str | None = None,
        *,
        endpoint: str | None = None,
        timed_out: bool = False,
    ) -> None:
        super().__init__(_join(CONNECTION_FAILED, detail), endpoint=endpoint, detail=detail)
        self.timed_out = timed_out


class HttpStatusError(LicenseApiError):
    """The API answered with a status the client cannot use; `status` is the HTTP code."""

    def __init__(
        self, status: int, detail: str | None = None, *, endpoint: str | None = None
    ) -> None:
        super().__init__(
            _join(f"API returned HTTP {status}", detail), endpoint=endpoint, detail=detail
        )
        self.status = status


class LicenseError(HttpStatusError):
    """The server refused the licence (401/403, or `success: false`) and said why.

    A subclass of `HttpStatusError` so that callers handling statuses see it too, but worded
    after the server's own reason: "License error: Invalid license key" tells the admin what to
    fix, "API returned HTTP 401" does not.
    """

    def __init__(
        self, status: int, detail: str | None = None, *, endpoint: str | None = None
    ) -> None:
        reason = detail or f"API returned HTTP {status}"
        LicenseApiError.__init__(
            self, f"{LICENSE_ERROR}: {reason}", endpoint=endpoint, detail=detail
        )
        self.status = status


class InvalidResponse(LicenseApiError):
    """The API answered, but not with the contract's JSON (not JSON, field missing/malformed)."""

    def __init__(self, detail: str | None = None, *, endpoint: str | None = None) -> None:
        super().__init__(_join(INVALID_RESPONSE, detail), endpoint=endpoint, detail=detail)


def _join(head: str, detail: str | None) -> str:
    return f"{head}: {detail}" if detail else head


def outcome(exc: LicenseApiError) -> str:
    """A failed call's outcome as a short fixed word (a metrics label)."""
    if isinstance(exc, ConnectionFailed):
        return "timeout" if exc.timed_out else "unreachable"
    if isinstance(exc, LicenseError):
        return "licence_refused"
    if isinstance(exc, HttpStatusError):
        return "http_error"
    if isinstance(exc, InvalidResponse):
        return "bad_response"
    return "error"
