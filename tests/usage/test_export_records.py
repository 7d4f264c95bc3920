"""Export records and row objects make exactly the bytes of `csv_row` + csv.writer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.usage.csv_reference import Row, reference_csv
from tokenusage.usage.export import (
    HEADER_TEXT,
    CsvLines,
    ExportRecord,
    LocalDates,
    always_utc,
    iter_csv,
    local_date,
)


def record(row: Row) -> ExportRecord:
    """The row as the store's export read returns it (naive UTC text, plain amount text)."""
    stamp = row.created_at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return (
        stamp,
        row.type,
        row.service_type,
        format(row.amount, "f"),
        row.tokens_used,
        row.images_processed,
        row.description,
    )


def both_roads(rows: list[Row], tz: tzinfo) -> tuple[str, str]:
    slow = reference_csv(rows, tz)
    fast = HEADER_TEXT + CsvLines(tz).text([record(r) for r in rows])
    assert "".join(iter_csv(rows, tz)) == fast  # row objects take the same road
    return slow, fast


ZONES: list[tzinfo] = [
    UTC,
    ZoneInfo("UTC"),
    ZoneInfo("Etc/UTC"),
    ZoneInfo("America/Sao_Paulo"),  # DST until 2019
    ZoneInfo("Europe/Berlin"),
    ZoneInfo("America/New_York"),
    ZoneInfo("Australia/Lord_Howe"),  # half-hour DST, switching at a half hour of UTC
    ZoneInfo("Asia/Kolkata"),  # +05:30
    ZoneInfo("America/St_Johns"),  # -03:30 with DST
    ZoneInfo("Asia/Kathmandu"),  # +05:45
    ZoneInfo("Europe/Amsterdam"),  # +00:19:32 before 1937
    timezone(timedelta(hours=-3)),
    timezone(timedelta(hours=5, minutes=45)),
    timezone(timedelta(0)),
]

TEXTS = [
    "",
    "usage",
    "Chat via openai (gpt-4o)",
    "Image tagging via OpenAI (GPT-4o-mini) then gemini-2.0-flash",
    "Enriched performer profile 58634 (o1-mini reasoning)",
    "Enriched performer profile 58634 (o3-mini reasoning)",
    "ozone O3 level 13, photo2 o5-x, solo1-run",
    "Support chat session 64411 answered by gpt-4o",
    "=1+1",
    "+SUM(A1:A9)",
    "-gpt-4o",
    "@SUM(A1)",
    "\tcmd",
    "\rcmd",
    "Credit purchase, invoice INV-3-final",
    'He said "hi", then (gpt-4o, fast)',
    "two\nlines",
    "carriage\rreturn",
    "tab\tinside",
    "x\x01o1-mini\x03",
    "o\x01-mini",
    "gro\u212a-2 via ıopenai",
    "Détection via google (gemini-1.5-flash)",
    "non-breaking\u00a0space, line\u2028separator",
]
AMOUNTS = ["-1.5E-5", "1E+3", "0", "-0", "25.00", "-0.000000000000000000000000000001", "1E-7"]


def varied_rows() -> list[Row]:
    times = [
        datetime(2026, 11, 24, 13, 5, 7, 999_999, tzinfo=UTC),
        datetime(2018, 11, 4, 2, 59, 59, tzinfo=UTC),  # Sao Paulo springs forward at 03:00
        datetime(2018, 11, 4, 3, 0, 0, tzinfo=UTC),
        datetime(2019, 2, 17, 1, 30, tzinfo=UTC),  # and falls back
        datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC),  # Berlin, 01:00 UTC
        datetime(2026, 3, 29, 1, 0, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
        datetime(2026, 4, 4, 14, 59, 59, tzinfo=UTC),  # Lord Howe, 15:00 UTC
        datetime(2026, 4, 4, 15, 0, 0, tzinfo=UTC),
        datetime(2026, 10, 3, 15, 29, tzinfo=UTC),  # and back, 15:30 UTC
        datetime(2026, 10, 3, 15, 31, tzinfo=UTC),
        datetime(1900, 6, 1, 12, 0, 1, tzinfo=UTC),  # Amsterdam's +00:19:32
        datetime(2000, 1, 1, tzinfo=UTC),
    ]
    rows = []
    for i, when in enumerate(times * 2):
        text = TEXTS[i % len(TEXTS)]
        rows.append(
            Row(
                created_at=when + timedelta(minutes=7 * (i // len(times))),
                type=("usage", "purchase", "refund", "-odd", "a,b")[i % 5],
                service_type=TEXTS[(i * 7) % len(TEXTS)],
                amount=Decimal(AMOUNTS[i % len(AMOUNTS)]),
                tokens_used=i * 1_000_003,
                images_processed=i % 4,
                description=text,
            )
        )
    return rows


@pytest.mark.parametrize("tz", ZONES, ids=str)
def test_same_bytes_as_csv_row(tz: tzinfo) -> None:
    rows = varied_rows()
    slow, fast = both_roads(rows, tz)
    assert fast == slow


def test_batches_share_caches_and_stay_exact() -> None:
    rows = varied_rows()
    tz = ZoneInfo("America/Sao_Paulo")
    lines = CsvLines(tz)
    fast = HEADER_TEXT + "".join(lines.text([record(r)]) for r in rows + rows)
    assert fast == reference_csv(rows + rows, tz)


def test_stamps_without_microseconds_and_other_shapes() -> None:
    tz = ZoneInfo("Europe/Berlin")
    dates = LocalDates(tz)
    for stamp in ("2026-07-01 12:00:00", "2026-07-01 12:00:00.250000", "2026-07-01T12:00"):
        assert dates(stamp) == local_date(stamp, tz)
    assert dates("2026-07-01 12:34:56") == "2026-07-01T14:34:56+02:00"


def test_utc_zones() -> None:
    assert always_utc(UTC) and always_utc(ZoneInfo("UTC")) and always_utc(ZoneInfo("Etc/UTC"))
    assert always_utc(timezone(timedelta(0)))
    assert not always_utc(ZoneInfo("Europe/London"))
    assert not always_utc(timezone(timedelta(hours=1)))


FRAGMENTS = ["via ", "openai", "(", ")", "gpt-", "o1-", "O3", "4o", ",", '"', "=", "7", "\n", "ı"]
texts = st.one_of(
    st.sampled_from(TEXTS),
    st.text(max_size=40),
    st.lists(st.sampled_from(FRAGMENTS), max_size=8).map("".join),
)


@given(
    when=st.datetimes(
        min_value=datetime(1890, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    tz=st.sampled_from(ZONES),
    kind=texts,
    service=texts,
    description=texts,
    amount=st.decimals(allow_nan=False, allow_infinity=False),
    tokens=st.integers(0, 10**12),
)
def test_any_row_same_bytes(
    when: datetime,
    tz: tzinfo,
    kind: str,
    service: str,
    description: str,
    amount: Decimal,
    tokens: int,
) -> None:
    row = Row(when, kind, service, amount, tokens, 3, description)
    slow, fast = both_roads([row, row], tz)
    assert fast == slow


def test_long_texts_are_exact_and_not_cached() -> None:
    long = "Batch via openai (gpt-4o), " * 120 + "=end"
    rows = [
        Row(datetime(2026, 1, 1, tzinfo=UTC), "usage", long, Decimal("-1.5E-5"), 1, 0, long),
        Row(datetime(2026, 1, 2, tzinfo=UTC), "usage", "=" + long, Decimal("2"), 1, 0, "-" + long),
    ]
    lines = CsvLines(UTC)
    assert HEADER_TEXT + lines.text([record(r) for r in rows]) == reference_csv(rows, UTC)
    assert not lines._services and not lines._loose
