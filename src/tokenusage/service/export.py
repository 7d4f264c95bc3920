"""The complete history for the CSV download and `tokenusage export`, in bounded memory.

Both bring the mirror up to date first (an incremental sync when it is stale, as a page view
does) and then read it in batches in a worker thread. A file that claims to be the complete
history must be: when the mirror cannot be brought up and the newest page fetched live is
not the whole history, the export fails with the reason instead of delivering part of it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import tzinfo
from typing import NamedTuple

from anyio import to_thread

from tokenusage.licenseapi.errors import LicenseApiError
from tokenusage.service.assemble import LiveHistory
from tokenusage.service.context import Context
from tokenusage.service.history import HistorySync
from tokenusage.service.problems import ExportRefused, Problem, Where
from tokenusage.store import MirrorRow, StoreError
from tokenusage.usage.branding import brand
from tokenusage.usage.export import HEADER_TEXT, CsvLines, ExportRecord, iter_csv
from tokenusage.usage.filters import Filters

EXPORT_BATCH = 5000


class CsvChunk(NamedTuple):
    """A piece of the CSV file and how many transactions it holds."""

    text: str
    rows: int


async def _mirror_ready(ctx: Context, history: HistorySync, problems: list[Problem]) -> bool:
    await history.ensure(problems)
    status = await ctx.stored(lambda s: s.mirror_status(ctx.identity), problems)
    return status is not None and status.present


async def _live_rows(ctx: Context, live: LiveHistory, problems: list[Problem]) -> list[MirrorRow]:
    """The newest page of history, fetched now, when it is the whole history."""
    if problems:  # the mirror could not be brought up: that is the reason to give
        raise ExportRefused(problems[0])
    try:
        rows, total, _ = await live.fetch(ctx.client, ctx.settings.history_page_size, 0)
    except LicenseApiError as exc:
        raise ExportRefused(ctx.problem(exc, Where.HISTORY)) from exc
    if total > len(rows):
        detail = ctx.store_problem.message if ctx.store_problem else "no local store"
        error = StoreError(
            f"Local store unavailable ({detail}): only the newest {len(rows):,} of {total:,} "
            "transactions could be fetched, so the complete history cannot be exported"
        )
        raise ExportRefused(ctx.problem(error, Where.STORE))
    return rows


async def export_csv(
    ctx: Context,
    history: HistorySync,
    live: LiveHistory,
    problems: list[Problem] | None = None,
    filters: Filters | None = None,
) -> AsyncIterator[CsvChunk]:
    """The history as CSV text, newest first. The first chunk holds the BOM, the header and
    the first batch (so `rows == 0` there means an empty history); more chunks follow.

    Reading and formatting run together in a worker thread, on the store's lean export read
    (`Store.iter_export` and `usage.export.CsvLines`). `problems` receives what went wrong
    but did not stop the export (a failed sync: the file is the stored copy);
    `ExportRefused` is raised when no complete copy can be had.
    """
    found: list[Problem] = []
    store = ctx.store
    ready = store is not None and await _mirror_ready(ctx, history, found)
    if problems is not None:
        problems.extend(found)
    if store is None or not ready:
        rows = await _live_rows(ctx, live, found)
        if filters is not None and filters.active:
            rows = [r for r in rows if row_matches(filters, r, ctx.settings.tz)]
        yield CsvChunk("".join(iter_csv(rows, ctx.settings.tz)), len(rows))
        return
    lines = CsvLines(ctx.settings.tz)
    records = store.iter_export(ctx.identity, batch=EXPORT_BATCH, filters=filters)
    try:
        first = await to_thread.run_sync(_format_next, records, lines)
        yield CsvChunk(HEADER_TEXT + first.text, first.rows) if first else CsvChunk(HEADER_TEXT, 0)
        while chunk := await to_thread.run_sync(_format_next, records, lines):
            yield chunk
    finally:
        await to_thread.run_sync(records.close)


def row_matches(filters: Filters, row: MirrorRow, tz: tzinfo) -> bool:
    """The filters' meaning for one row: the store's search reads the branded text."""
    return filters.matches(
        day=row.created_at.astimezone(tz).date(),
        type_=row.type,
        service=row.service_type,
        text=f"{brand(row.description)}\n{brand(row.service_type)}",
    )


def _format_next(records: Iterator[list[ExportRecord]], lines: CsvLines) -> CsvChunk | None:
    batch = next(records, None)
    return None if batch is None else CsvChunk(lines.text(batch), len(batch))
