"""The complete history for the CSV download and `tokenusage export`, in bounded memory.

Both bring the mirror up to date first (an incremental sync when it is stale, as a page view
does) and then read it in batches in a worker thread. A file that claims to be the complete
history must be: when the mirror cannot be brought up and the newest page fetched live is
not the whole history, the export fails with the reason instead of delivering part of it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, NamedTuple

from anyio import to_thread

from tokenusage.licenseapi.errors import LicenseApiError
from tokenusage.store import MirrorRow, StoreError
from tokenusage.usage.export import HEADER_TEXT, CsvLines, ExportRecord, iter_csv

if TYPE_CHECKING:
    from tokenusage.service import DashboardService

EXPORT_BATCH = 5000


class CsvChunk(NamedTuple):
    """A piece of the CSV file and how many transactions it holds."""

    text: str
    rows: int


async def _mirror_ready(service: DashboardService, errors: list[str]) -> bool:
    await service.history.ensure(errors)
    store = service.store
    if store is None:
        return False
    status = await service.store_call(lambda: store.mirror_status(service.domain_hash), errors)
    return status is not None and status.present


async def _live_rows(service: DashboardService, errors: list[str]) -> list[MirrorRow]:
    """The newest page of history, fetched now, when it is the whole history."""
    if errors:  # the mirror could not be brought up: that is the reason to give
        raise LicenseApiError(errors[0])
    rows, total, _ = await service.live.fetch(service.client, service.settings.history_page_size, 0)
    if total > len(rows):
        detail = service.store_error or "no local store"
        raise StoreError(
            f"Local store unavailable ({detail}): only the newest {len(rows):,} of {total:,} "
            "transactions could be fetched, so the complete history cannot be exported"
        )
    return rows


async def export_csv(
    service: DashboardService, problems: list[str] | None = None
) -> AsyncIterator[CsvChunk]:
    """The history as CSV text, newest first. The first chunk holds the BOM, the header and
    the first batch (so `rows == 0` there means an empty history); more chunks follow.

    Reading and formatting run together in a worker thread, on the store's lean export read
    (`Store.iter_export` and `usage.export.CsvLines`). `problems` receives what went
    wrong but did not stop the export (a failed sync: the file is the stored copy).
    """
    tz = service.settings.tz
    errors: list[str] = []
    store = service.store
    ready = store is not None and await _mirror_ready(service, errors)
    if problems is not None:
        problems.extend(errors)
    if store is None or not ready:
        rows = await _live_rows(service, errors)
        yield CsvChunk("".join(iter_csv(rows, tz)), len(rows))
        return
    lines = CsvLines(tz)
    records = store.iter_export(service.domain_hash, batch=EXPORT_BATCH)
    try:
        first = await to_thread.run_sync(_format_next, records, lines)
        yield CsvChunk(HEADER_TEXT + first.text, first.rows) if first else CsvChunk(HEADER_TEXT, 0)
        while chunk := await to_thread.run_sync(_format_next, records, lines):
            yield chunk
    finally:
        await to_thread.run_sync(records.close)


def _format_next(records: Iterator[list[ExportRecord]], lines: CsvLines) -> CsvChunk | None:
    batch = next(records, None)
    return None if batch is None else CsvChunk(lines.text(batch), len(batch))
