"""The raw record for the debug page, and key masking."""

from __future__ import annotations

import contextlib
import json
import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.licenseapi.helpers import KEY, PRICING, USER_STATS, mock_client, replying
from tokenusage.config import Settings
from tokenusage.licenseapi import HttpStatusError, LicenseApiClient, mask_key
from tokenusage.licenseapi.exchange import BODY_CAPTURE_BYTES
from tokenusage.licenseapi.redact import scrub, scrub_bytes


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


SPELLINGS = [
    "CTZ-4F9A-2B7C-91DE-8842",
    "CTZ%2D4F9A%2D2B7C%2D91DE%2D8842",  # every unreserved character may be encoded too
    "CTZ%2d4F9A%2d2B7C%2d91DE%2d8842",
    "%43%54%5A%2D%34%46%39%41%2D%32%42%37%43%2D%39%31%44%45%2D%38%38%34%32",
    "CTZ\\u002d4F9A-2B7C\\u002D91DE-8842",  # JSON escapes, which json.loads undoes
    "\\u0043\\u0054\\u005a-4F9A-2B7C-91DE-8842",
]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_scrub_masks_every_spelling_of_the_key(spelling: str) -> None:
    key = "CTZ-4F9A-2B7C-91DE-8842"
    assert scrub(f"a {spelling} b", key) == "a CTZ-…8842 b"
    assert scrub_bytes(f"a {spelling} b".encode(), key) == "a CTZ-…8842 b".encode()


@pytest.mark.anyio
@pytest.mark.parametrize("spelling", SPELLINGS)
async def test_upstream_text_never_carries_the_key(spelling: str) -> None:
    """A description or an account field that echoes the key: neither the decoded models
    (hence the store, pages, CSV and JSON API) nor the raw body on the debug page keep it."""
    row = {
        "id": 1,
        "created_at": "2026-11-24 13:05:00",
        "type": "usage",
        "service_type": f"svc {spelling}",
        "amount": "-1",
        "tokens_used": 1,
        "images_processed": 0,
        "description": f"charged to {spelling}",
    }
    body = json.dumps({"total": 1, "transactions": [row]}).replace("\\\\u", "\\u").encode()
    async with mock_client(replying(body)) as client:
        page = await client.history()
        raw = client.exchanges["credits/history"].body
    (tx,) = page.transactions
    assert tx.description == "charged to CTZ-…8842"
    assert tx.service_type == "svc CTZ-…8842"
    shown = json.dumps(json.loads(raw), ensure_ascii=False)  # as the debug page shows it
    assert "4F9A" not in shown and "4F9A" not in raw


@pytest.mark.anyio
async def test_a_key_across_the_capture_cut_is_masked_whole() -> None:
    pad = BODY_CAPTURE_BYTES - 10
    body = b'{"x": "' + b"y" * (pad - 7) + KEY.encode() + b'"}'
    async with mock_client(replying(body)) as client:
        with pytest.raises(Exception, match="Invalid API response format"):
            await client.pricing()
        raw = client.exchanges["pricing/current"].body
    assert "CTZ-4F9A" not in raw and "CTZ-…" in raw


@pytest.mark.anyio
async def test_logged_request_urls_carry_no_key(caplog: pytest.LogCaptureFixture) -> None:
    """httpx logs every request's URL at INFO, which `serve` shows by default."""
    with caplog.at_level(logging.INFO, logger="httpx"):
        async with mock_client(replying({"email": "e@d.test"})) as client:
            with contextlib.suppress(Exception):
                await client.user_info()
    logged = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert logged and all("license_key=CTZ-%E2%80%A68842" in m or "CTZ-…" in m for m in logged)
    assert not any("4F9A" in m for m in logged)
