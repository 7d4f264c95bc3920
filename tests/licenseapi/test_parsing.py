"""Bodies to models: envelope or bare, numbers as strings, exact money, MySQL timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.licenseapi.helpers import (
    PRICING,
    USER_INFO,
    USER_STATS,
    envelope,
    mock_client,
    replying,
    transaction,
)
from tokenusage.licenseapi import InvalidResponse, LicenseError

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("wrap", [lambda p: p, envelope], ids=["bare", "envelope"])
async def test_pricing_bare_or_enveloped(wrap: Any) -> None:
    async with mock_client(replying(wrap(PRICING))) as client:
        pricing = await client.pricing()
    assert pricing.input_tokens_per_1m == Decimal("2.50")
    assert pricing.cached_tokens_per_1m == Decimal("1.25")
    assert pricing.currency == "USD"


async def test_user_info_mysql_timestamp_is_utc() -> None:
    async with mock_client(replying(envelope(USER_INFO))) as client:
        info = await client.user_info()
    assert info.member_since == datetime(2025, 1, 15, 8, 30, tzinfo=UTC)
    assert info.license_type == "Pro"


async def test_numbers_as_strings() -> None:
    stats = {**USER_STATS, "tokens_used": "1234567", "api_calls": "321", "balance": "12.5"}
    async with mock_client(replying(stats)) as client:
        result = await client.user_stats()
    assert result.tokens_used == 1234567
    assert result.api_calls == 321
    assert result.balance == Decimal("12.5")


async def test_money_is_exact() -> None:
    body = {"total": 2, "transactions": [transaction(2, "0.1"), transaction(1, "0.2")]}
    async with mock_client(replying(body)) as client:
        history = await client.history()
    assert sum(t.amount for t in history.transactions) == Decimal("0.3")


async def test_json_number_is_decimal_without_float() -> None:
    raw = (
        b'{"balance": 0.1, "credits_used": 0.30000000000000004, "tokens_used": 1,'
        b' "api_calls": 2, "images_processed": 3}'
    )
    async with mock_client(replying(raw)) as client:
        stats = await client.user_stats()
    assert stats.balance == Decimal("0.1")
    assert stats.credits_used == Decimal("0.30000000000000004")


async def test_utf8_bom_and_unknown_fields_are_tolerated() -> None:
    raw = b'\xef\xbb\xbf{"success": true, "data": {"email": "a@b.c", "license_type": "Pro",'
    raw += b' "domain": "b.c", "member_since": null, "extra": [1, 2]}, "server": "v2"}'
    async with mock_client(replying(raw)) as client:
        info = await client.user_info()
    assert info.email == "a@b.c"
    assert info.member_since is None


async def test_missing_field_is_named() -> None:
    stats = {k: v for k, v in USER_STATS.items() if k != "balance"}
    async with mock_client(replying(envelope(stats))) as client:
        with pytest.raises(InvalidResponse) as caught:
            await client.user_stats()
    assert str(caught.value) == "Invalid API response format: field 'balance' missing"
    assert caught.value.endpoint == "user/stats"


async def test_mistyped_field_is_named() -> None:
    async with mock_client(replying({**USER_STATS, "balance": "abc"})) as client:
        with pytest.raises(InvalidResponse) as caught:
            await client.user_stats()
    message = str(caught.value)
    assert message.startswith("Invalid API response format: field 'balance' malformed")
    assert "'abc'" in message


async def test_nested_field_is_named_with_its_path() -> None:
    rows = [transaction(2), transaction(1, amount="lots")]
    async with mock_client(replying({"total": 2, "transactions": rows})) as client:
        with pytest.raises(InvalidResponse, match=r"field 'transactions\.1\.amount' malformed"):
            await client.history()


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b"<br />\n<b>Warning</b>: mysqli_connect(): in api.php", "not JSON"),
        (b"", "empty body"),
        (b'{"balance": NaN}', "not JSON"),
        (b"[1, 2]", "expected a JSON object, got an array"),
        (b'{"success": true, "data": "nope"}', "expected `data` to be a JSON object"),
        (b"[" * 100_000, "not JSON"),
    ],
    ids=["php-warning", "empty", "nan", "array", "data-string", "deep"],
)
async def test_not_the_contract_json(raw: bytes, detail: str) -> None:
    async with mock_client(replying(raw)) as client:
        with pytest.raises(InvalidResponse) as caught:
            await client.user_stats()
    assert str(caught.value).startswith("Invalid API response format: ")
    assert detail in str(caught.value)


async def test_php_warning_is_quoted_so_the_admin_sees_it() -> None:
    async with mock_client(replying(b"<b>Fatal error</b>: Allowed memory size")) as client:
        with pytest.raises(InvalidResponse, match="Fatal error"):
            await client.pricing()


async def test_success_false_with_200_is_a_licence_error() -> None:
    body = {"success": False, "error": "License expired"}
    async with mock_client(replying(body)) as client:
        with pytest.raises(LicenseError) as caught:
            await client.user_info()
    assert str(caught.value) == "License error: License expired"
    assert caught.value.status == 200
    assert caught.value.detail == "License expired"


async def test_bare_error_object_instead_of_payload_is_a_licence_error() -> None:
    async with mock_client(replying({"error": "Domain mismatch"})) as client:
        with pytest.raises(LicenseError, match=r"^License error: Domain mismatch$"):
            await client.user_stats()


async def test_gzip_body_is_decoded() -> None:
    import gzip
    import json

    data = gzip.compress(json.dumps(PRICING).encode())

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=data, headers={"Content-Encoding": "gzip"})

    async with mock_client(handler) as client:
        assert (await client.pricing()).image_processing_per_10k == Decimal("5.00")


async def test_broken_gzip_is_invalid_response() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"not gzip", headers={"Content-Encoding": "gzip"})

    async with mock_client(handler) as client:
        with pytest.raises(InvalidResponse, match="could not be decoded"):
            await client.pricing()


async def test_a_large_page_is_decoded_off_the_event_loop() -> None:
    rows = [transaction(i, amount="-0.0125") for i in range(3000, 0, -1)]
    async with mock_client(replying(envelope({"total": 3000, "transactions": rows}))) as client:
        history = await client.history()
        assert client.exchanges["credits/history"].body.endswith("bytes]")
    assert history.total == 3000
    assert history.transactions[0].id == 3000
    assert sum(t.amount for t in history.transactions) == Decimal("-37.5")


async def test_a_large_malformed_page_still_raises_the_typed_error() -> None:
    rows = [transaction(i) for i in range(3000, 0, -1)]
    rows[2999]["created_at"] = "yesterday"
    async with mock_client(replying({"total": 3000, "transactions": rows})) as client:
        with pytest.raises(InvalidResponse, match=r"field 'transactions\.2999\.created_at'"):
            await client.history()


async def test_success_true_with_the_payload_inline() -> None:
    async with mock_client(replying({"success": True, **USER_STATS})) as client:
        stats = await client.user_stats()
    assert stats.balance == Decimal("12.50")


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("abc", "not a number"),
        ("1.5", "not a whole number"),
        ("Infinity", "not a whole number"),
        (True, "a boolean is not a number"),
        ([1], "tokens_used"),
    ],
)
async def test_a_count_that_is_not_a_whole_number_is_named(value: object, why: str) -> None:
    async with mock_client(replying({**USER_STATS, "tokens_used": value})) as client:
        with pytest.raises(InvalidResponse) as caught:
            await client.user_stats()
    message = str(caught.value)
    assert message.startswith("Invalid API response format: field 'tokens_used' malformed")
    assert why in message and "(and" not in message  # one error, not one per union branch


async def test_numbers_as_strings_and_integral_decimals_are_accepted() -> None:
    lenient = {**USER_STATS, "balance": "2.50", "tokens_used": " 12 ", "api_calls": 7.0}
    async with mock_client(replying(lenient)) as client:
        stats = await client.user_stats()
    assert (stats.balance, stats.tokens_used, stats.api_calls) == (Decimal("2.50"), 12, 7)
