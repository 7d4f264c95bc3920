"""The CSV export's read: a domain's whole mirror, newest first, as plain tuples.

A million-row export is all per-row cost, so this read skips what page reads do for each
row (SQLAlchemy's result processing, `datetime` and `Decimal` objects, `MirrorRow`): one
streaming DB-API cursor (a server-side cursor on PostgreSQL) in one read snapshot, and the
rows come as `usage.export.CsvLines` reads them (see `ExportRecord`): times as naive UTC
text on both engines, the amount as the exact decimal text it was stored as.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tokenusage.store.engine import Database
from tokenusage.store.mirror import current
from tokenusage.store.schema import mirror_rows
from tokenusage.usage.export import ExportRecord

_SQLITE_STAMP = "created_at"  # stored as naive UTC text already
_POSTGRES_STAMP = "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"


def _query(sqlite: bool) -> str:
    stamp = _SQLITE_STAMP if sqlite else _POSTGRES_STAMP
    mark = "?" if sqlite else "%s"
    return (
        f"SELECT {stamp}, type, service_type, amount, tokens_used, images_processed, "  # noqa: S608
        "description "
        f"FROM {mirror_rows.name} WHERE generation = {mark} ORDER BY seq DESC"
    )


def iter_records(db: Database, domain_hash: str, batch: int) -> Iterator[list[ExportRecord]]:
    """The current generation's rows in lists of up to `batch`, inside one read snapshot."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    with db.read() as conn:
        gen = current(conn, domain_hash)
        if gen is None:
            return
        driver: Any = conn.connection.driver_connection
        # psycopg streams only from a named (server-side) cursor; sqlite3 always streams.
        cursor = driver.cursor() if db.is_sqlite else driver.cursor(name="tokenusage_export")
        try:
            cursor.execute(_query(db.is_sqlite), (gen.generation,))
            while rows := cursor.fetchmany(batch):
                yield rows
        finally:
            cursor.close()
