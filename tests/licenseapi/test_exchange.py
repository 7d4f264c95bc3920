"""The raw record for the debug page, and key masking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.licenseapi.helpers import KEY, PRICING, USER_STATS, mock_client, replying
from tokenusage.config import Settings
from tokenusage.licenseapi import HttpStatusError, LicenseApiClient, mask_key
from tokenusage.licenseapi.errors import scrub
from tokenusage.licenseapi.exchange import BODY_CAPTURE_BYTES


@pytest.mark.anyio
async def test_each_call_leaves_its_exchange() -> None:
    before = datetime.now(UTC)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("pricing/current"):
            return httpx.Response(200, json=PRICING)
        return httpx.Response(500, text="<h1>oops</h1>")

    async with mock_client(handler) as client:
        await client.pricing()
        with pytest.raises(HttpStatusError):
            await client.user_stats()
        ok, failed = client.exchanges["pricing/current"], client.exchanges["user/stats"]

    assert set(client.exchanges) == {"pricing/current", "user/stats"}
    assert ok.ok and ok.status == 200 and ok.error is None and ok.attempts == 1
    assert '"input_tokens_per_1m":"2.50"' in ok.body
    assert ok.latency_ms >= 0
    assert before <= ok.at <= datetime.now(UTC) and ok.at.utcoffset() == timedelta(0)
    assert ok.url == (
        "https://license.test/api.php/pricing/current"
        "?license_key=CTZ-…8842&domain=example.com&email=admin%40example.com"
    )
    assert not failed.ok and failed.status == 500
    assert failed.error == "API returned HTTP 500"
    assert failed.body == "<h1>oops</h1>"


@pytest.mark.anyio
async def test_the_latest_call_replaces_the_exchange() -> None:
    answers = iter([httpx.Response(200, json=USER_STATS), httpx.Response(404)])

    def handler(request: httpx.Request) -> httpx.Response:
        return next(answers)

    async with mock_client(handler) as client:
        await client.user_stats()
        with pytest.raises(HttpStatusError):
            await client.user_stats()
        assert client.exchanges["user/stats"].status == 404


@pytest.mark.anyio
async def test_a_big_body_is_cut_with_a_marker() -> None:
    rows = [{"id": i, "padding": "x" * 100} for i in range(2000)]
    async with mock_client(replying({"total": 0, "transactions": [], "rows": rows})) as client:
        await client.history()
        exchange = client.exchanges["credits/history"]
    head, marker = exchange.body.rsplit("\n", 1)
    assert len(head.encode()) == BODY_CAPTURE_BYTES
    assert marker.startswith(f"… [cut: first {BODY_CAPTURE_BYTES:,} bytes of ")


@pytest.mark.anyio
async def test_a_refused_body_is_recorded_without_reading_it() -> None:
    async with mock_client(replying(b"{" + b" " * 5000 + b"}"), max_body_bytes=1000) as client:
        with pytest.raises(Exception, match="response larger than 1,000 bytes"):
            await client.pricing()
        exchange = client.exchanges["pricing/current"]
    assert exchange.body == "\n… [cut: first 0 bytes of 5,002 bytes]"


@pytest.mark.parametrize(
    ("key", "masked"),
    [
        ("", ""),
        ("ab", "…"),
        ("abcdefgh", "ab…"),
        ("abcdefghijkl", "abcd…"),
        ("CTZ-4F9A-2B7C-91DE-8842", "CTZ-…8842"),
    ],
)
def test_mask_key(key: str, masked: str) -> None:
    assert mask_key(key) == masked


def test_scrub_masks_raw_and_url_encoded_forms() -> None:
    key = "ab/cd+ef gh=ij&kl"
    text = f"raw {key} quoted ab%2Fcd%2Bef%20gh%3Dij%26kl plus ab%2Fcd%2Bef+gh%3Dij%26kl"
    assert key not in scrub(text, key)
    assert "%2F" not in scrub(text, key)
    assert scrub("short keys are left alone", "a") == "short keys are left alone"


@pytest.mark.anyio
async def test_from_settings() -> None:
    settings = Settings(
        license_key=KEY,
        license_domain="d.test",
        license_email="e@d.test",
        api_url="https://api.test/api.php/",
        retries=0,
    )
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=PRICING))
    async with LicenseApiClient.from_settings(settings, transport=transport) as client:
        await client.pricing()
        url = client.exchanges["pricing/current"].url
    assert url.startswith("https://api.test/api.php/pricing/current?license_key=CTZ-…8842&")
    assert "domain=d.test" in url


def test_api_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="http"):
        LicenseApiClient("ftp://x.test/", KEY, "d", "e")
