"""Real sockets over loopback: refused, stalled, cut short, oversized, and recovering servers."""

from __future__ import annotations

import time
import tracemalloc
from typing import Any

import pytest

from tests.licenseapi import faultserver
from tests.licenseapi.faultserver import FaultServer
from tests.licenseapi.helpers import DOMAIN, EMAIL, KEY, PRICING, USER_STATS
from tests.support.pgcluster import free_port
from tokenusage.config import Settings
from tokenusage.licenseapi import (
    ConnectionFailed,
    HttpStatusError,
    InvalidResponse,
    LicenseApiClient,
)
from tokenusage.licenseapi.exchange import BODY_CAPTURE_BYTES

pytestmark = pytest.mark.anyio
MB = 1024 * 1024


def client_for(url: str, **options: Any) -> LicenseApiClient:
    options.setdefault("backoff_base", 0.01)
    return LicenseApiClient(url, KEY, DOMAIN, EMAIL, **options)


async def test_connection_refused() -> None:
    started = time.monotonic()
    async with client_for(f"http://127.0.0.1:{free_port()}/api.php") as client:
        with pytest.raises(ConnectionFailed) as caught:
            await client.user_stats()
        exchange = client.exchanges["user/stats"]
    assert time.monotonic() - started < 3
    assert str(caught.value).startswith("Failed to connect to License API: ")
    assert "127.0.0.1" in str(caught.value)
    assert exchange.status is None and exchange.attempts == 3
    assert KEY not in str(caught.value)


async def test_https_to_a_plain_http_port_is_a_tls_failure(fault_server: FaultServer) -> None:
    url = fault_server.url.replace("http://", "https://")
    async with client_for(url, retries=0) as client:
        with pytest.raises(ConnectionFailed) as caught:
            await client.pricing()
    assert str(caught.value).startswith("Failed to connect to License API: TLS handshake with")
    assert fault_server.requests == ["TLS handshake"]


async def test_a_stalled_server_fails_at_the_timeout(fault_server: FaultServer) -> None:
    fault_server.script(faultserver.stall(10))
    started = time.monotonic()
    async with client_for(fault_server.url, timeout=1.0) as client:
        with pytest.raises(ConnectionFailed) as caught:
            await client.pricing()
    elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 3
    assert str(caught.value) == "Failed to connect to License API: timed out after 1.0 s"
    assert len(fault_server.requests) == 1


async def test_a_trickling_server_is_bounded_by_the_total_deadline(
    fault_server: FaultServer,
) -> None:
    fault_server.script(faultserver.trickle(b'{"balance": "1"' + b" " * 100, every=0.2))
    started = time.monotonic()
    async with client_for(fault_server.url, timeout=1.0) as client:
        with pytest.raises(ConnectionFailed, match=r"timed out after 1\.0 s"):
            await client.user_stats()
        exchange = client.exchanges["user/stats"]
    assert time.monotonic() - started < 3
    assert exchange.status == 200
    assert exchange.body.startswith('{"b')


async def test_a_truncated_body(fault_server: FaultServer) -> None:
    fault_server.script(faultserver.truncated(1000, b'{"balance": "1'))
    async with client_for(fault_server.url) as client:
        with pytest.raises(ConnectionFailed) as caught:
            await client.user_stats()
    message = str(caught.value)
    assert message.startswith(
        "Failed to connect to License API: connection closed before the response was complete"
    )
    assert len(fault_server.requests) == 1


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "chunked"])
async def test_a_50_mb_body_is_refused_quickly_in_bounded_memory(
    fault_server: FaultServer, declare_length: bool
) -> None:
    # Configured as an admin would, through the settings.
    settings = Settings(
        api_url=fault_server.url,
        license_key=KEY,
        license_domain=DOMAIN,
        license_email=EMAIL,
        max_response_bytes=MB,
    )
    fault_server.script(*[faultserver.huge(50 * MB, declare_length=declare_length)] * 3)
    started = time.monotonic()
    tracemalloc.start()
    try:
        async with LicenseApiClient.from_settings(settings) as client:
            with pytest.raises(InvalidResponse) as caught:
                await client.history()
            _, peak = tracemalloc.get_traced_memory()
            exchange = client.exchanges["credits/history"]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 5
    assert str(caught.value) == "Invalid API response format: response larger than 1 MiB"
    assert peak < 4 * MB  # the body is 50 MB
    assert len(fault_server.requests) == 1 and exchange.attempts == 1  # not transient
    assert len(exchange.body.encode()) < BODY_CAPTURE_BYTES + 200
    assert "[cut: first" in exchange.body


async def test_an_announced_oversized_body_fails_fast_without_reading(
    fault_server: FaultServer,
) -> None:
    # Headers promise 10 GB and the body never comes: only a refusal on the header is fast.
    fault_server.script(*[faultserver.announce(10 * 1024 * MB, then_wait=10)] * 3)
    started = time.monotonic()
    async with client_for(fault_server.url, timeout=8.0) as client:
        with pytest.raises(InvalidResponse) as caught:
            await client.user_stats()
        exchange = client.exchanges["user/stats"]
    assert time.monotonic() - started < 2
    assert str(caught.value) == "Invalid API response format: response larger than 64 MiB"
    assert exchange.status == 200 and exchange.attempts == 1
    assert exchange.body == "\n… [cut: first 0 bytes of 10,737,418,240 bytes]"
    assert len(fault_server.requests) == 1


async def test_a_503_then_200_is_retried(fault_server: FaultServer) -> None:
    fault_server.script(
        faultserver.reply(503, {"success": False, "error": "maintenance"}),
        faultserver.reply(200, {"success": True, "data": PRICING}),
    )
    async with client_for(fault_server.url) as client:
        pricing = await client.pricing()
        assert client.exchanges["pricing/current"].attempts == 2
    assert pricing.completion_tokens_per_1m == 10
    assert len(fault_server.requests) == 2
    assert all(line.startswith("GET /api.php/pricing/current?") for line in fault_server.requests)


async def test_persistent_503_gives_up(fault_server: FaultServer) -> None:
    fault_server.script(*[faultserver.reply(503, b"down")] * 3)
    async with client_for(fault_server.url, retries=2) as client:
        with pytest.raises(HttpStatusError, match=r"^API returned HTTP 503$"):
            await client.pricing()
    assert len(fault_server.requests) == 3


async def test_a_hang_up_before_any_response_is_retried(fault_server: FaultServer) -> None:
    fault_server.script(faultserver.hang_up(), faultserver.reply(200, USER_STATS))
    async with client_for(fault_server.url) as client:
        stats = await client.user_stats()
    assert stats.api_calls == 321
    assert len(fault_server.requests) == 2


async def test_a_healthy_exchange_over_a_real_socket(fault_server: FaultServer) -> None:
    fault_server.script(faultserver.reply(200, USER_STATS))
    async with client_for(fault_server.url) as client:
        stats = await client.user_stats()
    assert stats.tokens_used == 1234567
    assert f"license_key={KEY}" in fault_server.requests[0]
