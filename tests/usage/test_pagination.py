from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokenusage.usage.pagination import PageWindow, paginate, parse_page


def test_empty_listing_is_one_empty_page() -> None:
    assert paginate(0, parse_page("7")) == PageWindow(
        page=1,
        pages=1,
        per_page=300,
        total=0,
        offset=0,
        first_index=0,
        last_index=0,
        links=(1,),
        previous=None,
        next=None,
    )


def test_middle_page_of_a_large_ledger() -> None:
    assert paginate(10_000, parse_page("10")) == PageWindow(
        page=10,
        pages=34,
        per_page=300,
        total=10_000,
        offset=2_700,
        first_index=2_701,
        last_index=3_000,
        links=(5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        previous=9,
        next=11,
    )


def test_last_partial_page() -> None:
    window = paginate(601, 3)
    assert (window.page, window.pages, window.first_index, window.last_index) == (3, 3, 601, 601)
    assert window.links == (1, 2, 3)
    assert (window.previous, window.next) == (2, None)


def test_exactly_full_pages() -> None:
    window = paginate(600, 99)
    assert (window.page, window.pages, window.first_index, window.last_index) == (2, 2, 301, 600)


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        (None, 1),
        ("", 1),
        ("abc", 1),
        ("2abc", 1),
        ("-3", 1),
        ("0", 1),
        ("000", 1),
        ("1e9", 1),
        ("2.5", 1),
        ("2.0", 1),
        ("1_000", 1),
        ("٣", 1),  # Arabic-Indic three: not an ASCII page number
        ("0x10", 1),
        (" 2 ", 2),
        ("+2", 2),
        ("007", 7),
        ("\t4\n", 4),
        ("99999999999999999999", 34),
        ("9" * 5_000, 34),
        ("-" + "9" * 5_000, 1),
        (10**30, 34),
        (-(10**30), 1),
        (5, 5),
        (True, 1),
        (False, 1),
        (2.0, 2),
        (2.5, 1),
        (1e300, 34),
        (float("nan"), 1),
        (float("inf"), 1),
        (float("-inf"), 1),
        (Decimal("3"), 3),
        (Decimal("3.5"), 1),
        (Decimal("NaN"), 1),
        (Decimal("sNaN"), 1),
        (b"2", 1),
        ([2], 1),
        (object(), 1),
    ],
)
def test_untrusted_page_is_clamped(page: object, expected: int) -> None:
    assert paginate(10_000, parse_page(page)).page == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"total": -1, "page": 1}, "total"),
        ({"total": 10, "page": 1, "per_page": 0}, "per_page"),
        ({"total": 10, "page": 1, "window": -1}, "window"),
    ],
)
def test_programming_errors_raise(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        paginate(**kwargs)


untrusted_pages = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=25),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.binary(max_size=5),
)


@given(
    total=st.integers(0, 10**7),
    page=untrusted_pages,
    per_page=st.integers(1, 1_000),
    window=st.integers(0, 10),
)
def test_window_invariants(total: int, page: object, per_page: int, window: int) -> None:
    page = parse_page(page)
    result = paginate(total, page, per_page, window)
    assert result.pages == max(1, math.ceil(total / per_page))
    assert 1 <= result.page <= result.pages
    assert result.offset == (result.page - 1) * per_page
    if total == 0:
        assert (result.first_index, result.last_index) == (0, 0)
    else:
        assert 1 <= result.first_index <= result.last_index <= total
        assert result.first_index == result.offset + 1
        assert result.last_index - result.first_index + 1 == min(per_page, total - result.offset)
    links = result.links
    assert links == tuple(range(links[0], links[-1] + 1))
    assert result.page in links
    assert links[0] == max(1, result.page - window)
    assert links[-1] == min(result.pages, result.page + window)
    assert result.previous == (result.page - 1 if result.page > 1 else None)
    assert result.next == (result.page + 1 if result.page < result.pages else None)


@given(total=st.integers(0, 10**6), page=st.integers(-(10**6), 10**6))
def test_text_and_int_pages_agree(total: int, page: int) -> None:
    assert paginate(total, parse_page(str(page))) == paginate(total, page)
    assert paginate(total, parse_page(f"  {page}\n")) == paginate(total, page)


@given(total=st.integers(1, 3_000), page=st.integers(1, 10**4))
def test_in_range_page_is_kept(total: int, page: int) -> None:
    pages = -(-total // 300)
    assert paginate(total, page).page == min(page, pages)


@given(total=st.integers(0, 2_000), per_page=st.integers(1, 400))
def test_pages_cover_every_row_once(total: int, per_page: int) -> None:
    pages = paginate(total, 1, per_page).pages
    covered: list[int] = []
    for number in range(1, pages + 1):
        window = paginate(total, number, per_page)
        if total:
            covered.extend(range(window.first_index, window.last_index + 1))
    assert covered == list(range(1, total + 1))
