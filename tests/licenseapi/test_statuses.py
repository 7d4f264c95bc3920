"""HTTP statuses, licence errors and the retry policy, through `httpx.MockTransport`."""

from __future__ import annotations

import httpx
import pytest

from tests.licenseapi.helpers import (
    DOMAIN,
    EMAIL,
    KEY,
    PRICING,
    USER_INFO,
    USER_STATS,
    mock_client,
    replying,
    transaction,
)
from tokenusage.licenseapi import (
    ConnectionFailed,
    HttpStatusError,
    LicenseApiError,
    LicenseError,
)

pytestmark = pytest.mark.anyio


class Script:
    """Answers from a list, one per request, and remembers the requests."""

    def __init__(self, *responses: httpx.Response | Exception) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


async def test_401_is_a_licence_error_with_the_servers_reason() -> None:
    script = Script(httpx.Response(401, json={"success": False, "error": "Invalid license key"}))
    async with mock_client(script) as client:
        with pytest.raises(LicenseError) as caught:
            await client.user_stats()
    assert str(caught.value) == "License error: Invalid license key"
    assert caught.value.status == 401
    assert isinstance(caught.value, HttpStatusError)
    assert len(script.requests) == 1


async def test_403_without_a_body_still_says_what_happened() -> None:
    async with mock_client(replying(b"", status=403)) as client:
        with pytest.raises(LicenseError, match=r"^License error: API returned HTTP 403$"):
            await client.user_info()


@pytest.mark.parametrize("status", [400, 404, 500])
async def test_other_failures_are_not_retried(status: int) -> None:
    script = Script(httpx.Response(status, json={"success": False, "error": "boom"}))
    async with mock_client(script) as client:
        with pytest.raises(HttpStatusError) as caught:
            await client.pricing()
    assert str(caught.value) == f"API returned HTTP {status}: boom"
    assert caught.value.status == status
    assert not isinstance(caught.value, LicenseError)
    assert len(script.requests) == 1


async def test_500_with_an_html_page_has_the_manuals_wording() -> None:
    async with mock_client(replying(b"<html>Internal Server Error</html>", 500)) as client:
        with pytest.raises(HttpStatusError) as caught:
            await client.pricing()
    assert str(caught.value) == "API returned HTTP 500"


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_gateway_errors_are_retried(status: int) -> None:
    script = Script(
        httpx.Response(status), httpx.Response(status), httpx.Response(200, json=PRICING)
    )
    async with mock_client(script, retries=2) as client:
        pricing = await client.pricing()
        assert client.exchanges["pricing/current"].attempts == 3
    assert pricing.currency == "USD"
    assert len(script.requests) == 3


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_gateway_errors_give_up_after_the_retries(status: int) -> None:
    script = Script(httpx.Response(status, text="Service Unavailable"))
    async with mock_client(script, retries=2) as client:
        with pytest.raises(HttpStatusError) as caught:
            await client.user_stats()
    assert str(caught.value) == f"API returned HTTP {status}"
    assert caught.value.status == status
    assert len(script.requests) == 3


async def test_no_retries_when_retries_is_zero() -> None:
    script = Script(httpx.Response(503))
    async with mock_client(script, retries=0) as client:
        with pytest.raises(HttpStatusError):
            await client.pricing()
    assert len(script.requests) == 1


async def test_retry_after_is_honoured_up_to_the_cap() -> None:
    script = Script(
        httpx.Response(503, headers={"Retry-After": "1"}), httpx.Response(200, json=PRICING)
    )
    async with mock_client(script, backoff_cap=0.05) as client:
        await client.pricing()
        assert client.exchanges["pricing/current"].latency_ms < 1000
    assert len(script.requests) == 2


async def test_no_retry_that_would_overrun_the_deadline() -> None:
    script = Script(httpx.Response(503))
    async with mock_client(script, timeout=0.2, backoff_base=1.0, backoff_cap=1.0) as client:
        with pytest.raises(HttpStatusError):
            await client.pricing()
    assert len(script.requests) == 1


async def test_connect_errors_are_retried_then_reported() -> None:
    script = Script(httpx.ConnectError("[Errno 111] Connection refused"))
    async with mock_client(script) as client:
        with pytest.raises(ConnectionFailed) as caught:
            await client.pricing()
    assert str(caught.value).startswith("Failed to connect to License API: connection to")
    assert "refused" in str(caught.value)
    assert len(script.requests) == 3


async def test_dns_and_tls_failures_are_told_apart() -> None:
    dns = Script(httpx.ConnectError("[Errno -2] Name or service not known"))
    async with mock_client(dns, retries=0) as client:
        with pytest.raises(ConnectionFailed, match=r"DNS lookup of license\.test failed"):
            await client.pricing()
    tls = Script(httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"))
    async with mock_client(tls, retries=0) as client:
        with pytest.raises(ConnectionFailed, match=r"TLS handshake with license\.test failed"):
            await client.pricing()


async def test_read_timeout_is_not_retried() -> None:
    script = Script(httpx.ReadTimeout("timed out"))
    async with mock_client(script, timeout=1.0) as client:
        with pytest.raises(ConnectionFailed) as caught:
            await client.pricing()
    assert str(caught.value) == "Failed to connect to License API: timed out after 1.0 s"
    assert len(script.requests) == 1


async def test_redirects_are_not_followed_and_do_not_leak_the_key() -> None:
    location = f"https://elsewhere.test/api.php/user/info?license_key={KEY}"
    script = Script(httpx.Response(301, headers={"Location": location}))
    async with mock_client(script) as client:
        with pytest.raises(HttpStatusError) as caught:
            await client.user_info()
    assert str(caught.value).startswith("API returned HTTP 301: redirect to https://elsewhere")
    assert KEY not in str(caught.value)
    assert len(script.requests) == 1


async def test_credentials_go_with_every_request() -> None:
    bodies = {
        "/api.php/pricing/current": PRICING,
        "/api.php/user/info": USER_INFO,
        "/api.php/user/stats": USER_STATS,
        "/api.php/credits/history": {"total": 1, "transactions": [transaction(1)]},
    }
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=bodies[request.url.path])

    async with mock_client(handler) as client:
        await client.pricing()
        await client.user_info()
        await client.user_stats()
        await client.history()
        await client.history(limit=50, before_id=10)
        await client.history(limit=1, after_id=7)
    assert [r.method for r in seen] == ["GET"] * 6
    for request in seen:
        assert request.url.params["license_key"] == KEY
        assert request.url.params["domain"] == DOMAIN
        assert request.url.params["email"] == EMAIL
    assert [dict(r.url.params) for r in seen[3:]] == [
        {"license_key": KEY, "domain": DOMAIN, "email": EMAIL, "limit": "10000"},
        {"license_key": KEY, "domain": DOMAIN, "email": EMAIL, "limit": "50", "before_id": "10"},
        {"license_key": KEY, "domain": DOMAIN, "email": EMAIL, "limit": "1", "after_id": "7"},
    ]


@pytest.mark.parametrize(
    "kwargs",
    [{"limit": 0}, {"limit": 10_001}, {"before_id": 5, "after_id": 3}],
    ids=["zero", "too-many", "both-cursors"],
)
async def test_history_arguments_are_checked_before_any_request(kwargs: dict[str, int]) -> None:
    script = Script(httpx.Response(200, json={}))
    async with mock_client(script) as client:
        with pytest.raises(ValueError):
            await client.history(**kwargs)
    assert script.requests == []


async def test_the_key_never_appears_in_errors() -> None:
    echo = {"success": False, "error": f"Invalid license key {KEY} for domain"}
    async with mock_client(replying(echo, 401)) as client:
        with pytest.raises(LicenseApiError) as caught:
            await client.user_stats()
        exchange = client.exchanges["user/stats"]
    assert KEY not in str(caught.value)
    assert "CTZ-…8842" in str(caught.value)
    assert exchange.error is not None
    assert KEY not in exchange.url + exchange.error + exchange.body
    assert KEY not in repr(client)


async def test_the_key_never_appears_in_a_not_json_error() -> None:
    async with mock_client(replying(f"bad key {KEY}".encode())) as client:
        with pytest.raises(LicenseApiError) as caught:
            await client.user_stats()
    assert KEY not in str(caught.value)


async def test_the_key_never_appears_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="tokenusage.licenseapi")
    script = Script(
        httpx.ConnectError(f"cannot reach ?license_key={KEY}"),
        httpx.Response(503, json={"error": KEY}),
        httpx.Response(401, json={"error": f"bad {KEY}"}),
    )
    async with mock_client(script) as client:
        with pytest.raises(LicenseError):
            await client.pricing()
    assert caplog.records
    assert KEY not in caplog.text
