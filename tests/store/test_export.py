"""The lean export read, on both engines: the same CSV as the row-by-row road."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.store.conftest import DOMAIN, OTHER, T0, all_rows, full_sync, tx, txs
from tests.usage.csv_reference import reference_csv
from tokenusage.store import Store
from tokenusage.usage.export import HEADER_TEXT, CsvLines, iter_csv

ODD_TEXTS = [
    "Chat via openai (gpt-4o)",
    '=HYPERLINK("http://x","y")',
    "-gpt-4o, then (claude-3-5-sonnet)",
    "Enriched performer profile 31 (o1-mini reasoning)",
    "two\nlines\tand a tab",
    "Détection via google (gemini-1.5-flash)",
    "",
]


def odd_ledger(store: Store) -> None:
    """A mirror whose rows exercise every cell rule: times, amounts, texts, appends."""
    ids = list(range(40, 0, -1))
    full_sync(store, DOMAIN, ids, page_size=15)
    plus_five = timezone(timedelta(hours=5))
    amounts = ["-1.5E-5", "1E+3", "0", "-0", "25.00", "-12345678.123456789012", "1E-30"]
    store.append_newer(
        DOMAIN,
        [
            tx(
                40 + k,
                created_at=(T0 + timedelta(days=300 * k, microseconds=k * 1234)).astimezone(
                    plus_five
                ),
                amount=Decimal(amounts[k % len(amounts)]),
                type=("usage", "purchase", "refund")[k % 3],
                service_type=ODD_TEXTS[(k + 3) % len(ODD_TEXTS)],
                description=ODD_TEXTS[k % len(ODD_TEXTS)],
                tokens_used=10**12 + k,
            )
            for k in range(1, 15)
        ],
    )


@pytest.mark.parametrize(
    "tz",
    [ZoneInfo("UTC"), ZoneInfo("America/Sao_Paulo"), ZoneInfo("Asia/Kolkata"), UTC],
    ids=str,
)
def test_export_records_make_the_same_csv(store: Store, tz: tzinfo) -> None:
    odd_ledger(store)
    rows = all_rows(store, DOMAIN, 7)
    slow = reference_csv(rows, tz)
    assert "".join(iter_csv(rows, tz)) == slow  # the live road: rows as objects
    lines = CsvLines(tz)
    fast = HEADER_TEXT + "".join(lines.text(b) for b in store.iter_export(DOMAIN, batch=6))
    assert fast == slow
    assert fast.count("\r\n") >= 55


def test_export_records_stream_newest_first_in_batches(store: Store) -> None:
    full_sync(store, DOMAIN, list(range(100, 0, -1)), page_size=33)
    store.append_newer(DOMAIN, txs(range(101, 106)))

    batches = list(store.iter_export(DOMAIN, batch=7))
    assert [len(b) for b in batches] == [7] * 15
    descriptions = [r[6] for b in batches for r in b]
    assert descriptions == [f"call {i} (gpt-4o)" for i in range(105, 0, -1)]
    first = batches[0][0]
    assert first == (
        (T0 + timedelta(minutes=105))
        .astimezone(UTC)
        .replace(tzinfo=None)
        .isoformat(" ", "microseconds"),
        "usage",
        "chat via openai",
        "-0.00000105",
        1050,
        0,
        "call 105 (gpt-4o)",
    )
    assert list(store.iter_export(OTHER)) == []
    partial = store.iter_export(DOMAIN, batch=10)
    assert len(next(partial)) == 10
    partial.close()  # an abandoned export releases its snapshot
    assert store.append_newer(DOMAIN, txs([106])) == 1


def test_export_batch_must_be_positive(store: Store) -> None:
    with pytest.raises(ValueError):
        next(store.iter_export(DOMAIN, batch=0))
