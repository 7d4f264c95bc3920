"""Async client of the License API: bounded in time and memory, retried where safe, recorded.

One `httpx.AsyncClient` per instance, so the concurrent calls of a page share pooled
connections. Every call:

- takes at most `timeout` seconds in total, retries and backoff included. httpx's timeouts are
  per operation, so a server trickling a byte every few seconds would hold a page forever; an
  overall deadline (`anyio.fail_after`) does not. Each connect is bounded by `connect_timeout`.
- streams the body and refuses one larger than `max_body_bytes` (`max_response_bytes`)
  without reading the rest, unread altogether when Content-Length announces it; such a
  response is not retried (it would be as large the next time).
- is retried (GETs are idempotent) with jittered exponential backoff only where a retry can
  help: the connection could not be made, or was dropped before any response arrived (a stale
  pooled connection looks exactly like that), or the status is 502/503/504 (a gateway, or a
  server restarting). Not on 500 (a bug does not go away in 200 ms), not on 4xx, and not on a
  timeout after the request was sent: the server is up but slow, the budget is spent, and a
  retry would only add load. No retry starts unless its backoff fits in the remaining budget.
- leaves an `Exchange` in `exchanges[endpoint]` for the debug page.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Self, TypeVar

import anyio
import httpx
from pydantic import BaseModel

from tokenusage.licenseapi import decode, request
from tokenusage.licenseapi.errors import ConnectionFailed, LicenseApiError, outcome
from tokenusage.licenseapi.exchange import (
    BODY_CAPTURE_BYTES,
    CAPTURE_MARGIN,
    Exchange,
    capture_body,
    display_url,
)
from tokenusage.licenseapi.models import MAX_HISTORY_LIMIT, History, Pricing, UserInfo, UserStats
from tokenusage.licenseapi.redact import mask_key, scrub_logger
from tokenusage.licenseapi.request import Attempt

if TYPE_CHECKING:
    from tokenusage.config import Settings

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)

DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
THREAD_DECODE_BYTES = 256 * 1024
USER_AGENT = "tokenusage-license-client/1"


class LicenseApiClient:
    """The four endpoints of the contract as typed async methods; errors are `LicenseApiError`."""

    def __init__(
        self,
        api_url: str,
        license_key: str,
        domain: str,
        email: str,
        *,
        connect_timeout: float = 5.0,
        timeout: float = 30.0,
        retries: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        backoff_base: float = 0.2,
        backoff_cap: float = 2.0,
    ) -> None:
        url = httpx.URL(api_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"api_url must be an http(s) URL, not {api_url!r}")
        if connect_timeout <= 0 or timeout <= 0 or retries < 0 or max_body_bytes < 1:
            raise ValueError("timeouts and max_body_bytes must be positive, retries >= 0")
        self.api_url = api_url.rstrip("/")
        self._key = license_key
        self._limits = request.Limits(
            key=license_key,
            hostname=url.host,
            host=f"{url.host}:{url.port}" if url.port else url.host,
            max_body=max_body_bytes,
            connect_timeout=connect_timeout,
            timeout=timeout,
        )
        self._params = {"license_key": license_key, "domain": domain, "email": email}
        self._timeout = timeout
        self._retries = retries
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            follow_redirects=False,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
        )
        self.exchanges: dict[str, Exchange] = {}
        # Called after every call with (endpoint, outcome, seconds): the metrics listen here.
        self.observers: list[Callable[[str, str, float], None]] = []
        scrub_logger("httpx", license_key)  # it logs each request's URL at INFO

    @classmethod
    def from_settings(
        cls, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> Self:
        return cls(
            settings.api_url,
            settings.license_key,
            settings.license_domain,
            settings.license_email,
            connect_timeout=settings.connect_timeout,
            timeout=settings.timeout,
            retries=settings.retries,
            transport=transport,
            max_body_bytes=settings.max_response_bytes,
        )

    def __repr__(self) -> str:
        return f"LicenseApiClient({self.api_url!r}, key={mask_key(self._key)!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def pricing(self) -> Pricing:
        return await self._call("pricing/current", Pricing)

    async def user_info(self) -> UserInfo:
        return await self._call("user/info", UserInfo)

    async def user_stats(self) -> UserStats:
        return await self._call("user/stats", UserStats)

    async def history(
        self,
        *,
        limit: int = MAX_HISTORY_LIMIT,
        before_id: int | None = None,
        after_id: int | None = None,
    ) -> History:
        """One page: the newest `limit` entries older than `before_id`, or the oldest `limit`
        entries newer than `after_id` (still listed newest first), or the newest `limit`."""
        if not 1 <= limit <= MAX_HISTORY_LIMIT:
            raise ValueError(f"limit must be 1..{MAX_HISTORY_LIMIT}, not {limit}")
        if before_id is not None and after_id is not None:
            raise ValueError("give before_id or after_id, not both")
        extra = {"limit": str(limit)}
        if before_id is not None:
            extra["before_id"] = str(before_id)
        if after_id is not None:
            extra["after_id"] = str(after_id)
        return await self._call("credits/history", History, extra)

    async def history_pages(
        self,
        *,
        page_size: int = MAX_HISTORY_LIMIT,
        after_id: int | None = None,
        first_page_size: int | None = None,
    ) -> AsyncIterator[History]:
        """Every page of the ledger: all of it newest page first (paging by `before_id`), or,
        given `after_id`, only newer entries, oldest page first (paging by `after_id`).

        `first_page_size` makes the first request smaller (a page view needs only its rows
        quickly; the rest follows in full-size pages). Stops at a short page, and also at a
        page that does not move the cursor: a server that ignores the cursor would otherwise
        be asked for the same page forever. Callers compare what they got with
        `History.total` to tell that case apart.
        """
        forward = after_id is not None
        cursor = after_id
        limit = min(first_page_size or page_size, page_size)
        while True:
            if forward:
                page = await self.history(limit=limit, after_id=cursor)
            else:
                page = await self.history(limit=limit, before_id=cursor)
            ids = [entry.id for entry in page.transactions]
            if not ids:
                return
            step = max(ids) if forward else min(ids)
            if cursor is not None and (step <= cursor if forward else step >= cursor):
                return
            yield page
            if len(ids) < limit:
                return
            cursor = step
            limit = page_size

    async def _call(self, endpoint: str, model: type[M], extra: dict[str, str] | None = None) -> M:
        params = {**self._params, **(extra or {})}
        url = f"{self.api_url}/{endpoint}"
        at = datetime.now(UTC)
        started = time.perf_counter()
        attempt, attempts = Attempt(), 0
        try:
            attempt, attempts = await self._send(endpoint, url, params)
            if attempt.error is not None:
                raise attempt.error
            if attempt.size > THREAD_DECODE_BYTES:
                # A 10k-row page takes ~0.2 s to validate: off the event loop, so other
                # requests (and the page that is waiting on this one) keep moving.
                result = await anyio.to_thread.run_sync(self._decode, model, attempt, endpoint)
            else:
                result = self._decode(model, attempt, endpoint)
        except LicenseApiError as exc:
            log.warning("License API %s failed: %s", endpoint, exc)
            self._record(endpoint, url, params, attempt, attempts, started, at, str(exc))
            self._observe(endpoint, outcome(exc), started)
            raise
        self._record(endpoint, url, params, attempt, attempts, started, at, None)
        self._observe(endpoint, "ok", started)
        return result

    def _observe(self, endpoint: str, result: str, started: float) -> None:
        seconds = time.perf_counter() - started
        for observer in self.observers:
            observer(endpoint, result, seconds)

    def _decode(self, model: type[M], attempt: Attempt, endpoint: str) -> M:
        assert attempt.status is not None
        document = decode.load_json(attempt.body, key=self._key, endpoint=endpoint)
        payload = decode.unwrap(document, status=attempt.status, key=self._key, endpoint=endpoint)
        return decode.validate(
            model, payload, status=attempt.status, key=self._key, endpoint=endpoint
        )

    async def _send(self, endpoint: str, url: str, params: dict[str, str]) -> tuple[Attempt, int]:
        deadline = anyio.current_time() + self._timeout
        attempts = 0
        while True:
            attempts += 1
            attempt = Attempt()
            try:
                with anyio.fail_after(max(deadline - anyio.current_time(), 0)):
                    await request.send(
                        self._http, attempt, url, params, endpoint=endpoint, limits=self._limits
                    )
            except TimeoutError:
                detail = f"timed out after {self._timeout:.1f} s"
                attempt.error = ConnectionFailed(detail, endpoint=endpoint, timed_out=True)
                attempt.retry = False
            if not attempt.retry or attempts > self._retries:
                return attempt, attempts
            delay = self._backoff(attempts, attempt.retry_after)
            if anyio.current_time() + delay >= deadline:
                return attempt, attempts
            log.warning(
                "License API %s: %s; retry %d of %d in %.2f s",
                endpoint, attempt.error, attempts, self._retries, delay,
            )  # fmt: skip
            await anyio.sleep(delay)

    def _backoff(self, attempts: int, retry_after: float | None) -> float:
        ceiling = min(self._backoff_cap, self._backoff_base * 2.0 ** (attempts - 1))
        delay = ceiling / 2 + random.uniform(0, ceiling / 2)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self._backoff_cap))
        return delay

    def _record(
        self,
        endpoint: str,
        url: str,
        params: dict[str, str],
        attempt: Attempt,
        attempts: int,
        started: float,
        at: datetime,
        error: str | None,
    ) -> None:
        exchange = Exchange(
            endpoint=endpoint,
            url=display_url(url, params, self._key),
            status=attempt.status,
            latency_ms=(time.perf_counter() - started) * 1000,
            body=capture_body(
                attempt.head(BODY_CAPTURE_BYTES + CAPTURE_MARGIN),
                total=attempt.size,
                exact=attempt.exact,
                key=self._key,
            ),
            error=error,
            at=at,
            attempts=attempts,
        )
        self.exchanges[endpoint] = exchange
        log.debug(
            "License API %s: HTTP %s in %.0f ms (%d attempts)",
            endpoint, exchange.status, exchange.latency_ms, attempts,
        )  # fmt: skip
