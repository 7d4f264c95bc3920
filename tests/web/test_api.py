"""The read-only JSON API: bearer tokens only, reads only, the CLI's objects, keyset pages that
stay put while rows arrive, and an OpenAPI document that validates and describes every answer."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

from tests.fixtures import RunningLicenseServer
from tests.support.dashboard import RunningDashboard, running_dashboard, wait_synced
from tests.web.support import signed_in
from tokenusage.service.jsonout import decode_cursor, encode_cursor, view_json
from tokenusage.service.tokens import ApiTokens, RateLimit
from tokenusage.store import Store
from tokenusage.usage.filters import Filters
from tokenusage.web.openapi import document


def make_token(dash: RunningDashboard, name: str) -> str:
    with Store.open(dash.settings.store_url) as store:
        return ApiTokens(store).create(name)


def revoke(dash: RunningDashboard, name: str) -> None:
    with Store.open(dash.settings.store_url) as store:
        ApiTokens(store).revoke(name)


@pytest.fixture(scope="module")
def api(reader_dashboard: RunningDashboard) -> Iterator[httpx.Client]:
    token = make_token(reader_dashboard, "reader")
    with reader_dashboard.client(headers={"authorization": f"Bearer {token}"}) as http:
        assert http.get("/api/v1/summary").status_code == 200
        wait_synced(reader_dashboard)
        yield http


def all_pages(http: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        answer = http.get("/api/v1/transactions", params={**params, "cursor": cursor or ""})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        rows += body["transactions"]
        cursor = body["next_cursor"]
        if cursor is None:
            return rows


def test_no_token_a_wrong_one_or_a_session_cookie_is_401_json(
    reader_dashboard: RunningDashboard, reader: httpx.Client
) -> None:
    with reader_dashboard.client() as anonymous:
        for headers in ({}, {"authorization": "Bearer tu_wrong"}, {"authorization": "Basic x"}):
            answer = anonymous.get("/api/v1/summary", headers=headers)
            assert answer.status_code == 401
            assert answer.headers["content-type"] == "application/json"
            assert "error" in answer.json()
            assert answer.headers["www-authenticate"].startswith("Bearer")
    answer = reader.get("/api/v1/summary")  # signed in to the pages, but no token
    assert answer.status_code == 401 and "error" in answer.json()


def test_a_revoked_token_fails_at_once(reader_dashboard: RunningDashboard) -> None:
    token = make_token(reader_dashboard, "short-lived")
    with reader_dashboard.client(headers={"authorization": f"Bearer {token}"}) as http:
        assert http.get("/api/v1/usage").status_code == 200
        revoke(reader_dashboard, "short-lived")
        assert http.get("/api/v1/usage").status_code == 401


def test_a_token_never_works_for_the_dashboards_posts(
    api: httpx.Client, reader_dashboard: RunningDashboard
) -> None:
    for path in ("/actions/refresh", "/actions/clear-cache", "/logout"):
        answer = api.post(path, data={"csrf_token": "x"})
        assert answer.status_code in (401, 403), path
    assert api.get("/").status_code == 303, "the pages need a signed-in admin, not a token"
    answer = api.post("/api/v1/summary")
    assert answer.status_code == 405 and answer.json()["error"]
    with Store.open(reader_dashboard.settings.store_url) as store:
        assert store.mirror_status(reader_dashboard.service.identity).present


def test_the_summary_is_the_status_json_object(
    api: httpx.Client, reader_dashboard: RunningDashboard, seeded_server: RunningLicenseServer
) -> None:
    body = api.get("/api/v1/summary").json()
    view = asyncio.run(_view(reader_dashboard))
    assert set(body) == set(view_json(view))
    balance = seeded_server.ledger.stats(seeded_server.licence_id)["balance"]
    assert Decimal(body["stats"]["balance"]) == Decimal(balance)
    assert body["runway"] is not None and body["spend"] is not None


async def _view(dash: RunningDashboard) -> Any:
    from tokenusage.service import DashboardService

    service = DashboardService.from_settings(dash.settings)
    try:
        return await service.view(1)
    finally:
        await service.aclose()


def test_pages_walk_the_whole_ledger_exactly_once(
    api: httpx.Client, seeded_server: RunningLicenseServer
) -> None:
    rows = all_pages(api, limit="1000")
    ledger = seeded_server.ledger.history(seeded_server.licence_id, limit=10_000)
    assert [r["id"] for r in rows] == [t["id"] for t in ledger["transactions"]]
    assert sum(Decimal(r["amount"]) for r in rows) == Decimal(
        seeded_server.ledger.stats(seeded_server.licence_id)["balance"]
    )
    small = all_pages(api, limit="97")
    assert [r["id"] for r in small] == [r["id"] for r in rows]


def test_filters_narrow_the_pages(api: httpx.Client) -> None:
    purchases = all_pages(api, type="purchase", limit="50")
    assert purchases and {r["type"] for r in purchases} == {"purchase"}
    every = all_pages(api, limit="1000")
    assert [r["id"] for r in purchases] == [r["id"] for r in every if r["type"] == "purchase"]
    day = every[len(every) // 2]["created_at"][:10]
    dated = all_pages(api, **{"from": day, "to": day, "limit": "7"})
    assert dated and all(r["created_at"][:10] == day for r in dated)  # the business zone is UTC


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "1001"},
        {"limit": "ten"},
        {"cursor": "not-a-cursor"},
        {"cursor": encode_cursor(5)[:-2] + "!!"},
        {"from": "yesterday"},
        {"type": "gift"},
    ],
)
def test_bad_parameters_are_400_with_the_reason(api: httpx.Client, params: dict[str, str]) -> None:
    answer = api.get("/api/v1/transactions", params=params)
    assert answer.status_code == 400
    assert answer.json()["errors"]


def test_cursors_are_opaque_and_checked() -> None:
    assert decode_cursor(encode_cursor(123456)) == 123456
    assert decode_cursor("djE6LTE") is None  # "v1:-1"
    assert decode_cursor("x" * 100) is None


def test_usage_is_the_usage_json(api: httpx.Client, reader_dashboard: RunningDashboard) -> None:
    for by in ("day", "week", "month", "service", "type"):
        body = api.get("/api/v1/usage", params={"by": by}).json()
        rows, _ = asyncio.run(_usage(reader_dashboard, by))
        assert body == [r.as_json() for r in rows]
    assert api.get("/api/v1/usage", params={"by": "year"}).status_code == 400


async def _usage(dash: RunningDashboard, by: Any) -> Any:
    from tokenusage.service import DashboardService

    service = DashboardService.from_settings(dash.settings)
    try:
        return await service.usage(Filters(), by)
    finally:
        await service.aclose()


def test_unknown_api_paths_are_404_json(api: httpx.Client) -> None:
    answer = api.get("/api/v1/nothing")
    assert answer.status_code == 404 and "error" in answer.json()


def test_too_many_requests_is_429_with_retry_after(
    api: httpx.Client, reader_dashboard: RunningDashboard
) -> None:
    web = reader_dashboard.app.state.web
    saved = web.rate
    web.rate = RateLimit(3)
    try:
        codes = [api.get("/api/v1/openapi.json").status_code for _ in range(2)]
        codes += [api.get("/api/v1/usage").status_code for _ in range(4)]
        assert codes[:5] == [200] * 5 and codes[5] == 429
        answer = api.get("/api/v1/usage")
        assert answer.status_code == 429 and 1 <= int(answer.headers["retry-after"]) <= 60
    finally:
        web.rate = saved


def test_the_rate_limit_slides() -> None:
    now = [0.0]
    limit = RateLimit(2, clock=lambda: now[0])
    assert [limit.wait("a"), limit.wait("a"), limit.wait("b")] == [0, 0, 0]
    assert limit.wait("a") == 60
    now[0] = 59.5
    assert limit.wait("a") == 1
    now[0] = 90.0  # half of the previous minute's two still count
    assert limit.wait("a") == 0
    assert limit.wait("a") > 0
    now[0] = 200.0
    assert limit.wait("a") == 0


def test_the_openapi_document_validates(api: httpx.Client) -> None:
    answer = httpx.get(str(api.base_url.join("/api/v1/openapi.json")))  # no token needed
    assert answer.status_code == 200
    validate(answer.json())
    assert answer.json() == document()


def test_keyset_pages_stay_put_while_rows_arrive(
    license_server: RunningLicenseServer, tmp_path: Path
) -> None:
    srv = license_server
    for n in range(30):
        srv.ledger.add_entry(srv.licence_id, "usage", Decimal("-0.01") * (n + 1), service_type="s")
    with running_dashboard(srv, tmp_path / "dash", transactions_ttl=0) as dash:
        token = make_token(dash, "pager")
        with dash.client(headers={"authorization": f"Bearer {token}"}) as http:
            first = http.get("/api/v1/transactions", params={"limit": "10"}).json()
            wait_synced(dash)
            cursor = first["next_cursor"]
            before = http.get("/api/v1/transactions", params={"limit": "10", "cursor": cursor})
            for _ in range(5):
                srv.ledger.add_entry(srv.licence_id, "purchase", Decimal("1.00"))
            after = http.get("/api/v1/transactions", params={"limit": "10", "cursor": cursor})
            assert after.json() == before.json()
            newest = http.get("/api/v1/transactions", params={"limit": "5"}).json()
            assert [r["type"] for r in newest["transactions"]] == ["purchase"] * 5
            every = srv.ledger.history(srv.licence_id, limit=10_000)["transactions"]
            assert [r["id"] for r in all_pages(http, limit="1000")] == [t["id"] for t in every]


def check_against_document(path: str, answer: httpx.Response) -> None:
    from jsonschema import Draft202012Validator

    doc = document()
    declared = doc["paths"][path]["get"]["responses"][str(answer.status_code)]
    schema = declared["content"]["application/json"]["schema"]
    Draft202012Validator({**schema, "components": doc["components"]}).validate(answer.json())


def test_without_a_licence_the_api_answers_503_json(tmp_path: Path) -> None:
    with running_dashboard(None, tmp_path / "dash") as dash:
        token = make_token(dash, "x")
        with dash.client(headers={"authorization": f"Bearer {token}"}) as http:
            for path in ("/api/v1/summary", "/api/v1/transactions", "/api/v1/usage"):
                answer = http.get(path)
                assert answer.status_code == 503, path
                assert answer.json()["problems"][0]["kind"] == "config", path
                check_against_document(path, answer)


def test_signed_in_admins_and_cookies_do_not_open_the_api(
    reader_dashboard: RunningDashboard,
) -> None:
    with signed_in(reader_dashboard) as http:
        assert http.get("/api/v1/transactions").status_code == 401
