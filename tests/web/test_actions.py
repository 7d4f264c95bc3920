"""The buttons that change something, against a real ledger that changes under the dashboard:
Refresh Data, Update Pricing, Clear Cache and the auto-refresh's sync.

The module shares one server and dashboard; each test reads what it expects from the ledger
as it is at that moment, so the tests do not depend on their order.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import parse_qs

import httpx
import pytest

from tests.fixtures import RunningLicenseServer, running_license_server
from tests.service.conftest import CountingTransport
from tests.support.dashboard import (
    RunningDashboard,
    identity_of,
    running_dashboard,
    wait_synced,
)
from tests.web.pagetools import (
    Node,
    amounts,
    balance,
    flashes,
    footer,
    page_csrf,
    parse,
    rows,
    showing,
)
from tests.web.support import ledger_amounts, ledger_rows, signed_in
from tokenusage.licenseserver.ledger import DEFAULT_PRICES
from tokenusage.store import MirrorStatus, Store
from tokenusage.usage.fmt import format_int


@dataclass
class Recorder:
    """The query strings of every credits/history call the dashboard made."""

    history: list[dict[str, list[str]]] = field(default_factory=list)

    async def __call__(self, request: httpx.Request, _n: int) -> httpx.Request:
        if request.url.path.endswith("credits/history"):
            self.history.append(parse_qs(request.url.query.decode()))
        return request


@dataclass
class Setup:
    srv: RunningLicenseServer
    dash: RunningDashboard
    http: httpx.Client
    recorder: Recorder
    token: str

    def post(self, path: str, **headers: str) -> httpx.Response:
        return self.http.post(path, data={"csrf_token": self.token}, headers=headers)

    def view(self, query: str = "") -> Node:
        page = self.http.get("/" + query)
        assert page.status_code == 200, page.text
        wait_synced(self.dash)  # a cold view answers before the whole mirror is written
        return parse(page.text)

    def mirror(self) -> MirrorStatus:
        with Store.open(self.dash.settings.store_url) as store:
            return store.mirror_status(identity_of(self.dash.settings))


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    tmp = tmp_path_factory.mktemp("actions")
    recorder = Recorder()
    with (
        running_license_server(f"sqlite:///{tmp / 'ls.sqlite3'}", transactions=1200) as srv,
        running_dashboard(srv, tmp / "dash", transport=CountingTransport(rewrite=recorder)) as dash,
        signed_in(dash) as http,
    ):
        token = page_csrf(http.get("/").text)
        yield Setup(srv, dash, http, recorder, token)


def test_refresh_data_flashes_once(setup: Setup) -> None:
    answer = setup.post("/actions/refresh")
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    assert flashes(setup.view()) == [("success", "Data refreshed successfully")]
    assert flashes(setup.view()) == []


def test_a_purchase_appears_after_refresh_data(setup: Setup) -> None:
    setup.view()
    invoice = f"Credit purchase, invoice INV-{uuid.uuid4().hex[:8]}"
    setup.srv.ledger.add_entry(
        setup.srv.licence_id, "purchase", Decimal("12.34"), description=invoice
    )
    before = setup.view()
    assert invoice not in before.text(), "the mirror is fresh for an hour: no upstream call"

    assert setup.post("/actions/refresh").status_code == 303
    doc = setup.view()
    ledger = ledger_rows(setup.srv)
    stats = setup.srv.ledger.stats(setup.srv.licence_id)
    assert balance(doc) == Decimal(stats["balance"])
    assert balance(doc) - balance(before) == Decimal("12.34")
    first = rows(doc)[0]
    assert first.find_all("td")[6].text() == invoice
    assert amounts(doc) == ledger_amounts(ledger[:300])
    total = len(ledger)
    pages = -(-total // 300)
    assert showing(doc) == (
        f"Showing 1-300 of {format_int(total, 'en')} transactions (Page 1 of {pages})"
    )
    last = setup.view(f"?page={pages}")
    on_last = total - (pages - 1) * 300
    assert len(rows(last)) == on_last
    assert amounts(last) == ledger_amounts(ledger[(pages - 1) * 300 :])
    assert showing(last).startswith(
        f"Showing {format_int((pages - 1) * 300 + 1, 'en')}-{format_int(total, 'en')} of "
    )


def test_update_pricing_fetches_the_new_price(setup: Setup) -> None:
    setup.view()
    image_price = Decimal(f"7.{uuid.uuid4().int % 90 + 10}")
    setup.srv.ledger.set_pricing(DEFAULT_PRICES | {"image_processing_per_10k": image_price})
    shown = f"${image_price}"
    assert shown not in setup.view().one(aria_labelledby="pricing-title").text()

    answer = setup.post("/actions/update-pricing")
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    doc = setup.view()
    assert flashes(doc) == [("success", "Pricing cache cleared. Latest prices will be fetched.")]
    assert doc.one(aria_labelledby="pricing-title").text().count(shown) == 1


def test_clear_cache_removes_the_mirror_and_the_next_view_resyncs(setup: Setup) -> None:
    assert setup.post("/actions/refresh").status_code == 303
    setup.view()
    mirrored = setup.mirror()
    assert mirrored.present and mirrored.rows == len(ledger_rows(setup.srv))

    answer = setup.http.post(
        "/actions/clear-cache", data={"csrf_token": setup.token, "confirm": "1"}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    assert not setup.mirror().present
    calls = len(setup.recorder.history)
    doc = setup.view()
    count = format_int(mirrored.rows, "en")
    expected = f"Cleared {count} cached transactions. Fresh data will be fetched."
    assert flashes(doc) == [("success", expected)]
    assert setup.recorder.history[calls:], "the view after Clear Cache fetches the history"
    assert setup.mirror().present and setup.mirror().rows == mirrored.rows
    assert showing(doc).startswith(f"Showing 1-300 of {format_int(mirrored.rows, 'en')} ")


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_clear_cache_without_confirm_clears_nothing(setup: Setup, accept: str) -> None:
    """A bare POST with a valid CSRF token is refused (400) and the mirror stays. A browser
    gets a page that explains and offers the confirmed form (the path without scripts)."""
    setup.view()
    before = setup.mirror()
    assert before.present and before.rows
    for data in ({"csrf_token": setup.token}, {"csrf_token": setup.token, "confirm": "yes"}):
        answer = setup.http.post("/actions/clear-cache", data=data, headers={"accept": accept})
        assert answer.status_code == 400
        assert setup.mirror() == before
        message = (
            "Nothing was cleared: Clear Cache deletes every stored transaction, so it needs a "
            "confirmation (confirm=1 in the form)."
        )
        if accept == "application/json":
            assert answer.json() == {"ok": False, "error": message}
            continue
        doc = parse(answer.text)
        assert doc.one(id="confirm-message").text() == message
        form = doc.one("main").one("form", action="/actions/clear-cache")
        assert form.one("input", name="confirm").attrs["value"] == "1"
        assert form.one("input", name="csrf_token").attrs["value"] == setup.token
    assert flashes(setup.view()) == []


def test_the_nav_asks_before_clearing(setup: Setup) -> None:
    """The nav's Clear Cache has the danger style and opens the dialog (app.js); the dialog's
    form is the one that says confirm=1."""
    doc = setup.view()
    bare = doc.one("nav", cls="nav").one("form", action="/actions/clear-cache")
    assert bare.attrs["data-confirm"] == "clear-dialog"
    assert not bare.find_all("input", name="confirm")
    assert "danger" in bare.one("button").classes()
    dialog = doc.one("dialog", id="clear-dialog")
    confirmed = dialog.one("form", action="/actions/clear-cache")
    assert confirmed.one("input", name="confirm").attrs["value"] == "1"


@pytest.mark.parametrize("how", ["header", "form"])
def test_sync_appends_new_rows_without_a_full_resync(setup: Setup, how: str) -> None:
    setup.view()
    before = setup.mirror()
    assert before.present and before.newest_id is not None
    tag = uuid.uuid4().hex[:8]
    for n in range(3):
        setup.srv.ledger.add_entry(
            setup.srv.licence_id,
            "usage",
            Decimal("-0.25"),
            service_type="Image processing",
            description=f"sync test {tag} #{n}",
            images=500,
        )
    calls = len(setup.recorder.history)
    if how == "header":
        answer = setup.http.post(
            "/actions/sync", headers={"x-csrf-token": setup.token, "accept": "application/json"}
        )
    else:
        answer = setup.post("/actions/sync")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"ok": True, "problems": []}
    made = setup.recorder.history[calls:]
    assert made and all("after_id" in query for query in made), made
    assert made[0]["after_id"] == [str(before.newest_id)]
    after = setup.mirror()
    assert after.rows == before.rows + 3
    assert after.full_synced_at == before.full_synced_at
    doc = setup.view()
    assert [r.find_all("td")[6].text() for r in rows(doc)[:3]] == [
        f"sync test {tag} #{n}" for n in (2, 1, 0)
    ]
    assert balance(doc) == Decimal(setup.srv.ledger.stats(setup.srv.licence_id)["balance"])


def test_actions_answer_json_to_scripts(setup: Setup) -> None:
    answer = setup.post("/actions/refresh", accept="application/json")
    assert answer.status_code == 200
    assert answer.json() == {
        "ok": True,
        "messages": [{"level": "success", "text": "Data refreshed successfully"}],
        "problems": [],
    }
    assert flashes(setup.view()) == [], "a JSON answer leaves no flash behind"


@pytest.mark.parametrize("action", ["/actions/update-pricing", "/actions/refresh"])
def test_the_page_an_action_lands_on_says_live(setup: Setup, action: str) -> None:
    setup.view()  # the prices are stored and fresh: a plain view shows them as cached
    assert setup.view().one(id="pricing-freshness").attrs["data-source"] == "cached"
    assert setup.post(action).status_code == 303
    landed = setup.view()
    assert landed.one(id="pricing-freshness").attrs["data-source"] == "live"
    assert footer(landed)["Pricing:"] == "Live"
    again = setup.view()
    assert again.one(id="pricing-freshness").attrs["data-source"] == "cached"
