"""Licences: the record, and the checks a request's credentials must pass."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


class LedgerError(Exception):
    """A request the ledger refuses; `status` is the HTTP status the API answers with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Licence:
    id: int
    key: str
    domain: str
    email: str
    license_type: str
    member_since: datetime
    status: str


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def licence_of(row: Any) -> Licence:
    """A `licences` row as a `Licence`."""
    return Licence(
        row.id,
        row.key,
        row.domain,
        row.email,
        row.license_type,
        utc(row.member_since),
        row.status,
    )


def _same_domain(a: str, b: str) -> bool:
    def norm(d: str) -> str:
        d = d.strip().lower().rstrip(".")
        return d.removeprefix("www.")

    return norm(a) == norm(b)


def check_credentials(lic: Licence | None, domain: str, email: str) -> Licence:
    """`lic` (found by its key) if the domain and email match and it is active, else the
    `LedgerError` of the first check that failed: 401 for an unknown key, else 403."""
    if lic is None:
        raise LedgerError(401, "Invalid license key")
    if not _same_domain(lic.domain, domain):
        raise LedgerError(403, f"License is not valid for domain {domain}")
    if lic.email.strip().lower() != email.strip().lower():
        raise LedgerError(403, "Email does not match the license")
    if lic.status == "suspended":
        raise LedgerError(403, "License is suspended")
    if lic.status == "expired":
        raise LedgerError(403, "License has expired")
    return lic
