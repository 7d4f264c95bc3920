"""Download History: the complete history as CSV, streamed in bounded memory.

The first batch is fetched before the response starts, so "nothing to download" and "the
fetch failed" can still become a redirect with the manual's message instead of a broken file.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import datetime, tzinfo
from typing import cast

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from tokenusage.licenseapi.errors import LicenseApiError
from tokenusage.store import MirrorRow, StoreError
from tokenusage.usage.export import iter_csv
from tokenusage.web.i18n import N_
from tokenusage.web.sessions import flash
from tokenusage.web.state import web_state


def filename(domain: str, now: datetime) -> str:
    """`transactions_<domain>_<date>.csv`, reduced to characters safe in any header."""
    safe = re.sub(r"[^A-Za-z0-9.-]+", "_", domain).strip("._") or "licence"
    return f"transactions_{safe}_{now:%Y-%m-%d}.csv"


async def download_csv(request: Request) -> Response:
    web = web_state(request)
    service = web.service
    tz = web.settings.tz
    batches = cast(AsyncGenerator[list[MirrorRow], None], service.export_rows())
    try:
        first: list[MirrorRow] = await anext(batches, [])
    except (LicenseApiError, StoreError) as exc:
        await batches.aclose()
        text = web.renderer.gettext(
            request, N_("Failed to fetch data for download. Please try again.")
        )
        return _back(request, [("error", text), ("error", str(exc))])
    if not first:
        await batches.aclose()
        text = web.renderer.gettext(request, N_("No transaction history available to download."))
        return _back(request, [("info", text)])

    async def body() -> AsyncIterator[str]:
        try:
            yield await _csv(first, tz, header=True)
            async for batch in batches:
                yield await _csv(batch, tz, header=False)
        finally:
            await batches.aclose()

    name = filename(web.settings.license_domain, service.clock().astimezone(tz))
    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


async def _csv(rows: list[MirrorRow], tz: tzinfo, *, header: bool) -> str:
    # CSV formatting is CPU work; a worker thread keeps other pages answering meanwhile.
    return await to_thread.run_sync(lambda: "".join(iter_csv(rows, tz, header=header)))


def _back(request: Request, messages: list[tuple[str, str]]) -> Response:
    for level, text in messages:
        flash(request.scope["session"], level, text)
    return RedirectResponse("/", status_code=303)


ROUTES = [Route("/download.csv", download_csv, methods=["GET"], name="download")]
