"""Filter notes that need the ledger: a selected service no transaction names."""

from __future__ import annotations

from tokenusage.usage.filters import parse_filters


def test_services_no_transaction_names_are_noted_and_kept() -> None:
    asked = parse_filters(services=["a", "ghost", "b"])
    noted = asked.with_known_services(["a", "b", "c"])
    assert noted == asked and noted.services == ("a", "ghost", "b")  # still asked for
    assert [str(n) for n in noted.errors] == ["service: 'ghost' is in no transaction"]
    assert parse_filters(services=["a"]).with_known_services(["a"]).errors == ()


def test_days_a_range_cannot_be_charted_for_are_refused() -> None:
    """A day before 1900 or after 2999 is left out: a range inside those, its previous
    period and its chart's buckets are all days a date can hold (year 1 minus a day is not)."""
    from datetime import UTC, date, datetime
    from zoneinfo import ZoneInfo

    from tokenusage.service.insights import query_for
    from tokenusage.usage.buckets import bucket_spans

    for raw in ("0001-01-05", "1899-12-31", "3000-01-01", "9999-12-31"):
        asked = parse_filters(raw, raw)
        assert (asked.first, asked.last) == (None, None)
        assert [n.reason for n in asked.errors] == ["out_of_range", "out_of_range"]
        assert str(asked.errors[0]) == f"from: {raw} is not between 1900-01-01 and 2999-12-31"
    widest = parse_filters("1900-01-01", "2999-12-31")
    assert widest.errors == () and widest.first == date(1900, 1, 1)
    query = query_for(widest, datetime(2026, 11, 30, tzinfo=UTC), ZoneInfo("Asia/Kathmandu"))
    assert query.previous[0] < query.first and query.previous[0].year > 1
    spans = bucket_spans(query.first, query.last)
    assert spans[0][0] == query.first and spans[-1][1] == query.last
