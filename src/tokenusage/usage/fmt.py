"""Money, counts, dates and ages in the admin's locale ("en" or "pt_BR"), via Babel.

Prices here are fractions of a cent (a cached token costs $0.0000001), so money keeps the
digits that carry information instead of the currency's usual two.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from functools import lru_cache

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time, format_timedelta
from babel.numbers import (
    NumberPattern,
    format_currency,
    format_decimal,
    get_currency_precision,
)

# Amounts with at most this many fraction digits (every ledger amount and every sum of them)
# are shown with all of them. Longer fractions only come out of a division (a daily rate, an
# average) and are rounded to six significant digits.
EXACT_FRACTION_DIGITS = 10
MAX_SIGNIFICANT_FRACTION_DIGITS = 6
# Formatting is pure and Babel is slow: a page formats the same few values on every view.
_CACHED = 4096


def money_places(amount: Decimal, minimum: int) -> int:
    """Fraction digits that show `amount` without hiding a sub-cent part.

    At least `minimum` (the currency's digits). An amount with up to ten fraction digits
    keeps every one (1.23456789 stays 1.23456789, 0.9999999999 is not $1.00): what the
    ledger says, and sums of it, are shown exactly. A longer fraction (a quotient) keeps up to
    six significant digits counted from its first non-zero digit, so 0.000000123456789 shows
    as 0.000000123457 and 1/3 as 0.333333. Trailing zeros beyond the minimum are dropped
    (0.10 not 0.100000).
    """
    if not amount.is_finite():
        return minimum
    with _exact_for(amount):
        fraction = (abs(amount) % 1).normalize()
        if fraction == 0:
            return minimum
        exponent = fraction.as_tuple().exponent
        if isinstance(exponent, int) and -exponent <= EXACT_FRACTION_DIGITS:
            return max(minimum, -exponent)
        first = -fraction.adjusted()  # position of the first non-zero fraction digit
        places = first + MAX_SIGNIFICANT_FRACTION_DIGITS - 1
        rounded = fraction.quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN).normalize()
    exponent = rounded.as_tuple().exponent
    shown = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return max(minimum, shown)


def _exact_for(amount: Decimal) -> AbstractContextManager[Context]:
    """A context wide enough that `% 1` and quantizing `amount` never round or fail."""
    exponent = amount.as_tuple().exponent
    spread = abs(exponent) if isinstance(exponent, int) else 0
    return localcontext(prec=max(28, len(amount.as_tuple().digits) + spread + 10))


def _at_places(amount: Decimal, places: int) -> Decimal:
    """`amount` rounded half-even to `places` fraction digits, never "-0" (no "-$0.00");
    inside `_exact_for(amount)`."""
    amount = amount.quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN)
    return abs(amount) if amount.is_zero() else amount


@lru_cache(maxsize=_CACHED)
def format_money(amount: Decimal, currency: str, locale: str) -> str:
    """`$0.0005`, `-$1,234.50`, `R$ 25,00`: the locale's currency pattern, honest digits."""
    places = money_places(amount, get_currency_precision(currency))
    if not amount.is_finite():
        return format_currency(amount, currency, locale=locale)
    # Babel quantizes in the current context too, so it runs inside the wide one.
    with _exact_for(amount):
        amount = _at_places(amount, places)
        return format_currency(
            amount, currency, locale=locale, currency_digits=True, decimal_quantization=False
        )


@lru_cache(maxsize=_CACHED)
def format_money_fixed(amount: Decimal, currency: str, locale: str, places: int) -> str:
    """`amount` with exactly `places` fraction digits (`$1.500000`): one column of a table,
    where every row has the same digits so that the decimal points line up; and a headline
    figure at the currency's cents."""
    if not amount.is_finite():
        return format_currency(amount, currency, locale=locale)
    with _exact_for(amount):
        amount = _at_places(amount, places)
        text: str = _fixed_pattern(locale, places).apply(
            amount, Locale.parse(locale), currency=currency, currency_digits=False
        )
        return text


@lru_cache(maxsize=64)
def _fixed_pattern(locale: str, places: int) -> NumberPattern:
    pattern: NumberPattern = copy.copy(Locale.parse(locale).currency_formats["standard"])
    pattern.frac_prec = (places, places)
    return pattern


def column_places(amounts: Iterable[Decimal], currency: str) -> int:
    """The fraction digits a column of amounts needs: as many as its most precise amount."""
    minimum = get_currency_precision(currency)
    return max((money_places(a, minimum) for a in amounts), default=minimum)


@lru_cache(maxsize=_CACHED)
def format_int(n: int, locale: str) -> str:
    """`1,234,567` in en, `1.234.567` in pt_BR."""
    return format_decimal(n, locale=locale)


def _local(dt: datetime, tz: tzinfo) -> datetime:
    if dt.tzinfo is None:  # stored times are UTC; a naive one is read the same way
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(tz)


@lru_cache(maxsize=_CACHED)
def format_table_date(dt: datetime, tz: tzinfo, locale: str) -> str:
    """The table's date: "Nov 24, 2026, 13:05", "24 de nov. de 2026 13:05".

    The manual's "Mon Day, HH:MM" plus the year, so that a row is never ambiguous across a
    year (the table's header names the timezone once). Built from CLDR pieces rather than a
    fixed pattern: the locale's abbreviated date skeleton (`yMMMd`), its 24-hour time
    skeleton (`Hm`, as the manual shows 13:05 even in English) and its own date-time glue
    ("{1}, {0}" in en, "{1} {0}" in pt_BR).
    """
    local = _local(dt, tz)
    day = format_skeleton("yMMMd", local, locale=locale)
    time = format_skeleton("Hm", local, locale=locale)
    glue = Locale.parse(locale).datetime_formats["short"]
    return str(glue).format(time, day)


@lru_cache(maxsize=_CACHED)
def format_datetime_full(dt: datetime, tz: tzinfo, locale: str) -> str:
    """An unambiguous timestamp for "Last updated" and the debug page.

    Long date, 24-hour time with seconds and the GMT offset, so the admin can tell which
    timezone the dashboard uses: "November 24, 2026, 13:05:00 GMT-03:00",
    "24 de novembro de 2026 13:05:00 -03:00 GMT" (CLDR puts GMT after the offset in
    Portuguese).
    """
    local = _local(dt, tz)
    day = format_date(local, "long", locale=locale)
    time = format_skeleton("Hms", local, locale=locale)
    offset = format_time(local, "ZZZZ", locale=locale)
    glue = Locale.parse(locale).datetime_formats["long"]
    return f"{str(glue).format(time, day)} {offset}"


def format_age(seconds: float, locale: str) -> str:
    """How old cached data is: "5 minutes", "5 minutos" (rounded the way Babel rounds), of
    the whole second: the finest unit it shows is the second."""
    return _age(round(max(0.0, seconds)), locale)


@lru_cache(maxsize=_CACHED)
def _age(seconds: int, locale: str) -> str:
    return format_timedelta(timedelta(seconds=seconds), locale=locale)
