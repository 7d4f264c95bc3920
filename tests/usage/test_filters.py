"""Filter notes that need the ledger: a selected service no transaction names."""

from __future__ import annotations

from tokenusage.usage.filters import parse_filters


def test_services_no_transaction_names_are_noted_and_kept() -> None:
    asked = parse_filters(services=["a", "ghost", "b"])
    noted = asked.with_known_services(["a", "b", "c"])
    assert noted == asked and noted.services == ("a", "ghost", "b")  # still asked for
    assert [str(n) for n in noted.errors] == ["service: 'ghost' is in no transaction"]
    assert parse_filters(services=["a"]).with_known_services(["a"]).errors == ()
