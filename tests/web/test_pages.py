"""The overview against the reference server's 1,200-transaction ledger: every number on the
page checked against the ledger, page by page."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.fixtures import RunningLicenseServer
from tests.web.pagetools import (
    Node,
    amounts,
    balance,
    card,
    definitions,
    parse,
    row_times,
    rows,
    showing,
    stat,
)
from tests.web.support import ledger_amounts, ledger_rows
from tokenusage.licenseserver.ledger import PRICE_FIELDS
from tokenusage.usage.branding import brand
from tokenusage.usage.estimates import estimate_remaining
from tokenusage.usage.fmt import format_int, format_money, format_money_fixed, money_places

PER_PAGE = 300


@pytest.fixture(scope="module")
def ledger(seeded_server: RunningLicenseServer) -> list[dict[str, Any]]:
    return ledger_rows(seeded_server)


def overview(client: httpx.Client, query: str = "") -> Node:
    page = client.get("/" + query)
    assert page.status_code == 200, page.text
    return parse(page.text)


def instants(values: list[str]) -> list[datetime]:
    return [datetime.fromisoformat(value.replace("Z", "+00:00")) for value in values]


def test_statistics_are_the_ledgers(
    reader: httpx.Client, seeded_server: RunningLicenseServer
) -> None:
    doc = overview(reader)
    expected = seeded_server.ledger.stats(seeded_server.licence_id)
    assert balance(doc) == Decimal(expected["balance"])
    assert Decimal(stat(doc, "credits_used")) == Decimal(expected["credits_used"])
    assert int(stat(doc, "tokens_used")) == expected["tokens_used"]
    assert int(stat(doc, "api_calls")) == expected["api_calls"]
    assert int(stat(doc, "images_processed")) == expected["images_processed"]
    figures = definitions(card(doc, "balance-title"))
    assert figures["Tokens Used"].text() == format_int(expected["tokens_used"], "en")
    assert figures["API Calls Made"].text() == format_int(expected["api_calls"], "en")
    # The headline balance and Credits Used read at cents; the exact value is one hover or
    # focus away (a focusable <data>), and stays in the value and data- attributes.
    for dd, raw in (
        (doc.one("dd", data_balance="*"), expected["balance"]),
        (doc.one("dd", data_stat="credits_used"), expected["credits_used"]),
    ):
        exact = Decimal(raw)
        money = dd.one("data")
        assert Decimal(money.attrs["value"]) == exact
        cents = format_money_fixed(exact, "USD", "en", 2)
        assert cents.count(".") == 1 and len(cents.split(".")[1]) == 2, cents
        if Decimal(cents.lstrip("$").replace(",", "")) != exact:
            assert money.attrs["tabindex"] == "0"
            whole = money.one("span", cls="exact-value").text()
            assert Decimal(whole.lstrip("$").replace(",", "")) == exact, "every digit"
            assert dd.text() == cents + whole
        else:
            assert dd.text() == cents and not money.find_all("span")
    assert "good" in doc.one("dd", data_balance="*").classes()  # $8.67: green


def test_first_page_is_the_newest_300(reader: httpx.Client, ledger: list[dict[str, Any]]) -> None:
    doc = overview(reader)
    assert showing(doc) == "Showing 1-300 of 1,200 transactions (Page 1 of 4)"
    assert len(rows(doc)) == PER_PAGE
    page_rows = ledger[:PER_PAGE]
    assert amounts(doc) == ledger_amounts(page_rows)
    assert sum(amounts(doc)) == sum(ledger_amounts(page_rows))
    assert instants(row_times(doc)) == instants([row["created_at"] for row in page_rows])


@pytest.mark.parametrize("page", [2, 3, 4])
def test_each_page_shows_its_slice_of_the_ledger(
    reader: httpx.Client, ledger: list[dict[str, Any]], page: int
) -> None:
    doc = overview(reader, f"?page={page}")
    first, last = (page - 1) * PER_PAGE + 1, page * PER_PAGE
    assert showing(doc) == (
        f"Showing {format_int(first, 'en')}-{format_int(last, 'en')} of 1,200 transactions "
        f"(Page {page} of 4)"
    )
    expected = ledger[first - 1 : last]
    assert len(rows(doc)) == len(expected) == PER_PAGE
    assert sum(amounts(doc)) == sum(ledger_amounts(expected))
    assert amounts(doc) == ledger_amounts(expected)


@pytest.mark.parametrize(
    ("query", "lands_on"),
    [
        ("?page=0", 1),
        ("?page=-3", 1),
        ("?page=999", 4),
        ("?page=abc", 1),
        ("?page=", 1),
        ("?page=2.5", 1),
        ("?page=%00", 1),
        ("?page=" + "9" * 40, 4),
    ],
)
def test_any_page_number_lands_on_a_real_page(
    reader: httpx.Client, ledger: list[dict[str, Any]], query: str, lands_on: int
) -> None:
    doc = overview(reader, query)
    assert showing(doc).endswith(f"(Page {lands_on} of 4)")
    current = doc.one(id="pager-bottom").one("span", cls="current")
    assert current.text() == str(lands_on)
    offset = (lands_on - 1) * PER_PAGE
    assert amounts(doc) == ledger_amounts(ledger[offset : offset + PER_PAGE])


@pytest.mark.parametrize("where", ["pager-top", "pager-bottom"])
def test_pager_links(reader: httpx.Client, where: str) -> None:
    """A pager above the table and one below; their links lead back to the table."""
    first = overview(reader).one("nav", id=where)
    assert not first.find_all("a", rel="prev")
    assert first.one("a", rel="next").attrs["href"] == "/?page=2#history"
    assert [a.attrs["href"] for a in first.find_all("a", aria_label="*")] == [
        "/?page=2#history",
        "/?page=3#history",
        "/?page=4#history",
    ]
    last = overview(reader, "?page=4").one("nav", id=where)
    assert last.one("a", rel="prev").attrs["href"] == "/?page=3#history"
    assert not last.find_all("a", rel="next")


def test_rows_show_type_amount_and_branded_text(
    reader: httpx.Client, ledger: list[dict[str, Any]]
) -> None:
    doc = overview(reader, "?page=2")
    expected = ledger[PER_PAGE : 2 * PER_PAGE]
    places = {len(row.find_all("td")[3].text().split(".")[1]) for row in rows(doc)}
    assert len(places) == 1, f"one precision for the whole Amount column: {places}"
    [digits] = places
    assert digits == max(money_places(Decimal(e["amount"]), 2) for e in expected)
    kinds = set()
    for row, entry in zip(rows(doc), expected, strict=True):
        cells = row.find_all("td")
        assert len(cells) == 7
        assert row.attrs["data-id"] == str(entry["id"])
        # Usage is the normal case and carries no mark; purchases and refunds do.
        assert row.classes() == (set() if entry["type"] == "usage" else {entry["type"]})
        assert cells[1].text() == entry["type"]
        kinds.add(entry["type"])
        service = brand(entry["service_type"])
        assert cells[2].text() == service.removesuffix(" (ComusThumbz AI)")
        assert cells[2].attrs.get("title", service) == service
        amount = Decimal(entry["amount"])
        assert Decimal(cells[3].attrs["data-amount"]) == amount
        assert cells[3].text() == ("+" if amount > 0 else "") + format_money_fixed(
            amount, "USD", "en", digits
        )
        assert cells[4].text() == format_int(entry["tokens_used"], "en")
        assert cells[5].text() == format_int(entry["images_processed"], "en")
        # The whole description (CSS cuts it to the column's width), no extra elements.
        assert cells[6].text() == brand(entry["description"])
        assert not cells[6].find_all("span")
        split = [entry.get(k) for k in ("input_tokens", "completion_tokens", "cached_tokens")]
        assert row.attrs["data-split"] == " ".join("" if n is None else str(n) for n in split)
    assert "usage" in kinds and len(kinds) > 1, kinds


def test_account_pricing_and_estimates(
    reader: httpx.Client, seeded_server: RunningLicenseServer
) -> None:
    doc = overview(reader)
    licence = seeded_server.ledger.find_licence(seeded_server.key)
    assert licence is not None
    account = {k: v.text() for k, v in definitions(card(doc, "account-title")).items()}
    assert account == {
        "Email": licence.email,
        "License Type": licence.license_type,
        "Domain": licence.domain,
        "Member Since": licence.member_since.strftime("%b %-d, %Y"),
    }
    current = seeded_server.ledger.current_pricing()
    prices = {field: Decimal(current[field]) for field in PRICE_FIELDS}
    # One table: each service's price next to what the balance buys of it at that price.
    table = card(doc, "pricing-title").one("table", cls="prices")
    assert doc.one(id="estimates-title").text() == "Estimated Usage Remaining"
    shown = {
        tr.one("th").text(): [td.text() for td in tr.find_all("td")]
        for tr in table.one("tbody").find_all("tr")
    }
    estimates = estimate_remaining(
        balance(doc),
        image_per_10k=prices["image_processing_per_10k"],
        input_per_1m=prices["input_tokens_per_1m"],
        completion_per_1m=prices["completion_tokens_per_1m"],
        cached_per_1m=prices["cached_tokens_per_1m"],
    )
    assert shown == {
        label: [format_money(prices[field], "USD", "en") + " " + unit, format_int(left or 0, "en")]
        for label, field, unit, left in (
            ("Image Processing", "image_processing_per_10k", "per 10,000 images", estimates.images),
            ("Input Tokens", "input_tokens_per_1m", "per 1M tokens", estimates.input_tokens),
            (
                "Completion Tokens",
                "completion_tokens_per_1m",
                "per 1M tokens",
                estimates.completion_tokens,
            ),
            ("Cached Tokens", "cached_tokens_per_1m", "per 1M tokens", estimates.cached_tokens),
        )
    }
