"""The manual's page elements: header, breadcrumb, navigation buttons, card labels, table
columns, footer status, the help page; and what a page costs on the wire."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures import RunningLicenseServer
from tests.support.dashboard import RunningDashboard, running_dashboard, wait_synced
from tests.web.pagetools import (
    Node,
    card,
    definitions,
    footer,
    form_actions,
    links,
    page_csrf,
    parse,
)
from tests.web.support import signed_in

DASHBOARD_URL = "https://admin.example.test/ct/admin/index.php"
REPORTS_URL = "https://admin.example.test/ct/admin/reports.php"


def overview(client: httpx.Client) -> Node:
    page = client.get("/")
    assert page.status_code == 200, page.text
    return parse(page.text)


def breadcrumb(doc: Node) -> Node:
    return doc.one("nav", cls="breadcrumb")


def test_header_title_and_plain_breadcrumb(reader: httpx.Client) -> None:
    doc = overview(reader)
    title = doc.one("h1")
    assert title.text() == "Token & Credit Usage Dashboard"
    assert title.one("use").attrs["href"].endswith("#coins")
    crumbs = breadcrumb(doc)
    assert [li.text() for li in crumbs.find_all("li")] == ["Dashboard", "Reports", "Token Usage"]
    assert not crumbs.find_all("a"), "no links without dashboard_url / reports_url"
    assert crumbs.one("li", aria_current="page").text() == "Token Usage"


def test_navigation_buttons(reader: httpx.Client) -> None:
    doc = overview(reader)
    nav = doc.one("nav", cls="nav")
    assert links(nav) == {
        "Overview": "/",
        "Download History": "/download.csv",
        "Alerts": "/alerts",
        "API Tokens": "/tokens",
        "Debug API": "/debug",
        "Help": "/help",
    }
    buttons = {form.attrs["action"]: form.one("button").text() for form in nav.find_all("form")}
    assert buttons == {
        "/actions/refresh": "Refresh Data",
        "/actions/update-pricing": "Update Pricing",
        "/actions/clear-cache": "Clear Cache",
    }
    for form in nav.find_all("form"):
        assert form.attrs["method"] == "post"
        assert form.one("input", name="csrf_token").attrs["value"]
    assert nav.one("a", aria_current="page").text() == "Overview"
    assert "Back to Reports" not in nav.text(), "no reports_url configured"


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDashboard]:
    """No licence (the Unable page still has the whole frame), the admin's own URLs set."""
    with running_dashboard(
        None,
        tmp_path_factory.mktemp("linked"),
        dashboard_url=DASHBOARD_URL,
        reports_url=REPORTS_URL,
    ) as dash:
        yield dash


def test_breadcrumb_and_back_to_reports_link_when_configured(linked: RunningDashboard) -> None:
    with signed_in(linked) as http:
        for path in ("/", "/help"):
            doc = parse(http.get(path).text)
            assert links(breadcrumb(doc)) == {"Dashboard": DASHBOARD_URL, "Reports": REPORTS_URL}
            assert links(doc.one("nav", cls="nav"))["Back to Reports"] == REPORTS_URL
    # Signed out, the sign-in page offers no way around it: no breadcrumb links, no nav.
    with linked.client() as http:
        doc = parse(http.get("/login").text)
        assert not doc.find_all("nav", cls="breadcrumb") and not doc.find_all("nav", cls="nav")
        assert DASHBOARD_URL not in http.get("/login").text


def test_card_titles_and_labels(reader: httpx.Client) -> None:
    doc = overview(reader)
    labels = {
        "account-title": ["Email", "License Type", "Domain", "Member Since"],
        "balance-title": ["Credits Used", "Tokens Used", "API Calls Made", "Images Processed"],
    }
    titles = {"account-title": "Account Overview", "balance-title": "Usage Statistics"}
    for title_id, expected in labels.items():
        section = card(doc, title_id)
        assert list(definitions(section)) == expected
        assert all(dd.text() for dd in definitions(section).values())
        assert section.one(id=title_id).text() == titles[title_id]
    # The balance leads the page, above the cards, with the runway.
    runway = card(doc, "runway-title")
    assert list(definitions(runway))[:2] == ["Current Balance", "Lasts"]
    assert doc.one(id="stats-freshness").text().startswith("As of ")
    # Pricing and the estimates are one table; one freshness line, no "(Live)"/"(Cached)".
    assert doc.one(id="pricing-title").text() == "Current API Pricing"
    assert doc.one(id="estimates-title").text() == "Estimated Usage Remaining"
    assert doc.one(id="pricing-freshness").text().startswith("Prices as of ")
    history = doc.one("section", aria_labelledby="history-title")
    assert doc.one(id="history-title").text() == "Complete Transaction History"
    assert [th.text() for th in history.one("table").find_all("th")] == [
        "Date (UTC)",
        "Type",
        "Service",
        "Amount",
        "Tokens",
        "Images",
        "Description",
    ]
    assert doc.one(id="cache-age").text().startswith("Cache: ")


def test_footer_status(reader: httpx.Client, reader_dashboard: RunningDashboard) -> None:
    reader.get("/")
    doc = overview(reader)  # the second view within 5 minutes: pricing comes from the cache
    status = footer(doc)
    assert status["API:"] == reader_dashboard.settings.api_url
    # Each piece of data says its own freshness; the timezone is stated once, no GMT offset.
    assert "Updated:" not in status
    assert status["Time zone:"] == "UTC"
    assert "GMT" not in doc.text()
    assert status["Pricing:"].startswith("Cached (")  # with the stored copy's age
    assert doc.one(id="pricing-freshness").attrs["data-source"] == "cached"
    assert status["Transactions:"].split(" (")[0] in ("Cached", "Live")
    bottom = doc.one("footer")
    assert "/actions/refresh" in form_actions(bottom)
    assert bottom.one("button").text() == "Refresh"
    assert links(bottom) == {"Help": "/help"}


def test_auto_refresh_contract_of_app_js(
    reader: httpx.Client, reader_dashboard: RunningDashboard
) -> None:
    page = reader.get("/")
    body = parse(page.text).one("body")
    assert body.attrs["data-auto-refresh"] == str(reader_dashboard.settings.auto_refresh_seconds)
    assert body.attrs["data-sync-url"] == "/actions/sync"
    sync = reader.post(
        body.attrs["data-sync-url"],
        headers={"x-csrf-token": page_csrf(page.text), "accept": "application/json"},
    )
    assert sync.status_code == 200 and sync.json()["ok"] is True
    help_body = parse(reader.get("/help").text).one("body")
    assert help_body.attrs["data-auto-refresh"] == "0", "only the overview refreshes itself"


def test_help_page(reader: httpx.Client) -> None:
    page = reader.get("/help")
    assert page.status_code == 200
    doc = parse(page.text)
    assert doc.one("nav", cls="nav").one("a", aria_current="page").text() == "Help"
    headings = [h.text() for h in doc.find_all("h2")]
    for expected in (
        "Viewing credit balance",
        "Downloading transaction history",
        "Troubleshooting",
    ):
        assert expected in headings
    assert "Unable to Load Account Data" in page.text


def test_a_page_of_300_rows_is_small_and_gzipped(reader: httpx.Client) -> None:
    page = reader.get("/", headers={"accept-encoding": "gzip"})
    assert page.status_code == 200
    assert page.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in page.headers["vary"].lower()
    doc = parse(page.text)
    assert len(doc.find_all("td", data_amount="*")) == 300
    # Lean rows (issue 11's dom-size): a row and its seven cells, and the date's <time>.
    body = doc.one(id="history-table").one("tbody")
    assert len(list(body.iter())) <= 1 + 300 * 9, "more than 9 elements per row"
    assert len(page.content) <= 300 * 1024, f"{len(page.content):,} bytes"
    compressed = int(page.headers["content-length"])
    assert compressed < len(page.content) / 4
    plain = reader.get("/", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert len(parse(plain.text).find_all("td", data_amount="*")) == 300


def test_static_files_are_versioned_and_served(reader: httpx.Client) -> None:
    doc = overview(reader)
    stylesheet = doc.one("link", rel="stylesheet").attrs["href"]
    script = doc.one("script").attrs["src"]
    for url, kind in ((stylesheet, "text/css"), (script, "javascript")):
        assert url.startswith("/static/") and "?v=" in url
        answer = reader.get(url)
        assert answer.status_code == 200
        assert kind in answer.headers["content-type"]
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
        again = reader.get(url, headers={"if-none-match": answer.headers["etag"]})
        assert again.status_code == 304
        assert again.headers["cache-control"] == "public, max-age=31536000, immutable"
    unversioned = reader.get(stylesheet.split("?")[0])
    assert unversioned.status_code == 200
    assert "immutable" not in unversioned.headers.get("cache-control", "")
    missing = reader.get("/static/app-next.css?v=0123456789ab")
    assert missing.status_code == 404
    assert missing.headers["cache-control"] == "no-store", "a 404 is not cached for a year"


def test_footer_says_live_when_the_view_fetched_the_history(
    seeded_server: RunningLicenseServer, tmp_path: Path
) -> None:
    with running_dashboard(seeded_server, tmp_path) as dash, signed_in(dash) as http:
        first = footer(overview(http))
        assert first["Pricing:"] == "Live"
        assert first["Transactions:"] == "Live", "the first view fetched the history"
        wait_synced(dash)
        assert footer(overview(http))["Transactions:"].startswith("Cached (")
