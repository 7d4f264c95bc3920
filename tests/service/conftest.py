from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from tests.fixtures import RunningLicenseServer
from tokenusage.config import Settings, load_settings
from tokenusage.service import DashboardService


class CountingTransport(httpx.AsyncBaseTransport):
    """The real network transport, counting requests per endpoint and the peak concurrency.

    `rewrite` may change or fail a request before it goes out, to inject faults into a real
    server's answers.
    """

    def __init__(
        self,
        delay: float = 0.0,
        rewrite: Callable[[httpx.Request, int], Awaitable[httpx.Response | httpx.Request]]
        | None = None,
    ) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.calls: Counter[str] = Counter()
        self.in_flight = 0
        self.peak = 0
        self.delay = delay
        self.rewrite = rewrite

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        endpoint = "/".join(request.url.path.strip("/").split("/")[-2:])
        self.calls[endpoint] += 1
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.rewrite is not None:
                result = await self.rewrite(request, self.calls[endpoint])
                if isinstance(result, httpx.Response):
                    return result
                request = result
            return await self.inner.handle_async_request(request)
        finally:
            self.in_flight -= 1

    async def aclose(self) -> None:
        await self.inner.aclose()


def settings_for(srv: RunningLicenseServer, db_url: str, tmp: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "license_key": srv.key,
        "license_domain": srv.domain,
        "license_email": srv.email,
        "api_url": srv.base_url,
        "database_url": db_url,
        "data_dir": tmp,
        "history_page_size": 500,
        "retries": 1,
    }
    return load_settings(**(values | extra))


def make_service(
    srv: RunningLicenseServer,
    db_url: str,
    tmp: Path,
    transport: httpx.AsyncBaseTransport | None = None,
    **extra: Any,
) -> DashboardService:
    return DashboardService.from_settings(
        settings_for(srv, db_url, tmp, **extra), transport=transport
    )
