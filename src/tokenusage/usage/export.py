"""The "Download History" CSV: one writer for the store's export records and for row objects.

A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, TAB or CR as a formula, some
after leading blanks (spaces, NBSP, a line break inside a quoted cell) or in their fullwidth
and small forms (`＝ ＋ － ＠`), and service types and descriptions are upstream text we do
not control, so a text cell whose first visible character is any of these gets a leading `'`
(OWASP "CSV injection"). Numeric cells stay numeric: a usage amount of -1.50
is a number the admin sums, not a formula. Service types and descriptions are branded first.

Rows arrive two ways: as the store's lean `ExportRecord`s (a million-row export), or as row
objects (`TransactionRow`: live history, wire models), which `export_record` turns into the
same records. Both then go through `CsvLines`, whose cells are what `csv.writer` would write
for the branded, neutralised values, at a fraction of the cost per row:

- the date: plain slicing for UTC; for other zones one timezone lookup per UTC hour;
- type and service type: a cache (a ledger has few of them);
- the description: descriptions are mostly a few templates with varying numbers, so each
  template's cell shape (branding plan, a `'` for formula-looking text, whether csv.writer
  would quote it at all) is worked out once; case and digits change none of the three;
- the amount: the record's exact plain decimal text.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Protocol
from zoneinfo import ZoneInfo

from tokenusage.usage.branding import (
    MAX_CACHED_LENGTH,
    Plan,
    brand,
    loose_key,
    replay,
    template_key,
    template_plan,
)

CSV_HEADER = (
    "Date",
    "Transaction Type",
    "Service Type",
    "Amount",
    "Tokens Used",
    "Images Processed",
    "Description",
)
BOM = "\ufeff"
BATCH_ROWS = 1_000
HEADER_TEXT = BOM + ",".join(CSV_HEADER) + "\r\n"

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Every character whose compatibility form (NFKC) is = + - or @ (fullwidth, small, super- and
# subscript forms), and the minus sign: spreadsheets read them as the ASCII operator.
FORMULA_LOOKALIKES = (
    "\u207a\u207c\u208a\u208c\u2212\ufb29\ufe62\ufe63\ufe66\ufe6b\uff0b\uff0d\uff1d\uff20"
)
_TRIGGERS = frozenset("".join(FORMULA_STARTS) + FORMULA_LOOKALIKES)

ExportRecord = tuple[str, str, str, str, int, int, str]
"""One row as the CSV writer takes it: the time as naive UTC ISO text
(`2026-11-24 13:05:00.000000`, or without the fraction), type, service type, the amount as
exact plain decimal text (`-0.000015`, see `plain_decimal`), tokens, images and the
description. The store's export read returns rows in exactly this shape."""


class TransactionRow(Protocol):
    """What a CSV row needs; the wire model and the store's rows both have it."""

    @property
    def created_at(self) -> datetime: ...
    @property
    def type(self) -> str: ...
    @property
    def service_type(self) -> str: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def tokens_used(self) -> int: ...
    @property
    def images_processed(self) -> int: ...
    @property
    def description(self) -> str: ...


def looks_like_formula(text: str) -> bool:
    """Whether the first character that is not blank (Unicode whitespace, or an invisible
    format character such as a zero-width space or a BOM) is a formula trigger."""
    for ch in text:
        if ch in _TRIGGERS:
            return True
        if not ch.isspace() and unicodedata.category(ch) != "Cf":
            return False
    return False


def neutralise(text: str) -> str:
    """Text a spreadsheet will show as text, never evaluate."""
    return "'" + text if looks_like_formula(text) else text


def plain_decimal(amount: Decimal) -> str:
    """The amount as given, without an exponent: `-1.5E-5` -> `-0.000015`, `25.00` stays."""
    return format(amount, "f")


_HOUR = timedelta(hours=1)
_LAST_IN_HOUR = _HOUR - timedelta(microseconds=1)
_MAX_CACHED = 20_000  # entries per cache: a ledger has far fewer templates
# Zones that are UTC at every instant (tzdata links to Etc/UTC).
_UTC_KEYS = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal"})
_UTC_KEYS |= {"Etc/Zulu", "Zulu"}
# A cell shape: the branding plan (None: unchanged), formula-looking, needs csv quoting.
Shape = tuple[Plan | None, bool, bool]


def csv_cell(text: str) -> str:
    """`text` exactly as `csv.writer` writes it in a row of several cells."""
    if text.isprintable() and "," not in text and '"' not in text:
        return text  # nothing csv.writer quotes: no delimiter, quote, CR or LF
    buffer = io.StringIO()
    csv.writer(buffer).writerow((text, ""))
    return buffer.getvalue()[: -len(",\r\n")]


def text_cell(text: str) -> str:
    """An untrusted text cell as `csv_row` and csv.writer make it: branded, neutralised."""
    return csv_cell(neutralise(brand(text)))


def local_date(stamp: str, tz: tzinfo) -> str:
    """`csv_row`'s date cell for a naive UTC ISO timestamp."""
    local = datetime.fromisoformat(stamp).replace(tzinfo=UTC).astimezone(tz)
    return local.replace(microsecond=0).isoformat()


def always_utc(tz: tzinfo) -> bool:
    if isinstance(tz, timezone):
        return tz.utcoffset(None) == timedelta(0)
    return isinstance(tz, ZoneInfo) and tz.key in _UTC_KEYS


class LocalDates:
    """`local_date` for millions of timestamps: one timezone lookup per UTC hour.

    When the business timezone's offset is a whole number of hours and the same at both ends
    of a UTC hour (no transition inside it; zones change offset at most once an hour), every
    time in that hour converts by swapping its date and hour for the local ones and appending
    the offset. Other hours (half-hour zones, transitions, historic offsets in seconds) take
    `local_date`. Stamps are as the store writes them: `YYYY-MM-DD HH:MM:SS[.ffffff]`.
    """

    def __init__(self, tz: tzinfo) -> None:
        self._tz = tz
        self._hours: dict[str, tuple[str, str] | None] = {}

    def _hour(self, key: str) -> tuple[str, str] | None:
        try:
            start = datetime.fromisoformat(key + ":00:00").replace(tzinfo=UTC)
            first = start.astimezone(self._tz)
            last = (start + _LAST_IN_HOUR).astimezone(self._tz)
        except (ValueError, OverflowError):
            return None
        offset = first.utcoffset()
        if offset is None or offset != last.utcoffset() or offset % _HOUR:
            return None
        text = first.isoformat()  # YYYY-MM-DDTHH:00:00+HH:MM
        return text[:13], text[19:]

    def __call__(self, stamp: str) -> str:
        key = stamp[:13]
        try:
            hour = self._hours[key]
        except KeyError:
            if len(self._hours) >= _MAX_CACHED:
                self._hours.clear()
            hour = self._hours[key] = self._hour(key)
        if hour is None or len(stamp) not in (19, 26):
            return local_date(stamp, self._tz)
        return hour[0] + stamp[13:19] + hour[1]


class CsvLines:
    """CSV lines for export records in the business timezone `tz` (see the module doc)."""

    def __init__(self, tz: tzinfo) -> None:
        self._utc = always_utc(tz)
        self._dates = LocalDates(tz)
        self._types: dict[str, str] = {}
        self._services: dict[str, str] = {}
        self._loose: dict[bytes, Shape | None] = {}
        self._exact: dict[bytes, Shape | None] = {}

    def _type_cell(self, kind: str) -> str:
        if len(kind) > MAX_CACHED_LENGTH:
            return csv_cell(neutralise(kind))
        if len(self._types) >= _MAX_CACHED:
            self._types.clear()
        cell = self._types[kind] = csv_cell(neutralise(kind))
        return cell

    def _service_cell(self, service: str) -> str:
        if len(service) > MAX_CACHED_LENGTH:
            return text_cell(service)
        if len(self._services) >= _MAX_CACHED:
            self._services.clear()
        cell = self._services[service] = text_cell(service)
        return cell

    def _shape(self, shapes: dict[bytes, Shape | None], key: bytes, text: str) -> Shape | None:
        """The shape of `text` cached under `key`; None (cached too) when `key` is a loose
        key that cannot tell "o1"/"o3" from other digits."""
        if len(shapes) >= _MAX_CACHED:
            shapes.clear()
        if shapes is self._loose and b"o0" in key:
            shapes[key] = None
            return None
        plan = template_plan(key)
        branded = text if plan is None else replay(text, plan)
        quote = not branded.isprintable() or "," in branded or '"' in branded
        shape = shapes[key] = (plan, looks_like_formula(branded), quote)
        return shape

    def _exact_shape(self, text: str) -> Shape | None:
        key = template_key(text) if len(text) <= MAX_CACHED_LENGTH else None
        if key is None:
            return None
        if key in self._exact:
            return self._exact[key]
        return self._shape(self._exact, key, text)

    def text(self, records: Iterable[ExportRecord]) -> str:
        """The CSV lines of `records`, in order, as one string."""
        utc, dates = self._utc, self._dates
        types, services, shapes = self._types, self._services, self._loose
        lines: list[str] = []
        add = lines.append
        for stamp, kind, service, amount, tokens, images, description in records:
            if utc and len(stamp) in (19, 26):
                date = f"{stamp[:10]}T{stamp[11:19]}+00:00"
            else:
                date = dates(stamp)
            type_cell = types.get(kind)
            if type_cell is None:
                type_cell = self._type_cell(kind)
            service_cell = services.get(service)
            if service_cell is None:
                service_cell = self._service_cell(service)
            shape = None
            key = loose_key(description) if len(description) <= MAX_CACHED_LENGTH else None
            if key is not None:
                shape = shapes.get(key)
                if shape is None and key not in shapes:
                    shape = self._shape(shapes, key, description)
            if shape is None:
                shape = self._exact_shape(description)
            if shape is None:
                text = text_cell(description)
            else:
                plan, formula, quote = shape
                if plan is None:
                    text = description
                elif len(plan) == 3:
                    head, middle, tail = plan
                    text = f"{description[head]}{middle}{description[tail]}"  # type: ignore[index]
                else:
                    text = replay(description, plan)
                if formula:
                    text = "'" + text
                if quote:
                    text = csv_cell(text)
            add(f"{date},{type_cell},{service_cell},{amount},{tokens},{images},{text}\r\n")
        return "".join(lines)


def export_record(row: TransactionRow) -> ExportRecord:
    """`row` as an export record: a naive time is UTC (the wire contract's reading)."""
    created = row.created_at
    if created.tzinfo is not None:
        created = created.astimezone(UTC).replace(tzinfo=None)
    return (
        created.isoformat(" "),
        row.type,
        row.service_type,
        plain_decimal(row.amount),
        row.tokens_used,
        row.images_processed,
        row.description,
    )


def iter_csv(rows: Iterable[TransactionRow], tz: tzinfo, *, header: bool = True) -> Iterator[str]:
    """BOM and header (unless `header` is false: a later batch of the same file), then one
    chunk per `BATCH_ROWS` rows, pulled lazily, so a long history streams with the memory of
    one batch; the BOM makes Excel read the file as UTF-8."""
    if header:
        yield HEADER_TEXT
    lines = CsvLines(tz)
    batch: list[ExportRecord] = []
    for row in rows:
        batch.append(export_record(row))
        if len(batch) == BATCH_ROWS:
            yield lines.text(batch)
            batch = []
    if batch:
        yield lines.text(batch)
