"""The complete history for the CSV download and `tokenusage export`, in bounded memory.

Both bring the mirror up to date first (an incremental sync when it is stale, as a page view
does) and then read it in batches in a worker thread. Without a usable mirror they fall back
to the newest page of history fetched live, as the dashboard does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, NamedTuple

from anyio import to_thread

from tokenusage.licenseapi.errors import LicenseApiError
from tokenusage.store import MirrorRow
from tokenusage.usage.export import HEADER_TEXT, iter_csv
from tokenusage.usage.export_lines import CsvLines, ExportRecord

if TYPE_CHECKING:
    from tokenusage.service import DashboardService

EXPORT_BATCH = 5000


class CsvChunk(NamedTuple):
    """A piece of the CSV file and how many transactions it holds."""

    text: str
    rows: int


async def _mirror_ready(service: DashboardService, errors: list[str]) -> bool:
    await service._ensure_history(errors)
    store = service.store
    if store is None:
        return False
    status = await service.store_call(lambda: store.mirror_status(service.domain_hash), errors)
    return status is not None and status.present


async def _live_rows(service: DashboardService, errors: list[str]) -> list[MirrorRow]:
    try:
        rows, _, _ = await service.live.fetch(service.client, service.settings.history_page_size, 0)
    except LicenseApiError as exc:
        errors.append(str(exc))
        rows = []
    if errors and not rows:
        raise LicenseApiError(errors[0])
    return rows


async def export_rows(service: DashboardService) -> AsyncIterator[list[MirrorRow]]:
    """The history as `MirrorRow` batches, newest first."""
    errors: list[str] = []
    store = service.store
    if store is None or not await _mirror_ready(service, errors):
        yield await _live_rows(service, errors)
        return
    rows = store.iter_all(service.domain_hash, batch=EXPORT_BATCH)
    try:
        while batch := await to_thread.run_sync(_take, rows, EXPORT_BATCH):
            yield batch
    finally:
        await to_thread.run_sync(rows.close)


async def export_csv(service: DashboardService) -> AsyncIterator[CsvChunk]:
    """The history as CSV text, newest first. The first chunk holds the BOM, the header and
    the first batch (so `rows == 0` there means an empty history); more chunks follow.

    Reading and formatting run together in a worker thread, on the store's lean export read
    (`Store.iter_export` and `usage.export_lines.CsvLines`).
    """
    tz = service.settings.tz
    errors: list[str] = []
    store = service.store
    if store is None or not await _mirror_ready(service, errors):
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


def _take(iterator: Iterator[MirrorRow], n: int) -> list[MirrorRow]:
    out: list[MirrorRow] = []
    for row in iterator:
        out.append(row)
        if len(out) >= n:
            break
    return out
