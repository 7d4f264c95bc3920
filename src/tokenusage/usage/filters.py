"""The history's filters: a date range in the business timezone, types, services and a search.

They arrive as GET parameters (`from`, `to`, `type`, `service`, `q`) or CLI options, are
parsed here once into a `Filters` value, and go back into URLs with `query()`, so a filtered
view can be bookmarked and shared. A value that cannot be used as given becomes a `FilterNote`
(which parameter, why, the input): the CLI and the JSON API refuse the request with its
message, the page says it in the reader's language along with what it did instead (left the
value out, swapped the dates). Nothing is silently dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Literal
from urllib.parse import urlencode

TYPES = ("usage", "purchase", "refund")
MAX_QUERY = 200
MAX_SERVICES = 50
# The presets on the page: days back from today, inclusive of today ("all": no range).
PRESETS = (("7d", 7), ("30d", 30), ("90d", 90), ("12m", 365))
DEFAULT_INSIGHT_DAYS = 30
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


# The days a filter may name: a range inside them, its previous period and its chart's
# buckets all stay inside what a date can hold.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)

Reason = Literal[
    "not_a_date",
    "not_a_day",
    "out_of_range",
    "after",
    "unknown_type",
    "many_services",
    "long_q",
    "no_service",
]


@dataclass(frozen=True)
class FilterNote:
    """A filter value that cannot be used as given: the parameter, why, and the input (for
    "after", `value` is `from` and `other` is `to`)."""

    name: str  # from, to, type, service, q
    reason: Reason
    value: str = ""
    other: str = ""

    def __str__(self) -> str:
        """What is wrong, in English (the CLI's and the JSON API's refusal)."""
        match self.reason:
            case "not_a_date":
                return f"{self.name}: {self.value!r} is not a date like 2026-11-30"
            case "not_a_day":
                return f"{self.name}: {self.value!r} is not a calendar day"
            case "out_of_range":
                return f"{self.name}: {self.value} is not between {FIRST_DAY} and {LAST_DAY}"
            case "after":
                return f"from ({self.value}) is after to ({self.other})"
            case "unknown_type":
                return f"type: {self.value} unknown (use usage, purchase or refund)"
            case "many_services":
                return f"service: at most {self.value} services at once"
            case "long_q":
                return f"q: at most {self.value} characters"
            case "no_service":
                return f"service: {self.value!r} is in no transaction"
            case _:  # a reason added without its words
                return f"{self.name}: {self.value!r} cannot be used"


@dataclass(frozen=True)
class Filters:
    """What the history table shows. Empty fields mean "no restriction"."""

    first: date | None = None  # `from`, inclusive, business-timezone calendar day
    last: date | None = None  # `to`, inclusive
    types: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    q: str = ""
    # What could not be used as given. Not part of the value: two requests that reduce to the
    # same filters show the same rows (and share a memo), each with its own notes.
    errors: tuple[FilterNote, ...] = field(default=(), compare=False)

    @property
    def active(self) -> bool:
        return bool(self.first or self.last or self.types or self.services or self.q)

    @property
    def dated(self) -> bool:
        return self.first is not None or self.last is not None

    def query(self, **extra: object) -> str:
        """The URL query string of these filters (plus `extra`, e.g. page=2), '' when none."""
        pairs: list[tuple[str, str]] = []
        if self.first:
            pairs.append(("from", self.first.isoformat()))
        if self.last:
            pairs.append(("to", self.last.isoformat()))
        pairs += [("type", t) for t in self.types]
        pairs += [("service", s) for s in self.services]
        if self.q:
            pairs.append(("q", self.q))
        pairs += [(k, str(v)) for k, v in extra.items() if v is not None]
        return urlencode(pairs)

    def utc_bounds(self, tz: tzinfo) -> tuple[datetime | None, datetime | None]:
        """[start, end) in UTC: midnight of `first` and midnight after `last`, in `tz`."""
        return (
            None if self.first is None else day_start(self.first, tz),
            None if self.last is None else day_start(self.last + timedelta(days=1), tz),
        )

    def matches(self, *, day: date, type_: str, service: str, text: str = "") -> bool:
        """The reference meaning of the filters for one row (its business day given)."""
        if (self.first and day < self.first) or (self.last and day > self.last):
            return False
        if (self.types and type_ not in self.types) or (
            self.services and service not in self.services
        ):
            return False
        return not self.q or self.q.casefold() in text.casefold()

    def with_known_services(self, known: Iterable[str]) -> Filters:
        """These filters, noting each selected service that no transaction names (kept: it
        matches nothing, as asked)."""
        have = set(known)
        notes = tuple(
            FilterNote("service", "no_service", s[:80]) for s in self.services if s not in have
        )
        return replace(self, errors=self.errors + notes) if notes else self

    def insight_range(self, today: date) -> tuple[date, date]:
        """The chart's and the breakdown's days: the filter's range, else the last 30 days."""
        if not self.dated:
            return today - timedelta(days=DEFAULT_INSIGHT_DAYS - 1), today
        last = self.last or today
        first = self.first or min(last, today) - timedelta(days=DEFAULT_INSIGHT_DAYS - 1)
        return first, max(first, last)


def day_start(day: date, tz: tzinfo) -> datetime:
    """The instant `day` begins in `tz` (aware, in `tz`); DST gaps resolve forwards."""
    return datetime.combine(day, time(0), tzinfo=tz)


def business_day(moment: datetime, tz: tzinfo) -> date:
    return moment.astimezone(tz).date()


def preset_range(name: str, today: date) -> tuple[date | None, date | None]:
    for key, days in PRESETS:
        if key == name:
            return today - timedelta(days=days - 1), today
    return None, None


def _date(name: str, raw: str, errors: list[FilterNote]) -> date | None:
    text = raw.strip()
    if not text:
        return None
    if not _DATE.fullmatch(text):
        errors.append(FilterNote(name, "not_a_date", text[:40]))
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        errors.append(FilterNote(name, "not_a_day", text))
        return None
    if not FIRST_DAY <= day <= LAST_DAY:
        errors.append(FilterNote(name, "out_of_range", text))
        return None
    return day


def _multi(values: Iterable[str], *, commas: bool) -> list[str]:
    """Distinct non-blank values in order; `commas` also splits "usage,refund"."""
    out: list[str] = []
    for value in values:
        for part in value.split(",") if commas else [value]:
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


def parse_filters(
    first: str = "",
    last: str = "",
    types: Sequence[str] = (),
    services: Sequence[str] = (),
    q: str = "",
) -> Filters:
    """Filters from their text form. What cannot be used as given is named in `errors`, and
    the rest is the page's lenient reading: bad values left out, a reversed range swapped,
    the extra services and search characters cut."""
    errors: list[FilterNote] = []
    start = _date("from", first, errors)
    end = _date("to", last, errors)
    if start and end and start > end:
        errors.append(FilterNote("from", "after", start.isoformat(), end.isoformat()))
        start, end = end, start
    kinds = _multi(types, commas=True)
    unknown = [t for t in kinds if t not in TYPES]
    if unknown:
        errors.append(FilterNote("type", "unknown_type", ", ".join(unknown)[:80]))
    picked = _multi(services, commas=False)
    if len(picked) > MAX_SERVICES:
        errors.append(FilterNote("service", "many_services", str(MAX_SERVICES)))
        picked = picked[:MAX_SERVICES]
    search = " ".join(q.split())
    if len(search) > MAX_QUERY:
        errors.append(FilterNote("q", "long_q", str(MAX_QUERY)))
        search = search[:MAX_QUERY]
    return Filters(
        first=start,
        last=end,
        types=tuple(t for t in TYPES if t in kinds),
        services=tuple(picked),
        q=search,
        errors=tuple(errors),
    )


def filters_from_query(params: Mapping[str, str], multi: Mapping[str, list[str]]) -> Filters:
    """From a query string: `params` single values, `multi` every value of `type`/`service`."""
    return parse_filters(
        params.get("from", ""),
        params.get("to", ""),
        multi.get("type", []),
        multi.get("service", []),
        params.get("q", ""),
    )
