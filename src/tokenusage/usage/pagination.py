"""The transaction table's page window: "Showing X-Y of Z transactions (Page N of M)".

The page number comes from a query string or a command line: `parse_page` turns anything a
browser, a crawler or a hand-edited URL can send into an int at that boundary, and `paginate`
clamps it onto a real page instead of an error.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal

PER_PAGE = 300
WINDOW = 5

_INTEGER = re.compile(r"[+-]?[0-9]+")
# More digits than any real page count: such a number is "past the end", and is not parsed
# (int() refuses strings over 4,300 digits).
_MAX_DIGITS = 18
_PAST_THE_END: int = 10**_MAX_DIGITS


@dataclass(frozen=True)
class PageWindow:
    """One page of a newest-first listing and the navigation around it."""

    page: int
    pages: int
    per_page: int
    total: int
    offset: int
    first_index: int
    last_index: int
    links: tuple[int, ...]
    previous: int | None
    next: int | None


def parse_page(page: object) -> int:
    """The integer the client asked for; 1 for anything that is not a whole number.

    Accepted: ints, integral floats and Decimals, and ASCII integer strings with optional
    sign and surrounding whitespace. Rejected (page 1): "abc", "", "2.5", "1e9", "1_000",
    non-ASCII digits, bools, NaN and infinities.
    """
    if isinstance(page, bool):
        return 1
    if isinstance(page, int):
        return page
    if isinstance(page, float):
        return int(page) if math.isfinite(page) and page.is_integer() else 1
    if isinstance(page, Decimal):
        return int(page) if page.is_finite() and page == page.to_integral_value() else 1
    if isinstance(page, str):
        text = page.strip()
        if not _INTEGER.fullmatch(text):
            return 1
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-").lstrip("0")
        if len(digits) > _MAX_DIGITS:
            return sign * _PAST_THE_END
        return sign * int(digits or "0")
    return 1


def paginate(total: int, page: int, per_page: int = PER_PAGE, window: int = WINDOW) -> PageWindow:
    """Clamp the requested page into 1..pages and describe it; never raises for `page`.

    An empty listing still has one (empty) page, so the page can render "Page 1 of 1".
    """
    if total < 0:
        raise ValueError(f"total must be >= 0, got {total}")
    if per_page < 1:
        raise ValueError(f"per_page must be >= 1, got {per_page}")
    if window < 0:
        raise ValueError(f"window must be >= 0, got {window}")
    pages = max(1, -(-total // per_page))
    current = min(max(page, 1), pages)
    offset = (current - 1) * per_page
    return PageWindow(
        page=current,
        pages=pages,
        per_page=per_page,
        total=total,
        offset=offset,
        first_index=offset + 1 if total else 0,
        last_index=min(offset + per_page, total),
        links=tuple(range(max(1, current - window), min(pages, current + window) + 1)),
        previous=current - 1 if current > 1 else None,
        next=current + 1 if current < pages else None,
    )
