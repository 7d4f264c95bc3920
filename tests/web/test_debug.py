"""Debug API (`/debug` and the manual's `/?debug=1`): configuration with the key truncated,
the store's status, and the raw answers of the calls with their status and latency."""

from __future__ import annotations

import json
import re
from urllib.parse import quote, quote_plus

import httpx
import pytest

from tests.fixtures import RunningLicenseServer
from tests.support.dashboard import RunningDashboard, wait_synced
from tests.web.pagetools import Node, card, definitions, parse

SECTIONS = (
    "USER INFO response",
    "USER STATS response",
    "First 5 transactions (credits/history)",
)


def debug_page(client: httpx.Client, path: str) -> tuple[Node, str]:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return parse(page.text), page.text


def section(doc: Node, title: str) -> Node:
    (heading,) = [h for h in doc.find_all("h2") if h.text() == title]
    return doc.one("section", aria_labelledby=heading.attrs["id"])


@pytest.mark.parametrize("path", ["/debug", "/?debug=1"])
def test_configuration_and_store_status(
    reader: httpx.Client,
    reader_dashboard: RunningDashboard,
    seeded_server: RunningLicenseServer,
    path: str,
) -> None:
    reader.get("/")
    wait_synced(reader_dashboard)  # the mirror exists
    doc, _ = debug_page(reader, path)
    config = {k: v.text() for k, v in definitions(card(doc, "config-title")).items()}
    assert config["API Base URL"] == reader_dashboard.settings.api_url
    key = seeded_server.key
    assert config["License Key (truncated)"] == f"{key[:4]}…{key[-4:]}"
    assert config["Domain"] == seeded_server.domain
    assert config["Email"] == seeded_server.email
    store = {k: v.text() for k, v in definitions(card(doc, "store-title")).items()}
    assert store["Local store"].endswith("tokenusage.sqlite3 (sqlite)")
    assert "fresh for 300 s" in store["Pricing cache"]
    assert "fresh for 3600 s; 1,200 rows" in store["Transaction cache"]
    assert doc.one("nav", cls="nav").one("a", href="/debug").attrs["aria-current"] == "page"


@pytest.mark.parametrize("path", ["/debug", "/?debug=1"])
def test_raw_answers_with_status_and_latency(
    reader: httpx.Client, seeded_server: RunningLicenseServer, path: str
) -> None:
    doc, _ = debug_page(reader, path)
    stats = seeded_server.ledger.stats(seeded_server.licence_id)
    newest = seeded_server.ledger.history(seeded_server.licence_id, limit=5)["transactions"]
    for title in SECTIONS:
        part = section(doc, title)
        fields = {k: v.text() for k, v in definitions(part).items()}
        assert fields["Status"] == "200"
        assert "status-ok" in definitions(part)["Status"].classes()
        assert re.fullmatch(r"[\d,]+ ms, 1 attempt", fields["Latency"]), fields["Latency"]
        assert fields["Request"].startswith("GET " + seeded_server.base_url)
        body = json.loads(part.one("pre").text())
        payload = body.get("data", body)
        if title == "USER STATS response":
            assert payload == stats
        elif title == "USER INFO response":
            assert payload["email"] == seeded_server.email
        else:
            assert "limit=5" in fields["Request"]
            assert payload["transactions"] == newest
            assert payload["total"] == 1200


def test_raw_unbranded_text_only_on_the_debug_page(reader: httpx.Client) -> None:
    _, debug_html = debug_page(reader, "/debug")
    assert "answered by gpt-4o" in debug_html
    assert "via google (gemini-1.5-pro)" in debug_html
    for path in ("/", "/?page=2", "/?page=4", "/help"):
        # The service filter's values are service types as the API gives them (they go back
        # into the URL); what the page shows of them is branded.
        page = reader.get(path).text
        assert 'name="service"' in page or path == "/help"
        html = re.sub(r'name="service" value="[^"]*"', "", page)
        assert "gpt-4o" not in html and "gemini-1.5" not in html, path
        assert "via CTZ-AI" in html or path == "/help"


def test_the_full_licence_key_appears_on_no_page(
    reader: httpx.Client, reader_dashboard: RunningDashboard, seeded_server: RunningLicenseServer
) -> None:
    key = seeded_server.key
    forms = {key, quote(key, safe=""), quote_plus(key), key.lower()}
    answers = [
        reader.get(path)
        for path in ("/", "/?page=3", "/debug", "/?debug=1", "/help", "/no-such-page")
    ]
    answers.append(reader.get("/no-such-page", headers={"accept": "application/json"}))
    answers.append(reader.get("/download.csv"))
    with reader_dashboard.client() as anonymous:
        answers.append(anonymous.get("/login"))
    assert {a.status_code for a in answers} == {200, 404}
    for answer in answers:
        for form in forms:
            assert form not in answer.text, answer.url
            assert form not in str(answer.headers), answer.url
