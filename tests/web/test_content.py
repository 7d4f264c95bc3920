"""What the overview shows for particular ledgers: none at all, a balance either side of the
low-balance line, long descriptions, and hostile upstream text."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tests.fixtures import RunningLicenseServer, running_license_server
from tests.support.dashboard import RunningDashboard, running_dashboard
from tests.web.pagetools import Node, balance, parse, rows, showing
from tests.web.support import signed_in

BUY_URL = "https://shop.example.test/buy?ref=dashboard&plan=credits"


@dataclass
class Setup:
    srv: RunningLicenseServer
    dash: RunningDashboard
    http: httpx.Client

    def add(self, type_: str, amount: str, description: str = "", service: str = "") -> None:
        self.srv.ledger.add_entry(
            self.srv.licence_id,
            type_,
            Decimal(amount),
            description=description,
            service_type=service,
        )

    def overview(self) -> tuple[Node, str]:
        page = self.http.get("/")
        assert page.status_code == 200, page.text
        return parse(page.text), page.text


@pytest.fixture
def blank(tmp_path: Path) -> Iterator[Setup]:
    """A licence with an empty ledger; the dashboard re-reads everything on every view."""
    with (
        running_license_server(f"sqlite:///{tmp_path / 'ls.sqlite3'}") as srv,
        running_dashboard(
            srv,
            tmp_path / "dash",
            account_ttl=0,
            transactions_ttl=0,
            buy_credits_url=BUY_URL,
        ) as dash,
        signed_in(dash) as http,
    ):
        yield Setup(srv, dash, http)


def banner(doc: Node) -> list[Node]:
    return doc.find_all("section", cls="low-balance")


def test_empty_ledger(blank: Setup) -> None:
    doc, _ = blank.overview()
    assert doc.one("p", cls="empty").text() == "No transaction history available"
    assert showing(doc) == "Showing 0-0 of 0 transactions (Page 1 of 1)"
    assert not rows(doc) and not doc.find_all(id="history-table")
    assert balance(doc) == 0


def test_low_balance_banner_is_strictly_below_one_dollar(blank: Setup) -> None:
    blank.add("purchase", "1.00", "Starter credits")
    doc, _ = blank.overview()
    assert balance(doc) == Decimal("1.00")
    assert not banner(doc), "exactly $1.00 is not low"
    assert "good" in doc.one("dd", data_balance="*").classes()

    blank.add("usage", "-0.01", "One small call")
    doc, _ = blank.overview()
    assert balance(doc) == Decimal("0.99")
    (warning,) = banner(doc)
    assert warning.one("h2").text() == "LOW BALANCE WARNING"
    assert "Your credit balance is below $1.00." in warning.text()
    link = warning.one("a")
    assert link.text() == "Click here to purchase credits"
    assert link.attrs["href"] == BUY_URL
    assert "bad" in doc.one("dd", data_balance="*").classes()

    blank.add("purchase", "0.01", "Back to one dollar")
    doc, _ = blank.overview()
    assert balance(doc) == Decimal("1.00") and not banner(doc)


def test_descriptions_are_whole_for_css_to_fit(blank: Setup) -> None:
    """The manual's 50 characters are a minimum: the cell holds the whole text and CSS cuts
    it at the column's width (an ellipsis), so a wide screen shows more of it."""
    exactly = "x" * 49 + "y"
    longer = "0123456789" * 5 + " and the rest, shown when there is room"
    blank.add("purchase", "5.00", exactly)
    blank.add("purchase", "5.00", longer)
    doc, _ = blank.overview()
    newest, oldest = (row.find_all("td")[6] for row in rows(doc))
    assert oldest.text() == exactly and not oldest.find_all("span")
    assert newest.text() == longer and not newest.find_all("span")
    assert newest.classes() == {"desc"}


def test_upstream_text_is_escaped(blank: Setup) -> None:
    script = "<script>alert(1)</script>"
    image = '"><img src=x onerror=alert(2)>'
    blank.add("purchase", "2.00", f"Hello {script} and a long enough tail to be cut", image)
    blank.add("purchase", "2.00", script, "Credits & more")
    for path in ("/", "/debug", "/?debug=1"):
        html = blank.http.get(path).text
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "onerror=alert(2)>" not in html.replace("onerror=alert(2)&gt;", "")
    doc, html = blank.overview()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    cells = [row.find_all("td") for row in rows(doc)]
    assert cells[0][6].text() == script
    assert cells[0][2].text() == "Credits & more"
    assert cells[1][2].text() == image
    assert doc.find_all("script") == [doc.one("script", src="*")]
