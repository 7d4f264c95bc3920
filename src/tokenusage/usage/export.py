"""Rows of the "Download History" CSV, streamed in bounded memory.

A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, TAB or CR as a formula, and
service types and descriptions are upstream text we do not control, so such text cells get
a leading `'` (OWASP "CSV injection"). Numeric cells stay numeric: a usage amount of -1.50
is a number the admin sums, not a formula.

Two roads to the same bytes: `csv_row`/`iter_csv` here for rows as objects (live history,
the web download), and `export_lines.CsvLines` for the store's lean export records, which a
million-row export needs to be fast.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Protocol

from tokenusage.usage.branding import brand

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

CsvRow = tuple[str, str, str, str, int, int, str]


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


def neutralise(text: str) -> str:
    """Text a spreadsheet will show as text, never evaluate."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def plain_decimal(amount: Decimal) -> str:
    """The amount as given, without an exponent: `-1.5E-5` -> `-0.000015`, `25.00` stays."""
    return format(amount, "f")


def csv_row(tx: TransactionRow, tz: tzinfo) -> CsvRow:
    """One CSV record: business-timezone ISO date, branded and neutralised text."""
    created = tx.created_at
    if created.tzinfo is None:  # the wire contract's reading of an offset-less timestamp
        created = created.replace(tzinfo=UTC)
    local = created.astimezone(tz)
    if local.microsecond:  # seconds precision, like the ledger; isoformat() is faster then
        local = local.replace(microsecond=0)
    return (
        local.isoformat(),
        neutralise(tx.type),
        neutralise(brand(tx.service_type)),
        plain_decimal(tx.amount),
        tx.tokens_used,
        tx.images_processed,
        neutralise(brand(tx.description)),
    )


def iter_csv(rows: Iterable[TransactionRow], tz: tzinfo, *, header: bool = True) -> Iterator[str]:
    """BOM and header (unless `header` is false: a later batch of the same file), then one
    chunk per `BATCH_ROWS` rows.

    Rows are pulled lazily and one buffer is reused, so a million-row ledger streams with
    the memory of one batch; the BOM makes Excel read the file as UTF-8.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if header:
        writer.writerow(CSV_HEADER)
        yield BOM + _drain(buffer)
    pending = 0
    for tx in rows:
        writer.writerow(csv_row(tx, tz))
        pending += 1
        if pending == BATCH_ROWS:
            pending = 0
            yield _drain(buffer)
    if pending:
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    """The buffer's text, leaving it empty for the next batch."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
