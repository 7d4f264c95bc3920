"""GET /metrics: the Prometheus text format, behind a token unless `metrics_public`; the ledger's
figures equal the ledger exactly and are the same on every replica; this process's HTTP and
License API counters."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures import RunningLicenseServer
from tests.support.dashboard import RunningDashboard, running_dashboard, wait_synced
from tests.web.support import ledger_rows
from tests.web.test_api import make_token
from tokenusage.usage.branding import brand


def values(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], str]:
    """Each sample's value as written, by (name, labels): exact decimal text, not a float."""
    families = list(text_string_to_metric_families(text))  # it parses, as Prometheus would
    assert families
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        name, _, labels = head.partition("{")
        pairs = tuple(tuple(part.split("=", 1)) for part in labels.rstrip("}").split(",") if part)
        out[name, tuple((k, v.strip('"')) for k, v in pairs)] = value
    return out


@pytest.fixture(scope="module")
def scraper(reader_dashboard: RunningDashboard) -> Iterator[httpx.Client]:
    token = make_token(reader_dashboard, "prometheus")
    with reader_dashboard.client(headers={"authorization": f"Bearer {token}"}) as http:
        http.get("/api/v1/summary")
        wait_synced(reader_dashboard)
        yield http


def test_a_token_is_needed(reader_dashboard: RunningDashboard) -> None:
    with reader_dashboard.client() as anonymous:
        answer = anonymous.get("/metrics")
        assert answer.status_code == 401 and "error" in answer.json()
        assert anonymous.post("/metrics").status_code == 405


def test_the_ledger_figures_are_exact(
    scraper: httpx.Client, seeded_server: RunningLicenseServer
) -> None:
    answer = scraper.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    got = values(answer.text)
    balance = seeded_server.ledger.stats(seeded_server.licence_id)["balance"]
    assert Decimal(got["tokenusage_balance_dollars", ()]) == Decimal(balance)
    spend: dict[str, Decimal] = defaultdict(Decimal)
    for row in ledger_rows(seeded_server):
        if row["type"] == "usage":
            spend[brand(row["service_type"])] -= Decimal(row["amount"])
    reported = {
        dict(labels)["service"]: Decimal(v)
        for (name, labels), v in got.items()
        if name == "tokenusage_spend_dollars_total"
    }
    assert reported == {k: v for k, v in spend.items() if v}
    summary = scraper.get("/api/v1/summary").json()
    assert Decimal(got["tokenusage_runway_days", ()]) == summary["runway"]["days_left"]
    synced = summary["cache"]["transactions"]["fetched_at"]
    assert synced is not None
    assert float(got["tokenusage_last_sync_timestamp_seconds", ()]) > 0
    assert float(got["tokenusage_data_age_seconds", ()]) >= 0


def test_http_and_upstream_counters(scraper: httpx.Client) -> None:
    scraper.get("/api/v1/usage")
    scraper.get("/api/v1/no-such-thing")
    got = values(scraper.get("/metrics").text)
    assert float(got["tokenusage_http_requests_total", (("route", "/api/v1/usage"),
                                                          ("status", "200"))]) >= 1  # fmt: skip
    assert float(got["tokenusage_http_requests_total", (("route", "other"),
                                                          ("status", "404"))]) >= 1  # fmt: skip
    assert any(name == "tokenusage_http_request_duration_seconds_bucket" for name, _ in got)
    upstream = {
        dict(labels)["endpoint"]: float(v)
        for (name, labels), v in got.items()
        if name == "tokenusage_upstream_requests_total" and dict(labels)["outcome"] == "ok"
    }
    assert upstream.get("credits/history", 0) >= 1 and upstream.get("user/stats", 0) >= 1
    assert ("tokenusage_upstream_request_duration_seconds_count",
            (("endpoint", "user/stats"),)) in got  # fmt: skip


def test_public_metrics_and_replicas_report_one_ledger(
    seeded_server: RunningLicenseServer, tmp_path: Path
) -> None:
    data = tmp_path / "shared"
    with (
        running_dashboard(seeded_server, data, metrics_public=True) as one,
        running_dashboard(seeded_server, data, metrics_public=True) as two,
    ):
        first = httpx.get(one.url + "/metrics")
        wait_synced(one)
        a = values(httpx.get(one.url + "/metrics").text)
        b = values(httpx.get(two.url + "/metrics").text)
        assert first.status_code == 200
    ledger = [
        k for k in a if k[0] in ("tokenusage_balance_dollars", "tokenusage_spend_dollars_total")
    ]
    assert ledger and all(a[k] == b[k] for k in ledger), "the same figures from both replicas"


def test_a_failing_license_api_is_counted(tmp_path: Path) -> None:
    from tests.support.pgcluster import free_port

    dead = f"http://127.0.0.1:{free_port()}/api.php"
    with running_dashboard(
        None, tmp_path / "dash", metrics_public=True, api_url=dead, license_key="k",
        license_domain="d.example", license_email="e@example.com",
    ) as dash:  # fmt: skip
        text = httpx.get(dash.url + "/metrics").text
    got = values(text)
    assert float(got["tokenusage_upstream_requests_total",
                     (("endpoint", "user/stats"), ("outcome", "unreachable"))]) >= 1  # fmt: skip
    assert ("tokenusage_balance_dollars", ()) not in got
