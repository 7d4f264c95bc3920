from __future__ import annotations

import csv
import io
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.usage.csv_reference import Row, reference_csv
from tokenusage.licenseapi.models import Transaction
from tokenusage.usage.branding import brand
from tokenusage.usage.export import (
    BOM,
    CSV_HEADER,
    FORMULA_LOOKALIKES,
    TransactionRow,
    iter_csv,
    neutralise,
)

SAO_PAULO = ZoneInfo("America/Sao_Paulo")


ROW = Row(
    created_at=datetime(2026, 11, 24, 13, 5, tzinfo=UTC),
    type="usage",
    service_type="image_processing",
    amount=Decimal("-0.000015"),
    tokens_used=1_200,
    images_processed=3,
    description="Image tagging via openai (gpt-4o-mini)",
)


def export(rows: list[Row] | list[Transaction] | list[TransactionRow], tz: tzinfo = UTC) -> str:
    return "".join(iter_csv(rows, tz))


def parse(text: str) -> list[list[str]]:
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[len(BOM) :], newline="")))


def cells(row: TransactionRow, tz: tzinfo = UTC) -> list[str]:
    """The row's cells as a spreadsheet reads them back."""
    return parse(export([row], tz))[1]


def test_rows_are_what_csv_writer_writes_for_the_plain_cells() -> None:
    rows = [ROW, replace(ROW, description='=1, "two"\n', service_type="-x via openai")]
    assert export(rows, SAO_PAULO) == reference_csv(rows, SAO_PAULO)


def test_header_bom_and_line_endings() -> None:
    text = export([ROW])
    assert text.startswith(BOM + "Date,Transaction Type,Service Type,Amount,")
    assert text.count(BOM) == 1
    assert text.endswith("\r\n")
    assert text.count("\r\n") == 2
    assert parse(text)[0] == list(CSV_HEADER)
    assert len(CSV_HEADER) == 7


def test_row_fields_round_trip() -> None:
    rows = parse(export([ROW], SAO_PAULO))
    assert rows[1] == [
        "2026-11-24T10:05:00-03:00",
        "usage",
        "image_processing",
        "-0.000015",
        "1200",
        "3",
        "Image tagging via CTZ-AI (ComusThumbz AI)",
    ]


def test_empty_history_is_just_the_header() -> None:
    assert list(iter_csv([], UTC)) == [BOM + ",".join(CSV_HEADER) + "\r\n"]


def test_the_wire_model_is_a_transaction_row() -> None:
    tx = Transaction.model_validate(
        {
            "id": 7,
            "created_at": "2026-11-24 13:05:00",
            "type": "purchase",
            "service_type": "credits",
            "amount": "25.00",
            "description": "Credit purchase",
        }
    )
    row: TransactionRow = tx
    assert cells(row) == [
        "2026-11-24T13:05:00+00:00",
        "purchase",
        "credits",
        "25.00",
        "0",
        "0",
        "Credit purchase",
    ]


@pytest.mark.parametrize(
    ("created_at", "tz", "expected"),
    [
        (datetime(2026, 11, 24, 13, 5, tzinfo=UTC), UTC, "2026-11-24T13:05:00+00:00"),
        (datetime(2026, 11, 24, 1, 5, tzinfo=UTC), SAO_PAULO, "2026-11-23T22:05:00-03:00"),
        (datetime(2026, 11, 24, 13, 5, 7, 999_999, tzinfo=UTC), UTC, "2026-11-24T13:05:07+00:00"),
        (datetime(2026, 11, 24, 13, 5), UTC, "2026-11-24T13:05:00+00:00"),  # naive is UTC
        (
            datetime(2026, 7, 1, 12, 0, tzinfo=UTC),
            ZoneInfo("Europe/Berlin"),
            "2026-07-01T14:00:00+02:00",
        ),
        (
            datetime(2026, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),
            timezone(timedelta(hours=-3)),
            "2026-01-01T03:30:00-03:00",
        ),
    ],
)
def test_date_in_business_timezone(created_at: datetime, tz: tzinfo, expected: str) -> None:
    assert cells(replace(ROW, created_at=created_at), tz)[0] == expected


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+SUM(A1:A9)", "'+SUM(A1:A9)"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("ordinary = text", "ordinary = text"),
        ("'quoted", "'quoted"),
        ("", ""),
        ("   ", "   "),
        ("12 - 3", "12 - 3"),
        ("a@b.example", "a@b.example"),
    ],
)
def test_formula_injection_in_text_cells(text: str, cell: str) -> None:
    row = replace(ROW, type=text, service_type=text, description=text)
    fields = parse(export([row]))[1]
    assert (fields[1], fields[2], fields[6]) == (cell, cell, cell)


# Live formulas in some spreadsheet even though they do not start with an ASCII trigger.
DISGUISED_FORMULAS = [
    " =1+1",
    '   =HYPERLINK("http://evil.example","x")',
    "\u00a0=1+1",  # NBSP
    "\u2003\u3000=1+1",  # em space, ideographic space
    "\u200b=1+1",  # zero-width space (a format character)
    "\ufeff@SUM(A1)",  # BOM
    "\n=1+1",  # a quoted cell that starts with a line break
    "\r\n=1+1",
    " \t=1+1",
    "\uff1d1+1",  # fullwidth = + - @
    "\uff0bSUM(A1)",
    "\uff0d2+3",
    "\uff20SUM(A1)",
    " \uff1d1+1",
    "\ufe661+1",  # small equals sign
    "\u22122+3",  # minus sign
]


@pytest.mark.parametrize("text", DISGUISED_FORMULAS)
def test_formulas_behind_blanks_or_in_fullwidth_forms_are_neutralised(text: str) -> None:
    row = replace(ROW, type=text, service_type=text, description=text)
    fields = parse(export([row]))[1]
    assert (fields[1], fields[2], fields[6]) == ("'" + text,) * 3
    assert neutralise(text) == "'" + text


def test_every_compatibility_form_of_a_trigger_is_known() -> None:
    """The lookalike list is complete: every character that NFKC folds to = + - or @."""
    folded = {
        chr(i)
        for i in range(0x80, sys.maxunicode + 1)
        if unicodedata.normalize("NFKC", chr(i)) in ("=", "+", "-", "@")
    }
    assert folded <= set(FORMULA_LOOKALIKES)


def test_disguised_formulas_through_the_description_cache() -> None:
    """The description's cell shape is cached per template: blanks and lookalikes decide it."""
    rows = [
        replace(ROW, description=f"{pad}=1+{n}") for n in range(3) for pad in ("", " ", "\u00a0")
    ]
    rows += [replace(ROW, description=f"Chat {n}") for n in range(3)]
    described = [r[6] for r in parse(export(rows))[1:]]
    assert described == [
        *(f"'{pad}=1+{n}" for n in range(3) for pad in ("", " ", "\u00a0")),
        *(f"Chat {n}" for n in range(3)),
    ]


def test_neutralised_after_branding_and_type_is_not_branded() -> None:
    row = replace(ROW, type="- gpt-4o", service_type="- gpt-4o", description="-gpt-4o")
    assert cells(row)[1:3] == ["'- gpt-4o", "'- ComusThumbz AI"]
    assert cells(row)[6] == "'-ComusThumbz AI"


@pytest.mark.parametrize(
    ("amount", "cell"),
    [
        ("-1.50", "-1.50"),
        ("25.00", "25.00"),
        ("-1.5E-5", "-0.000015"),
        ("1E-7", "0.0000001"),
        ("1E+3", "1000"),
        ("0", "0"),
        ("-0.000000000000000000000000000001", "-0.000000000000000000000000000001"),
    ],
)
def test_amount_is_plain_numeric_text(amount: str, cell: str) -> None:
    fields = parse(export([replace(ROW, amount=Decimal(amount))]))[1]
    assert fields[3] == cell
    assert Decimal(fields[3]) == Decimal(amount)


@given(
    amount=st.decimals(allow_nan=False, allow_infinity=False),
    tokens=st.integers(0, 10**12),
    images=st.integers(0, 10**9),
    description=st.text(max_size=80),
    service=st.text(max_size=30),
)
def test_any_row_round_trips(
    amount: Decimal, tokens: int, images: int, description: str, service: str
) -> None:
    row = replace(
        ROW,
        amount=amount,
        tokens_used=tokens,
        images_processed=images,
        description=description,
        service_type=service,
    )
    fields = parse(export([row]))[1]
    assert Decimal(fields[3]) == amount
    assert "E" not in fields[3].upper()
    assert (int(fields[4]), int(fields[5])) == (tokens, images)
    for cell, raw in ((fields[2], service), (fields[6], description)):
        branded = brand(raw)
        if branded[:1] in ("=", "+", "-", "@", "\t", "\r"):
            assert cell == "'" + branded
        else:
            assert cell == branded


def rows_of(count: int) -> list[Row]:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        replace(ROW, created_at=base + timedelta(minutes=i), tokens_used=i, description=f"job {i}")
        for i in range(count)
    ]


def test_rows_come_in_batches_in_order() -> None:
    chunks = list(iter_csv(rows_of(2_500), UTC))
    assert len(chunks) == 4
    assert chunks[0].startswith(BOM) and chunks[0].count("\r\n") == 1
    assert [chunk.count("\r\n") for chunk in chunks[1:]] == [1_000, 1_000, 500]
    tokens = [int(fields[4]) for fields in parse("".join(chunks))[1:]]
    assert tokens == list(range(2_500))


def test_streams_lazily() -> None:
    pulled = 0

    def source() -> Iterator[Row]:
        nonlocal pulled
        for row in rows_of(5_000):
            pulled += 1
            yield row

    chunks = iter_csv(source(), UTC)
    next(chunks)
    assert pulled == 0
    next(chunks)
    assert pulled == 1_000
    next(chunks)
    assert pulled == 2_000


def test_header_can_be_left_out_for_later_batches() -> None:
    rows = rows_of(3)
    first = "".join(iter_csv(rows[:1], UTC))
    rest = "".join(iter_csv(rows[1:], UTC, header=False))
    assert "".join(iter_csv(rows, UTC)) == first + rest
    assert not rest.startswith(BOM) and rest.count("\r\n") == 2
