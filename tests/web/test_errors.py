"""When things go wrong: the manual's "Unable to Load Account Data" page with the specific
cause, stored data shown with its age when the API goes away, and friendly error pages
(never a traceback) for unknown addresses and unexpected failures."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures import RunningLicenseServer, running_license_server
from tests.service.conftest import CountingTransport
from tests.support.dashboard import RunningDashboard, csrf_from, running_dashboard, wait_synced
from tests.support.pgcluster import free_port
from tests.web.pagetools import (
    Node,
    balance,
    definitions,
    flashes,
    page_csrf,
    parse,
    rows,
    showing,
)
from tests.web.support import Outage, signed_in

LICENCE: dict[str, Any] = {
    "license_key": "CTZ-NOPE-0000-1111-2222",
    "license_domain": "shop.example.com",
    "license_email": "owner@example.com",
}


def unable(answer: httpx.Response) -> tuple[Node, list[str]]:
    """The Unable page's parts: the document and the causes it lists."""
    assert answer.status_code == 503, answer.text
    assert "Traceback" not in answer.text
    doc = parse(answer.text)
    panel = doc.one("section", aria_labelledby="unable-title")
    assert doc.one(id="unable-title").text() == "Unable to Load Account Data"
    retry = panel.one("form", action="/actions/refresh")  # a forced fetch, not a reload
    assert retry.attrs["method"] == "post" and retry.one("input", name="csrf_token").attrs["value"]
    assert retry.one("button", cls="primary").text() == "Retry Loading Data"
    causes = [p.one("p", cls="cause").text() for p in panel.find_all(cls="problem")]
    return doc, causes


@pytest.fixture(scope="module")
def unconfigured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDashboard]:
    with running_dashboard(None, tmp_path_factory.mktemp("none")) as dash:
        yield dash


@pytest.fixture(scope="module")
def bare(unconfigured: RunningDashboard) -> Iterator[httpx.Client]:
    with signed_in(unconfigured) as http:
        yield http


def test_no_licence_configured(bare: httpx.Client) -> None:
    doc, causes = unable(bare.get("/"))
    lead = doc.one("p", cls="lead").text()
    assert lead == "The license is not configured."
    assert causes == [
        "License configuration missing: set license_key, license_domain and license_email"
    ]
    assert "TOKENUSAGE_LICENSE_KEY" in doc.one("p", cls="detail").text()
    assert bare.get("/debug").status_code == 200, "Debug API still answers"


def test_api_down_and_nothing_stored(tmp_path: Path) -> None:
    port = free_port()
    with (
        running_dashboard(
            None, tmp_path, api_url=f"http://127.0.0.1:{port}/api.php", **LICENCE
        ) as dash,
        signed_in(dash) as http,
    ):
        doc, causes = unable(http.get("/"))
        # The cause leads, and a refused connection is not a licence problem.
        lead = doc.one("p", cls="lead").text()
        assert lead == f"Cannot reach the License API at http://127.0.0.1:{port}/api.php."
        assert "license configuration" not in doc.one("section", cls="panel").text()
        assert {p.attrs["data-kind"] for p in doc.find_all(data_kind="*")} == {"unreachable"}
        assert causes
        assert all(
            cause == f"Failed to connect to License API: connection to 127.0.0.1:{port} refused"
            for cause in causes
        ), causes
        assert "could not be reached" in doc.one("p", cls="detail").text()
        # One cause reads as sentences, not a one-item list; with nothing loaded, the actions
        # that need data are not offered, and Debug API and Help appear once (in the nav).
        assert not doc.one("section", cls="panel").find_all("ul")
        nav = doc.one("nav", cls="nav")
        assert not nav.find_all("form") and not doc.find_all("dialog")
        assert "/download.csv" not in {a.attrs["href"] for a in doc.find_all("a")}
        assert [a.attrs["href"] for a in doc.find_all("a", href="/debug")] == ["/debug"]
        assert len(doc.find_all("a", href="/help")) == 1
        assert not doc.find_all("a", href="/help#troubleshooting")
        # The same page in Brazilian Portuguese: the cause leads there too.
        pt = parse(http.get("/", headers={"accept-language": "pt-BR"}).text)
        assert pt.one(id="unable-title").text() == "Não foi possível carregar os dados da conta"
        assert pt.one("p", cls="lead").text() == (
            f"Não foi possível conectar à License API em http://127.0.0.1:{port}/api.php."
        )
        problem = pt.find_all(data_kind="*")[0]
        # The lead names the kind, so the cause below does not repeat it as a headline.
        assert not problem.find_all("strong")
        assert (
            problem.one("p", cls="detail")
            .text()
            .startswith("Não foi possível acessar a License API.")
        )
        debug = parse(http.get("/debug").text)
        (heading,) = [h for h in debug.find_all("h2") if h.text() == "USER STATS response"]
        part = debug.one("section", aria_labelledby=heading.attrs["id"])
        status = definitions(part)["Status"]
        assert "status-bad" in status.classes()
        # The refused connection is told once, above the calls, not once per call.
        assert status.text() == "no response (the error above)"
        causes_shown = [p.text() for p in debug.find_all("p", cls="cause")]
        assert causes_shown == [
            f"Failed to connect to License API: connection to 127.0.0.1:{port} refused"
        ]
        assert not [pre for pre in debug.find_all("pre") if not pre.text().strip()]


def test_retry_asks_the_api_again_at_once(tmp_path: Path) -> None:
    outage = Outage()
    with running_license_server(f"sqlite:///{tmp_path / 'ls.sqlite3'}", transactions=40) as srv:
        transport = CountingTransport(rewrite=outage)
        with (
            running_dashboard(srv, tmp_path / "dash", transport=transport) as dash,
            signed_in(dash) as http,
        ):
            outage.down = True
            unable(http.get("/"))
            outage.down = False
            # A reload within `failure_backoff` shows the remembered error without asking...
            unable(http.get("/"))
            # ...the Retry button asks again at once.
            token = csrf_from(http.get("/help").text)
            answer = http.post("/actions/refresh", data={"csrf_token": token})
            assert answer.status_code == 303
            page = http.get("/")
            assert page.status_code == 200 and "of 40 transactions" in page.text


def test_licence_refused_by_the_server(tmp_path: Path) -> None:
    with running_license_server(f"sqlite:///{tmp_path / 'ls.sqlite3'}") as srv:
        srv.ledger.set_status(srv.key, "suspended")
        with running_dashboard(srv, tmp_path / "dash") as dash, signed_in(dash) as http:
            doc, causes = unable(http.get("/"))
            assert set(causes) == {"License error: License is suspended"}
            lead = doc.one("p", cls="lead").text()
            assert lead == (
                "The license server refused this license: License error: License is suspended"
            )
            panel = doc.one("section", cls="panel").text()
            assert "Please check your license configuration and try again." in panel
            assert "license server refused" in doc.one("p", cls="detail").text()


def test_stored_data_is_shown_with_its_age_and_the_error(
    seeded_server: RunningLicenseServer, tmp_path: Path
) -> None:
    outage = Outage()
    with (
        running_dashboard(
            seeded_server, tmp_path, transport=CountingTransport(rewrite=outage)
        ) as dash,
        signed_in(dash) as http,
    ):
        token = page_csrf(http.get("/help").text)
        good = parse(http.get("/").text)
        wait_synced(dash)  # the first view answers before the whole history is stored
        outage.down = True
        dash.service.clock = lambda: datetime.now(UTC) + timedelta(hours=2)
        answer = http.get("/")
        assert answer.status_code == 200, answer.text
        doc = parse(answer.text)
        assert balance(doc) == balance(good)
        assert showing(doc) == "Showing 1-300 of 1,200 transactions (Page 1 of 4)"
        assert len(rows(doc)) == 300
        alert = doc.one("div", cls="warning", role="alert")
        assert alert.find_all("strong")[0].text().startswith("Showing stored data as of ")
        assert "(2 hours old): it could not be refreshed." in alert.text()
        errors = [p.one("p", cls="cause").text() for p in alert.find_all(cls="problem")]
        assert errors and all(e.startswith("Failed to connect to License API") for e in errors)
        assert parse(http.get("/?page=4").text).find_all("td", data_amount="*")

        refresh = http.post("/actions/refresh", data={"csrf_token": token})
        assert refresh.status_code == 303
        after = parse(http.get("/").text)
        shown = flashes(after)
        assert shown and all(level == "error" for level, _ in shown)
        assert all(
            text.startswith("Cannot reach the License API: Failed to connect to License API")
            for _, text in shown
        )
        assert balance(after) == balance(good)

        outage.down = False
        dash.service.clock = lambda: datetime.now(UTC)
        assert http.post("/actions/refresh", data={"csrf_token": token}).status_code == 303
        recovered = parse(http.get("/").text)
        assert flashes(recovered) == [("success", "Data refreshed successfully")]
        assert not recovered.find_all("div", cls="warning", role="alert")


def test_unknown_address_is_a_friendly_404(bare: httpx.Client) -> None:
    for path in ("/no-such-page", "/static/no-such-file.css", "/actions"):
        page = bare.get(path)
        assert page.status_code == 404, path
        assert page.headers["content-type"].startswith("text/html")
        assert "Traceback" not in page.text
        doc = parse(page.text)
        assert doc.one(id="error-title").text() == "Error 404"
        assert "There is no such page." in doc.one("main").text()
        assert doc.one("main").one("a").attrs["href"] == "/"
        assert page.headers["x-frame-options"] == "DENY"
    api = bare.get("/no-such-page", headers={"accept": "application/json"})
    assert api.status_code == 404
    assert api.json() == {"error": "There is no such page."}


def test_wrong_method_is_a_friendly_405(bare: httpx.Client) -> None:
    page = bare.get("/actions/refresh")
    assert page.status_code == 405
    assert parse(page.text).one(id="error-title").text() == "Error 405"
    assert "Traceback" not in page.text


def test_an_unexpected_failure_is_a_friendly_500(
    unconfigured: RunningDashboard, bare: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("internal detail /srv/secret/path")

    monkeypatch.setattr(unconfigured.service, "view", broken)
    page = bare.get("/")
    assert page.status_code == 500
    assert "Traceback" not in page.text and "/srv/secret/path" not in page.text
    doc = parse(page.text)
    assert doc.one(id="error-title").text() == "Error 500"
    assert "Something went wrong on the dashboard server." in doc.one("main").text()
    assert page.headers["content-security-policy"]
    api = bare.get("/", headers={"accept": "application/json"})
    assert api.status_code == 500 and "error" in api.json()
    assert "/srv/secret/path" not in api.text


def test_update_pricing_while_the_api_is_down_keeps_the_stored_prices(
    seeded_server: RunningLicenseServer, tmp_path: Path
) -> None:
    outage = Outage()
    with (
        running_dashboard(
            seeded_server, tmp_path, transport=CountingTransport(rewrite=outage)
        ) as dash,
        signed_in(dash) as http,
    ):
        token = page_csrf(http.get("/help").text)
        before = parse(http.get("/").text).one(aria_labelledby="pricing-title").text()
        assert "$5.00" in before
        outage.down = True
        assert http.post("/actions/update-pricing", data={"csrf_token": token}).status_code == 303
        doc = parse(http.get("/").text)
        assert any(level == "error" for level, _ in flashes(doc))
        assert "$5.00" in doc.one(aria_labelledby="pricing-title").text()


@pytest.mark.parametrize(("level", "traceback"), [(logging.INFO, False), (logging.DEBUG, True)])
def test_an_unexpected_failure_logs_one_line_below_debug(
    unconfigured: RunningDashboard,
    bare: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    level: int,
    traceback: bool,
) -> None:
    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("internal detail")

    monkeypatch.setattr(unconfigured.service, "view", broken)
    caplog.set_level(level, logger="tokenusage.web")
    assert bare.get("/").status_code == 500
    records = [r for r in caplog.records if r.name.startswith("tokenusage.web")]
    assert len(records) == 1
    assert "RuntimeError: internal detail" in records[0].getMessage()
    assert bool(records[0].exc_info) is traceback
