"""Download History: the complete ledger as CSV, and the manual's messages when there is
nothing to download or nothing could be fetched."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tests.fixtures import RunningLicenseServer, running_license_server
from tests.service.conftest import CountingTransport
from tests.support.dashboard import running_dashboard
from tests.support.pgcluster import free_port
from tests.web.pagetools import flashes, parse
from tests.web.support import Outage, ledger_rows, signed_in
from tokenusage.usage.branding import brand

HEADER = [
    "Date",
    "Transaction Type",
    "Service Type",
    "Amount",
    "Tokens Used",
    "Images Processed",
    "Description",
]


def read_csv(answer: httpx.Response) -> list[list[str]]:
    assert answer.status_code == 200, answer.text
    assert answer.content.startswith("\ufeff".encode()), "UTF-8 BOM for Excel"
    return list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"), newline="")))


def test_csv_is_the_whole_ledger(reader: httpx.Client, seeded_server: RunningLicenseServer) -> None:
    before = datetime.now(UTC).date()  # the default business timezone
    answer = reader.get("/download.csv")
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    names = {
        f'attachment; filename="transactions_{seeded_server.domain}_{day.isoformat()}.csv"'
        for day in (before, datetime.now(UTC).date())
    }
    assert answer.headers["content-disposition"] in names
    assert answer.headers["cache-control"] == "no-store"
    table = read_csv(answer)
    assert table[0] == HEADER
    body = table[1:]
    ledger = ledger_rows(seeded_server)
    assert len(body) == len(ledger) == 1200
    assert all(len(row) == 7 for row in body)
    assert sum(Decimal(row[3]) for row in body) == sum(Decimal(r["amount"]) for r in ledger)
    assert sum(Decimal(row[3]) for row in body) == Decimal(
        seeded_server.ledger.stats(seeded_server.licence_id)["balance"]
    )
    for row, entry in zip(body, ledger, strict=True):
        assert datetime.fromisoformat(row[0]) == datetime.fromisoformat(
            entry["created_at"].replace("Z", "+00:00")
        )
        assert row[1] == entry["type"]
        assert row[2] == brand(entry["service_type"])
        assert Decimal(row[3]) == Decimal(entry["amount"])
        assert int(row[4]) == entry["tokens_used"] and int(row[5]) == entry["images_processed"]
        assert row[6] == brand(entry["description"])
    assert not any("gpt-4o" in row[6] for row in body), "descriptions are branded"


@pytest.fixture
def blank(tmp_path: Path) -> Iterator[tuple[RunningLicenseServer, httpx.Client]]:
    with (
        running_license_server(f"sqlite:///{tmp_path / 'ls.sqlite3'}") as srv,
        running_dashboard(srv, tmp_path / "dash", transactions_ttl=0) as dash,
        signed_in(dash) as http,
    ):
        yield srv, http


def test_empty_ledger_redirects_with_the_manuals_message(
    blank: tuple[RunningLicenseServer, httpx.Client],
) -> None:
    _, http = blank
    answer = http.get("/download.csv")
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    doc = parse(http.get("/").text)
    assert flashes(doc) == [("info", "No transaction history available to download.")]


def test_text_cells_cannot_become_formulas(
    blank: tuple[RunningLicenseServer, httpx.Client],
) -> None:
    srv, http = blank
    formula = '=HYPERLINK("https://evil.example","click")'
    srv.ledger.add_entry(
        srv.licence_id, "usage", Decimal("-0.25"), service_type="@SUM(A1)", description=formula
    )
    srv.ledger.add_entry(srv.licence_id, "purchase", Decimal("10.00"), description="Top-up")
    table = read_csv(http.get("/download.csv"))
    assert table[1][3] == "10.00" and table[1][6] == "Top-up"
    assert table[2][2] == "'@SUM(A1)"
    assert table[2][3] == "-0.25", "amounts stay numbers"
    assert table[2][6] == "'" + formula


def test_api_down_and_no_stored_copy(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/api.php"
    with (
        running_dashboard(
            None,
            tmp_path,
            license_key="CTZ-NOPE-0000-1111-2222",
            license_domain="shop.example.com",
            license_email="owner@example.com",
            api_url=dead,
        ) as dash,
        signed_in(dash) as http,
    ):
        answer = http.get("/download.csv")
        assert answer.status_code == 303 and answer.headers["location"] == "/"
        shown = flashes(parse(http.get("/help").text))
        assert shown[0] == ("error", "Failed to fetch data for download. Please try again.")
        assert shown[1][0] == "error"
        assert shown[1][1].startswith("Cannot reach the License API: Failed to connect to")


def test_api_down_with_a_stored_copy_still_downloads(
    seeded_server: RunningLicenseServer, tmp_path: Path
) -> None:
    outage = Outage()
    with (
        running_dashboard(
            seeded_server,
            tmp_path,
            transport=CountingTransport(rewrite=outage),
            transactions_ttl=0,
        ) as dash,
        signed_in(dash) as http,
    ):
        assert len(read_csv(http.get("/download.csv"))) == 1201
        outage.down = True
        assert len(read_csv(http.get("/download.csv"))) == 1201
