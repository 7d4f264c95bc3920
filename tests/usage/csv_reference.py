"""The obvious CSV export, kept only as the tests' oracle: `csv_row` cells and `csv.writer`.

`usage.export` must write exactly these bytes, however it gets there.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal

from tokenusage.usage.branding import brand
from tokenusage.usage.export import BOM, CSV_HEADER, TransactionRow, neutralise, plain_decimal

CsvRow = tuple[str, str, str, str, int, int, str]


@dataclass(frozen=True)
class Row:
    """A transaction as the CSV code reads it (`TransactionRow`), for tests."""

    created_at: datetime
    type: str
    service_type: str
    amount: Decimal
    tokens_used: int
    images_processed: int
    description: str


def csv_row(tx: TransactionRow, tz: tzinfo) -> CsvRow:
    created = tx.created_at
    if created.tzinfo is None:  # the wire contract's reading of an offset-less timestamp
        created = created.replace(tzinfo=UTC)
    local = created.astimezone(tz).replace(microsecond=0)
    return (
        local.isoformat(),
        neutralise(tx.type),
        neutralise(brand(tx.service_type)),
        plain_decimal(tx.amount),
        tx.tokens_used,
        tx.images_processed,
        neutralise(brand(tx.description)),
    )


def reference_csv(rows: Iterable[TransactionRow], tz: tzinfo) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    for tx in rows:
        writer.writerow(csv_row(tx, tz))
    return BOM + buffer.getvalue()
