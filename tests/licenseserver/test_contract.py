"""The reference server's contract, over real HTTP on loopback."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from tests.fixtures import RunningLicenseServer
from tokenusage.licenseapi.models import History, Pricing, UserInfo, UserStats


def get(srv: RunningLicenseServer, endpoint: str, **extra: str) -> httpx.Response:
    return httpx.get(f"{srv.base_url}/{endpoint}", params={**srv.params, **extra}, timeout=10)


def data(resp: httpx.Response) -> dict[str, object]:
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["success"] is True
    payload = body["data"]
    assert isinstance(payload, dict)
    return payload


def test_pricing_current_is_the_price_in_force(license_server: RunningLicenseServer) -> None:
    pricing = Pricing.model_validate(data(get(license_server, "pricing/current")))
    assert pricing.input_tokens_per_1m == Decimal("0.50")
    license_server.ledger.set_pricing(
        {
            "image_processing_per_10k": Decimal("7.25"),
            "input_tokens_per_1m": Decimal("0.15"),
            "completion_tokens_per_1m": Decimal("0.60"),
            "cached_tokens_per_1m": Decimal("0.075"),
        }
    )
    raw = data(get(license_server, "pricing/current"))
    assert raw["cached_tokens_per_1m"] == "0.075"  # exact decimal text, never a float
    assert Pricing.model_validate(raw).image_processing_per_10k == Decimal("7.25")


def test_user_info(license_server: RunningLicenseServer) -> None:
    info = UserInfo.model_validate(data(get(license_server, "user/info")))
    assert (info.email, info.domain, info.license_type) == (
        license_server.email,
        license_server.domain,
        "Pro",
    )
    assert info.member_since is not None


def test_user_stats_balance_is_the_sum_of_the_ledger(license_server: RunningLicenseServer) -> None:
    stats = UserStats.model_validate(data(get(license_server, "user/stats")))
    history = History.model_validate(data(get(license_server, "credits/history")))
    assert history.total == len(history.transactions) == 1200
    assert stats.balance == sum((t.amount for t in history.transactions), Decimal(0))
    usage = [t for t in history.transactions if t.type == "usage"]
    assert stats.api_calls == len(usage)
    assert stats.credits_used == -sum((t.amount for t in usage), Decimal(0))
    assert stats.tokens_used == sum(t.tokens_used for t in history.transactions)
    assert stats.images_processed == sum(t.images_processed for t in history.transactions)


def test_history_is_newest_first_and_pages_with_before_and_after(
    license_server: RunningLicenseServer,
) -> None:
    first = History.model_validate(data(get(license_server, "credits/history", limit="500")))
    ids = [t.id for t in first.transactions]
    assert len(ids) == 500 and ids == sorted(ids, reverse=True)
    older = History.model_validate(
        data(get(license_server, "credits/history", limit="500", before_id=str(ids[-1])))
    )
    assert older.transactions[0].id < ids[-1]
    newer = History.model_validate(
        data(
            get(
                license_server, "credits/history", limit="3", after_id=str(older.transactions[0].id)
            )
        )
    )
    # after_id answers the oldest entries newer than it, listed newest first
    assert [t.id for t in newer.transactions] == sorted(ids[-3:], reverse=True)
    assert first.total == older.total == newer.total == 1200


def test_prefixed_base_url_like_the_real_api(license_server: RunningLicenseServer) -> None:
    resp = httpx.get(
        f"{license_server.base_url}/projects/api.php/user/info", params=license_server.params
    )
    assert data(resp)["domain"] == license_server.domain


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"license_key": "CTZ-NOPE"}, 401, "Invalid license key"),
        ({"domain": "other.example.org"}, 403, "License is not valid for domain other.example.org"),
        ({"email": "someone@else.com"}, 403, "Email does not match the license"),
        ({"license_key": ""}, 400, "Missing required parameter: license_key"),
        ({"email": ""}, 400, "Missing required parameter: email"),
    ],
)
def test_credentials_that_match_no_licence(
    license_server: RunningLicenseServer, change: dict[str, str], status: int, message: str
) -> None:
    resp = httpx.get(
        f"{license_server.base_url}/user/stats", params={**license_server.params, **change}
    )
    assert resp.status_code == status
    assert resp.headers["content-type"] == "application/json"
    assert resp.json() == {"success": False, "error": message}


@pytest.mark.parametrize(
    ("status_name", "message"),
    [("suspended", "License is suspended"), ("expired", "License has expired")],
)
def test_inactive_licence(
    license_server: RunningLicenseServer, status_name: str, message: str
) -> None:
    license_server.ledger.set_status(license_server.key, status_name)
    resp = get(license_server, "user/info")
    assert (resp.status_code, resp.json()) == (403, {"success": False, "error": message})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "0"}, "limit must be an integer between 1 and 10000"),
        ({"limit": "10001"}, "limit must be an integer between 1 and 10000"),
        ({"limit": "ten"}, "limit must be an integer between 1 and 10000"),
        ({"before_id": "abc"}, "before_id must be a positive integer"),
        ({"after_id": "-5"}, "after_id must be a positive integer"),
        ({"before_id": "10", "after_id": "5"}, "before_id and after_id cannot be used together"),
    ],
)
def test_bad_history_parameters(
    license_server: RunningLicenseServer, params: dict[str, str], message: str
) -> None:
    resp = get(license_server, "credits/history", **params)
    assert (resp.status_code, resp.json()) == (400, {"success": False, "error": message})


def test_unknown_endpoint_and_method(license_server: RunningLicenseServer) -> None:
    resp = get(license_server, "user/delete")
    assert (resp.status_code, resp.json()) == (
        404,
        {"success": False, "error": "Unknown endpoint: user/delete"},
    )
    root = httpx.get(license_server.base_url + "/")
    assert root.status_code == 404 and root.json()["success"] is False
    post = httpx.post(f"{license_server.base_url}/user/info", params=license_server.params)
    assert post.status_code == 405 and post.json()["success"] is False


def test_limit_boundaries_are_accepted(license_server: RunningLicenseServer) -> None:
    assert len(data(get(license_server, "credits/history", limit="1"))["transactions"]) == 1  # type: ignore[arg-type]
    assert len(data(get(license_server, "credits/history", limit="10000"))["transactions"]) == 1200  # type: ignore[arg-type]
