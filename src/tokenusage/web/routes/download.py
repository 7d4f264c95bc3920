"""Download History: the complete history as CSV, or exactly the rows the overview's filters
match (same GET parameters), streamed in bounded memory.

The first chunk (BOM, header and the first batch) is made before the response starts, so
"nothing to download" and "the fetch failed" can still become a redirect with the manual's
message instead of a broken file. The rows come from the service's fast export road.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import datetime
from typing import cast
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from tokenusage.service import CsvChunk, ExportRefused, Problem, Where
from tokenusage.service.problems import problem as as_problem
from tokenusage.store import StoreError
from tokenusage.web.formatting import headline_for
from tokenusage.web.i18n import N_
from tokenusage.web.insights import request_filters
from tokenusage.web.sessions import flash
from tokenusage.web.state import web_state

FILTER_PARAMS = ("from", "to", "type", "service", "q")


def filename(domain: str, now: datetime, filtered: bool = False) -> str:
    """`transactions_<domain>_<date>.csv` (`..._filtered.csv` for a filtered export), reduced
    to characters safe in any header."""
    safe = re.sub(r"[^A-Za-z0-9.-]+", "_", domain).strip("._") or "license"
    return f"transactions_{safe}_{now:%Y-%m-%d}{'_filtered' if filtered else ''}.csv"


async def download_csv(request: Request) -> Response:
    web = web_state(request)
    service = web.service
    problems: list[Problem] = []
    filters = request_filters(request.query_params)
    if filters.errors:  # not a file of something else than was asked: the page says why
        text = web.renderer.gettext(
            request, N_("Nothing was downloaded: some filter values could not be used as given.")
        )
        asked = [(k, v) for k, v in request.query_params.multi_items() if k in FILTER_PARAMS]
        return _back(request, [("error", text)], urlencode(asked))
    chunks = cast(AsyncGenerator[CsvChunk, None], service.export_csv(problems, filters=filters))
    try:
        first = await anext(chunks, None)
    except (ExportRefused, StoreError) as exc:
        await chunks.aclose()
        found = (
            exc.problem
            if isinstance(exc, ExportRefused)
            else as_problem(exc, Where.STORE, service.clock())
        )
        text = web.renderer.gettext(
            request, N_("Failed to fetch data for download. Please try again.")
        )
        return _back(request, [("error", text), ("error", _line(request, found))])
    if first is None or first.rows == 0:
        await chunks.aclose()
        if filters.active:
            text = web.renderer.gettext(request, N_("No transactions match these filters."))
            return _back(request, [("info", text)], filters.query())
        text = web.renderer.gettext(request, N_("No transaction history available to download."))
        return _back(request, [("info", text)])

    if problems:  # shown on the next page: the file is the stored copy
        note = web.renderer.gettext(
            request, N_("The download is the stored copy: it could not be brought up to date.")
        )
        _note(request, [("warning", note), *(("warning", _line(request, p)) for p in problems)])

    async def body() -> AsyncIterator[str]:
        try:
            yield first.text
            async for chunk in chunks:
                yield chunk.text
        finally:
            await chunks.aclose()

    now = service.clock().astimezone(web.settings.tz)
    name = filename(web.settings.license_domain, now, filtered=filters.active)
    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


def _line(request: Request, problem: Problem) -> str:
    return (
        f"{web_state(request).renderer.gettext(request, headline_for(problem))}: {problem.message}"
    )


def _note(request: Request, messages: list[tuple[str, str]]) -> None:
    for level, text in messages:
        flash(request.scope["session"], level, text)


def _back(request: Request, messages: list[tuple[str, str]], query: str = "") -> Response:
    """Back to the overview (with `query`, the filters of a filtered export, at the history)."""
    _note(request, messages)
    return RedirectResponse(f"/?{query}#history" if query else "/", status_code=303)


ROUTES = [Route("/download.csv", download_csv, methods=["GET"], name="download")]
