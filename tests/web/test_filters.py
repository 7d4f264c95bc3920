"""The history's filters end to end against the seeded ledger: GET parameters select the rows,
bad values are shown and never fail the page, the CSV exports exactly the matching rows."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.fixtures import SEED_END, RunningLicenseServer
from tests.web.pagetools import amounts, parse, rows, showing
from tests.web.support import ledger_rows
from tokenusage.usage.fmt import format_money


@pytest.fixture(scope="module")
def ledger(seeded_server: RunningLicenseServer) -> list[dict[str, Any]]:
    return ledger_rows(seeded_server)


def day_of(row: dict[str, Any]) -> Any:
    stamp = row["created_at"]
    moment = stamp if isinstance(stamp, datetime) else datetime.fromisoformat(str(stamp))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).date()


def test_type_and_date_filters_select_the_rows(
    reader: httpx.Client, ledger: list[dict[str, Any]]
) -> None:
    today = SEED_END.date()  # the seeded ledger's last day
    first = today - timedelta(days=9)
    query = f"?from={first}&to={today}&type=usage&type=refund"
    doc = parse(reader.get("/" + query).text)
    expected = [
        r for r in ledger if r["type"] in ("usage", "refund") and first <= day_of(r) <= today
    ]
    shown = showing(doc)
    assert shown.startswith(f"Showing 1-{min(300, len(expected)):,} of {len(expected):,} matching")
    assert amounts(doc) == [Decimal(str(r["amount"])) for r in expected[:300]]
    total = sum((Decimal(str(r["amount"])) for r in expected), Decimal(0))
    assert total < 0
    assert doc.one(id="matching-total").text().endswith(": " + format_money(total, "USD", "en"))
    assert len(doc.one(id="spend-chart").find_all("g", cls="bar")) == 10


def test_search_matches_descriptions_and_services(
    reader: httpx.Client, ledger: list[dict[str, Any]]
) -> None:
    doc = parse(reader.get("/?q=Starter").text)
    expected = [
        r
        for r in ledger
        if "starter" in r["description"].lower() or "starter" in r["service_type"].lower()
    ]
    assert len(rows(doc)) == min(300, len(expected))
    assert "search: “Starter”" in doc.one(id="filter-summary").text()


@pytest.mark.parametrize(
    "query",
    [
        "?from=2026-02-30",
        "?from=0001-01-05&to=0001-01-08",
        "?from=1900-01-01&to=9999-12-31",
        "?from=yesterday&to=%00",
        "?type=bogus&type=usage",
        "?q=" + "x" * 500,
        "?from=2026-12-01&to=2026-01-01",
        "?service=" + "%ff" * 10,
        "?page=-1&type=",
    ],
)
def test_bad_values_are_said_not_raised(reader: httpx.Client, query: str) -> None:
    response = reader.get("/" + query)
    assert response.status_code == 200
    assert "Traceback" not in response.text
    doc = parse(response.text)
    assert doc.one(id="showing")
    if query not in ("?page=-1&type=", "?service=" + "%ff" * 10):
        assert doc.one(id="filter-errors").text()


@pytest.mark.parametrize(
    ("language", "said"),
    [
        (
            "en",
            [
                "Some filter values could not be used as given:",
                "The start date (2026-11-01) was after the end date (2026-10-01), so the two "
                "were swapped.",
                "Type: “bogus” is not usage, purchase or refund, so it was left out.",
            ],
        ),
        (
            "pt-BR",
            [
                "Alguns valores de filtro não puderam ser usados como foram informados:",
                "A data inicial (2026-11-01) era posterior à data final (2026-10-01), por isso "
                "as duas foram trocadas.",
                "Tipo: “bogus” não é uso, compra nem reembolso, por isso foi ignorado.",
            ],
        ),
    ],
)
def test_filter_notes_say_what_the_page_did_in_the_readers_language(
    reader: httpx.Client, language: str, said: list[str]
) -> None:
    query = "/?from=2026-11-01&to=2026-10-01&type=bogus"
    doc = parse(reader.get(query, headers={"Accept-Language": language}).text)
    box = doc.one(id="filter-errors")
    assert [box.one("p").text(), *(li.text() for li in box.find_all("li"))] == said
    # The dates were used, swapped: the page's own filter form shows them in order.
    assert doc.one("input", id="filter-from").attrs["value"] == "2026-10-01"
    assert doc.one("input", id="filter-to").attrs["value"] == "2026-11-01"


def test_a_day_no_chart_can_hold_is_said_with_the_fields_name(reader: httpx.Client) -> None:
    doc = parse(reader.get("/?to=9999-12-31", headers={"Accept-Language": "pt-BR"}).text)
    assert [li.text() for li in doc.one(id="filter-errors").find_all("li")] == [
        "Até: 9999-12-31 não está entre 1900-01-01 e 2999-12-31, por isso foi ignorado."
    ]


def test_a_service_no_transaction_names_is_said(
    reader: httpx.Client, ledger: list[dict[str, Any]]
) -> None:
    known = ledger[0]["service_type"]
    doc = parse(reader.get("/", params=[("service", known), ("service", "nosuch")]).text)
    notes = [li.text() for li in doc.one(id="filter-errors").find_all("li")]
    assert notes == ["Service: no transaction names “nosuch”, so nothing matches it."]
    doc = parse(reader.get("/", params={"service": known}).text)
    assert not doc.find_all(id="filter-errors")


def test_a_download_with_bad_filters_is_not_made(reader: httpx.Client) -> None:
    """Not the whole history under a filtered name: back to the page, which says why."""
    response = reader.get("/download.csv?type=bogus&debug=1&from=2026-02-30")
    assert response.status_code == 303
    assert response.headers["location"] == "/?type=bogus&from=2026-02-30#history"
    doc = parse(reader.get(response.headers["location"]).text)
    assert "Nothing was downloaded" in doc.text()
    notes = [li.text() for li in doc.one(id="filter-errors").find_all("li")]
    assert any("bogus" in n for n in notes) and any("2026-02-30" in n for n in notes)


def test_filtered_download_is_exactly_the_matching_rows(
    reader: httpx.Client, ledger: list[dict[str, Any]]
) -> None:
    response = reader.get("/download.csv?type=purchase")
    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    assert disposition.endswith('_filtered.csv"'), disposition
    records = list(csv.reader(io.StringIO(response.content[3:].decode(), newline="")))[1:]
    expected = [r for r in ledger if r["type"] == "purchase"]
    assert [Decimal(r[3]) for r in records] == [Decimal(str(r["amount"])) for r in expected]
    whole = reader.get("/download.csv")
    assert "filtered" not in whole.headers["content-disposition"]


def test_a_filtered_download_with_nothing_to_export_goes_back_to_the_filter(
    reader: httpx.Client,
) -> None:
    response = reader.get("/download.csv?q=no-such-thing-anywhere")
    assert response.status_code == 303
    assert response.headers["location"] == "/?q=no-such-thing-anywhere#history"
    doc = parse(reader.get(response.headers["location"]).text)
    assert doc.one(data_flash="info").text() == "No transactions match these filters."


def test_a_long_range_page_stays_small(reader: httpx.Client) -> None:
    """92 daily bars, every service, 300 rows: still under 300 KB."""
    today = SEED_END.date()
    page = reader.get(f"/?from={today - timedelta(days=91)}&to={today}")
    assert len(rows(parse(page.text))) == 300
    assert len(page.content) <= 300 * 1024, f"{len(page.content):,} bytes"
