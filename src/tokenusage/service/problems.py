"""Problems are values: what went wrong, where, when, in words a person understands.

Every failure the dashboard can meet while building a view or running an action ends here as a
`Problem`. Its `kind` decides the headline, the advice and its translation on the page, the
CLI's exit code and the JSON's `kind`; nobody parses `message`, which carries the specific
cause (the manual's wording plus the detail) for people and logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from tokenusage.config import ConfigError
from tokenusage.licenseapi.errors import (
    ConnectionFailed,
    HttpStatusError,
    InvalidResponse,
    LicenseApiError,
    LicenseError,
)
from tokenusage.store import StoreError


class Kind(StrEnum):
    CONFIG = "config"
    LICENCE_REFUSED = "licence_refused"
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    UPSTREAM_ERROR = "upstream_error"
    BAD_RESPONSE = "bad_response"
    PAGING_FAULT = "paging_fault"
    STORE_UNAVAILABLE = "store_unavailable"
    SYNC_STOPPED = "sync_stopped"

    @property
    def from_license_api(self) -> bool:
        return self in _UPSTREAM


_UPSTREAM = frozenset(
    {
        Kind.LICENCE_REFUSED,
        Kind.UNREACHABLE,
        Kind.TIMEOUT,
        Kind.UPSTREAM_ERROR,
        Kind.BAD_RESPONSE,
        Kind.PAGING_FAULT,
    }
)


class Where(StrEnum):
    CONFIG = "config"
    PRICING = "pricing"
    ACCOUNT = "account"
    STATS = "stats"
    HISTORY = "history"
    STORE = "store"


@dataclass(frozen=True, slots=True)
class Problem:
    kind: Kind
    where: Where
    message: str
    when: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "where": self.where.value,
            "message": self.message,
            "when": self.when.isoformat(),
        }

    def __str__(self) -> str:
        return self.message


class PagingFault(LicenseApiError):
    """The License API's pages did not add up to its history (a repeated page, fewer rows
    than its total): the copy would be incomplete, so the previous one is kept."""


class ExportRefused(Exception):
    """The complete history cannot be exported; `problem` says why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class SyncStopped(Exception):
    """A sync was stopped on purpose (Clear Cache) before it finished."""


class DeadlinePassed(Exception):
    """The License API did not answer within the time a view or a sync may wait."""


def kind_of(exc: BaseException) -> Kind:
    original = getattr(exc, "original", None)  # a remembered failure answers for its cause
    if isinstance(original, BaseException):
        return kind_of(original)
    if isinstance(exc, LicenseError):
        return Kind.LICENCE_REFUSED
    if isinstance(exc, ConnectionFailed):
        return Kind.TIMEOUT if exc.timed_out else Kind.UNREACHABLE
    if isinstance(exc, InvalidResponse):
        return Kind.BAD_RESPONSE
    if isinstance(exc, PagingFault):
        return Kind.PAGING_FAULT
    if isinstance(exc, HttpStatusError | LicenseApiError):
        return Kind.UPSTREAM_ERROR
    if isinstance(exc, DeadlinePassed | TimeoutError):
        return Kind.TIMEOUT
    if isinstance(exc, StoreError):
        return Kind.STORE_UNAVAILABLE
    if isinstance(exc, SyncStopped):
        return Kind.SYNC_STOPPED
    if isinstance(exc, ConfigError):
        return Kind.CONFIG
    raise TypeError(f"not a known problem: {type(exc).__name__}") from exc


def problem(exc: BaseException, where: Where, when: datetime) -> Problem:
    """The `Problem` a known failure stands for (`TypeError` for an unknown one: a bug)."""
    kind = kind_of(exc)
    message = str(exc)
    if kind is Kind.STORE_UNAVAILABLE:
        prefix = "local store unavailable: "
        if message.lower().startswith(prefix):
            message = message[len(prefix) :]
        message = f"Local store unavailable: {message}"
    return Problem(kind, Where.STORE if kind is Kind.STORE_UNAVAILABLE else where, message, when)


KNOWN = (LicenseApiError, StoreError, SyncStopped, DeadlinePassed, TimeoutError, ConfigError)


def unique(problems: list[Problem]) -> list[Problem]:
    """Each (kind, message) once, first occurrence kept: one cause, one line."""
    seen: dict[tuple[Kind, str], Problem] = {}
    for p in problems:
        seen.setdefault((p.kind, p.message), p)
    return list(seen.values())
