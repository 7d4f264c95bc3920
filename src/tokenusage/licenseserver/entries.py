"""Ledger entries in bulk: the fast insert behind seeding, and the history page query.

A 10M-row demo ledger must seed in minutes, so entries go in under SQLAlchemy's per-row
parameter processing: one driver-level executemany of tuples on SQLite, COPY on psycopg.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Select, Text, select, type_coerce

from tokenusage.licenseapi.models import iso_utc
from tokenusage.licenseserver.schema import ledger, units_str

# An entry as a tuple, in this column order: what `insert_rows` and `totals.add_rows` take.
COLUMNS = (
    "licence_id",
    "created_at",
    "type",
    "service_type",
    "amount_units",
    "input_tokens",
    "completion_tokens",
    "cached_tokens",
    "images",
    "description",
)
_DEFAULTS: dict[str, Any] = {
    "service_type": "",
    "input_tokens": 0,
    "completion_tokens": 0,
    "cached_tokens": 0,
    "images": 0,
    "description": "",
}
EntryRow = tuple[int, datetime, str, str, int, int, int, int, int, str]


def storable_text(value: str) -> str:
    """NUL replaced by U+FFFD: PostgreSQL text cannot hold NUL, and both engines must agree."""
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


def as_row(entry: Mapping[str, Any]) -> EntryRow:
    """A mapping of `ledger` column names (defaults as the table's) as an entry tuple."""
    values = {**_DEFAULTS, **entry}
    unknown = set(values) - set(COLUMNS)
    if unknown:
        raise ValueError(f"unknown ledger columns: {', '.join(sorted(unknown))}")
    return (
        int(values["licence_id"]),
        values["created_at"],
        values["type"],
        storable_text(values["service_type"]),
        int(values["amount_units"]),
        int(values["input_tokens"]),
        int(values["completion_tokens"]),
        int(values["cached_tokens"]),
        int(values["images"]),
        storable_text(values["description"]),
    )


def sqlite_stamp(value: datetime) -> str:
    """The text SQLAlchemy's SQLite DATETIME writes: naive UTC, microseconds."""
    if value.tzinfo is UTC:  # the common case: cut the offset off the text
        return value.isoformat(" ", "microseconds")[:26]
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


def insert_rows(conn: Connection, rows: Sequence[EntryRow]) -> None:
    """Insert entry tuples (text already storable): COPY on psycopg, else one executemany."""
    if not rows:
        return
    columns = ", ".join(COLUMNS)
    if conn.dialect.driver == "psycopg":
        raw: Any = conn.connection.driver_connection
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {ledger.name} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row if row[1].tzinfo is not None else _aware(row))
        return
    sqlite = conn.dialect.name == "sqlite"
    params = [(r[0], sqlite_stamp(r[1]), *r[2:]) for r in rows] if sqlite else list(rows)
    marks = ", ".join(["?" if sqlite else "%s"] * len(COLUMNS))
    sql = f"INSERT INTO {ledger.name} ({columns}) VALUES ({marks})"  # noqa: S608 (constants)
    conn.exec_driver_sql(sql, params)


def _aware(row: EntryRow) -> EntryRow:
    # Naive times in the ledger are UTC (as `Ledger.add_entry` stores them).
    return (row[0], row[1].replace(tzinfo=UTC), *row[2:])


def page_query(
    licence_id: int, limit: int, before_id: int | None, after_id: int | None, sqlite: bool
) -> Select[Any]:
    """Newest first below `before_id`, or oldest first above `after_id`: both one range of the
    (licence_id, id) index, so a page at any depth costs what the newest page costs."""
    cols = [
        ledger.c.id,
        # SQLite keeps naive UTC text: reading it as text skips a parse and a format per
        # row, a third of a 10,000-row page's time.
        type_coerce(ledger.c.created_at, Text).label("created_at")
        if sqlite
        else ledger.c.created_at,
        ledger.c.type,
        ledger.c.service_type,
        ledger.c.amount_units,
        ledger.c.input_tokens,
        ledger.c.completion_tokens,
        ledger.c.cached_tokens,
        ledger.c.images,
        ledger.c.description,
    ]
    query = select(*cols).where(ledger.c.licence_id == licence_id)
    if after_id is not None:
        return query.where(ledger.c.id > after_id).order_by(ledger.c.id.asc()).limit(limit)
    if before_id is not None:
        query = query.where(ledger.c.id < before_id)
    return query.order_by(ledger.c.id.desc()).limit(limit)


def _iso_text(stamp: str) -> str:
    """`iso_utc` of SQLite's stored DATETIME text (`2026-11-24 13:05:00.000000`, naive UTC)."""
    fraction = stamp[19:]
    if fraction.strip("0") == ".":
        fraction = ""
    return f"{stamp[:10]}T{stamp[11:19]}{fraction}Z"


def payload(row: Any) -> dict[str, Any]:
    """One transaction of a `credits/history` page, from a `page_query` row."""
    # Unpacked in column order: much cheaper per row than access by name.
    id_, stamp, kind, service, units, inputs, completions, cached, images, description = row
    return {
        "id": id_,
        "created_at": _iso_text(stamp) if isinstance(stamp, str) else iso_utc(stamp),
        "type": kind,
        "service_type": service,
        "amount": units_str(units),
        "tokens_used": inputs + completions + cached,
        "images_processed": images,
        "description": description,
        "input_tokens": inputs,
        "completion_tokens": completions,
        "cached_tokens": cached,
    }
