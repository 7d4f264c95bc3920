"""Query parameters of `credits/history`, parsed strictly: ASCII digits only, bounded length.

`str.isdigit()` accepts `²` and `٥`, and `int()` of thousands of digits is refused by Python
itself or overflows the database's BIGINT: every such value is a 400 with a message, never a
500, and never a silent reading of a non-ASCII digit.
"""

from __future__ import annotations

from tokenusage.licenseapi.models import MAX_HISTORY_LIMIT
from tokenusage.licenseserver.licences import LedgerError

MAX_ID = 2**63 - 1  # BIGINT on both engines
_ASCII_DIGITS = frozenset("0123456789")


def _ascii_int(raw: str, max_value: int) -> int | None:
    """The value of `raw` if it is ASCII digits only, else None; `max_value + 1` for anything
    larger than `max_value`, without converting thousands of digits."""
    if not raw or not _ASCII_DIGITS.issuperset(raw):
        return None
    significant = raw.lstrip("0")
    if len(significant) > len(str(max_value)):
        return max_value + 1
    return min(int(significant or "0"), max_value + 1)


def entry_id(raw: str | None, name: str) -> int | None:
    """`before_id` / `after_id`: None when absent or empty, else a positive id."""
    if raw is None or raw == "":
        return None
    value = _ascii_int(raw, MAX_ID)
    if value is None or value < 1:
        raise LedgerError(400, f"{name} must be a positive integer")
    if value > MAX_ID:
        raise LedgerError(400, f"{name} must be at most {MAX_ID}")
    return value


def limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return MAX_HISTORY_LIMIT
    value = _ascii_int(raw, MAX_HISTORY_LIMIT)
    if value is None or not 1 <= value <= MAX_HISTORY_LIMIT:
        raise LedgerError(400, f"limit must be an integer between 1 and {MAX_HISTORY_LIMIT}")
    return value
