"""Download History: the complete ledger as a CSV that a spreadsheet opens correctly."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest

from tests.browser.pages import OpenPage, Site

pytestmark = pytest.mark.browser

HEADER = [
    "Date",
    "Transaction Type",
    "Service Type",
    "Amount",
    "Tokens Used",
    "Images Processed",
    "Description",
]


def test_download_history_is_the_whole_ledger(seeded: Site, open_page: OpenPage) -> None:
    w = open_page(state=seeded.state)
    page = w.page
    page.goto(seeded.url + "/")

    with page.expect_download() as info:
        page.get_by_role("link", name="Download History").click()
    download = info.value
    assert download.failure() is None
    name = download.suggested_filename
    assert name.startswith("transactions_") and name.endswith(".csv"), name
    data = Path(download.path()).read_bytes()

    assert data.startswith(b"\xef\xbb\xbf"), "no UTF-8 byte-order mark"
    rows = list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))
    assert rows[0] == HEADER
    records = rows[1:]
    ledger = seeded.srv.ledger
    count = ledger.history(seeded.srv.licence_id, limit=1)["total"]
    balance = Decimal(ledger.stats(seeded.srv.licence_id)["balance"])
    assert len(records) == count == 1200
    assert all(len(r) == len(HEADER) for r in records)
    assert sum((Decimal(r[3]) for r in records), Decimal(0)) == balance
    assert {r[1] for r in records} <= {"usage", "purchase", "refund"}
    # Still on the overview: the download did not replace the page.
    assert page.url == seeded.url + "/"
    w.assert_clean()
