"""Numbers, money and times as one request shows them: `usage.fmt` bound to a locale and the
business timezone, plus the headline and advice for each kind of problem and the page's
wording of each filter note."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal

from babel import Locale
from babel.dates import format_date, format_skeleton
from babel.numbers import format_decimal, format_percent, get_currency_precision
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from tokenusage.service import Kind, Problem
from tokenusage.usage import fmt
from tokenusage.usage.export import plain_decimal
from tokenusage.usage.filters import FIRST_DAY, LAST_DAY, FilterNote, Reason
from tokenusage.web.i18n import N_

DEFAULT_CURRENCY = "USD"


@dataclass(frozen=True)
class Formatter:
    locale: str
    tz: tzinfo
    currency: str = DEFAULT_CURRENCY

    def money(self, amount: Decimal) -> str:
        return fmt.format_money(amount, self.currency, self.locale)

    def signed_money(self, amount: Decimal) -> str:
        """The table's amount: credits get an explicit `+`, as debits have their `-`."""
        text = self.money(amount)
        return "+" + text if amount > 0 else text

    def cents(self, amount: Decimal) -> str:
        """A headline figure at the currency's own digits ("$6.12"); the exact value goes
        next to it (see `exact`)."""
        return fmt.format_money_fixed(
            amount, self.currency, self.locale, get_currency_precision(self.currency)
        )

    def headline(self, amount: Decimal, *, focus: bool = True) -> Markup:
        """A figure at cents, in a `<data>` that carries the exact value. When cents hide
        digits, the exact amount is one hover, focus or tap away (shown by app.css); a
        secondary figure (`focus=False`) has it on hover only, without a tab stop."""
        shown = self.cents(amount)
        exact = self.exact(amount)
        value = plain_decimal(amount)
        if exact == shown:
            return Markup('<data class="money" value="{}">{}</data>').format(value, shown)
        if not focus:
            return Markup('<data class="money" value="{}" title="{}">{}</data>').format(
                value, exact, shown
            )
        return Markup(
            '<data class="money exact" value="{}" tabindex="0">{}'
            '<span class="exact-value">{}</span></data>'
        ).format(value, shown, exact)

    def exact(self, amount: Decimal) -> str:
        """Every digit of `amount` (at least the currency's): what the headline rounds."""
        exponent = amount.normalize().as_tuple().exponent
        digits = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        places = max(digits, get_currency_precision(self.currency))
        return fmt.format_money_fixed(amount, self.currency, self.locale, places)

    def column_money(self, amount: Decimal, places: int, *, signed: bool = True) -> str:
        """One cell of an amount column: `places` digits, and credits get an explicit `+`
        (unless `signed` is false: a column of spend, all positive)."""
        text = fmt.format_money_fixed(amount, self.currency, self.locale, places)
        return "+" + text if signed and amount > 0 else text

    def places_of(self, amounts: Iterable[Decimal]) -> int:
        """The fraction digits a column of these amounts needs (`column_money`'s places)."""
        return fmt.column_places(amounts, self.currency)

    def number(self, n: int) -> str:
        return fmt.format_int(n, self.locale)

    def table_date(self, dt: datetime) -> str:
        return fmt.format_table_date(dt, self.tz, self.locale)

    def timestamp(self, dt: datetime) -> str:
        return fmt.format_datetime_full(dt, self.tz, self.locale)

    def short_timestamp(self, dt: datetime) -> str:
        """ "Nov 25, 2026, 13:05:00": for cards, where the long form would wrap; 24-hour like
        the table."""
        local = (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(self.tz)
        day = format_skeleton("yMMMd", local, locale=self.locale)
        time = format_skeleton("Hms", local, locale=self.locale)
        return str(Locale.parse(self.locale).datetime_formats["medium"]).format(time, day)

    def day(self, dt: datetime) -> str:
        local = (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(self.tz)
        return format_date(local, "medium", locale=self.locale)

    def duration(self, seconds: float) -> str:
        """A configured period in words: "5 minutes", "1 hour", "10 minutos"."""
        return fmt.format_age(seconds, self.locale)

    def decimal(self, value: float) -> str:
        return format_decimal(value, locale=self.locale)

    def calendar_day(self, day: date) -> str:
        """A business-timezone day: "Nov 24, 2026", "24 de nov. de 2026"."""
        return format_skeleton("yMMMd", day, locale=self.locale)

    def short_day(self, day: date) -> str:
        """ "Nov 24", "24 de nov.": an axis label, where the year is said elsewhere."""
        return format_skeleton("MMMd", day, locale=self.locale)

    def month(self, day: date) -> str:
        """ "Nov 2026", "nov. de 2026"."""
        return format_skeleton("yMMM", day, locale=self.locale)

    def percent(self, fraction: Decimal) -> str:
        """A share: "12.3%", "12,3%"."""
        return format_percent(fraction, "#,##0.0%", locale=self.locale)

    def change(self, fraction: Decimal) -> str:
        """A change against an earlier period, always signed: "+12.3%", "-5.0%"."""
        text = self.percent(abs(fraction))
        return ("+" if fraction > 0 else "\u2212" if fraction < 0 else "") + text


# What each kind of problem is called on a page, and what to do about it (the manual's
# troubleshooting). The page shows the headline, the problem's own message (its specific
# cause, untranslated as the server or the system said it) and the advice.
_WORDING: dict[Kind, tuple[str, str]] = {
    Kind.CONFIG: (
        N_("The license is not configured"),
        N_(
            "Set TOKENUSAGE_LICENSE_KEY, TOKENUSAGE_LICENSE_DOMAIN and TOKENUSAGE_LICENSE_EMAIL "
            "(or license_key, license_domain and license_email in the config file), then "
            "restart the dashboard."
        ),
    ),
    Kind.LICENCE_REFUSED: (
        N_("The license server refused this license"),
        N_(
            "The license server refused the license. Check license_key, license_domain and "
            "license_email, and that the license is active and not expired."
        ),
    ),
    Kind.UNREACHABLE: (
        N_("Cannot reach the License API"),
        N_(
            "The License API could not be reached. Check this server's internet connection, "
            "DNS and TLS certificates, and that api_url is right; then retry."
        ),
    ),
    Kind.TIMEOUT: (
        N_("The License API did not answer in time"),
        N_(
            "The License API is slow or unreachable. The stored data is shown meanwhile; "
            "retry in a few minutes."
        ),
    ),
    Kind.UPSTREAM_ERROR: (
        N_("The License API reported an error"),
        N_(
            "The License API reported an error. Wait a few minutes and retry; if it persists, "
            "check that the license is valid and contact ComusThumbz support."
        ),
    ),
    Kind.BAD_RESPONSE: (
        N_("The License API sent an answer the dashboard cannot read"),
        N_(
            "The License API answered with something that is not the expected JSON. Open "
            "Debug API to see the raw response and check the license settings."
        ),
    ),
    Kind.PAGING_FAULT: (
        N_("The License API's history pages do not add up"),
        N_(
            "The transaction history could not be copied completely, so the previous copy is "
            "kept. Retry later; if it persists, contact ComusThumbz support."
        ),
    ),
    Kind.STORE_UNAVAILABLE: (
        N_("The local store is unavailable"),
        N_(
            "The local store cannot be used. Check that the data directory is writable, or "
            "that the database in database_url is reachable."
        ),
    ),
    Kind.SYNC_STOPPED: (
        N_("The transaction sync was stopped"),
        N_("The next page view or Refresh Data starts a new one."),
    ),
}


def headline_for(problem: Problem) -> str:
    """The msgid of the problem's headline."""
    return _WORDING[problem.kind][0]


def hint_for(problem: Problem) -> str:
    """The msgid of what to do about the problem."""
    return _WORDING[problem.kind][1]


# What the page did with a filter value it could not use as given (the CLI and the JSON API
# refuse instead, with the note's English `str`).
_FILTER_WORDING: dict[Reason, str] = {
    "not_a_date": N_("%(field)s: “%(value)s” is not a date like 2026-11-30, so it was left out."),
    "not_a_day": N_("%(field)s: “%(value)s” is not a calendar day, so it was left out."),
    "out_of_range": N_(
        "%(field)s: %(value)s is not between %(first)s and %(last)s, so it was left out."
    ),
    "after": N_(
        "The start date (%(value)s) was after the end date (%(other)s), so the two were swapped."
    ),
    "unknown_type": N_("Type: “%(value)s” is not usage, purchase or refund, so it was left out."),
    "many_services": N_("Service: only the first %(value)s services selected are used."),
    "long_q": N_("Search: only the first %(value)s characters are used."),
    "no_service": N_("Service: no transaction names “%(value)s”, so nothing matches it."),
}
_FILTER_FIELDS = {"from": N_("From"), "to": N_("To")}


@pass_context
def filter_note_text(context: Context, note: FilterNote) -> str:
    """`note` as the page says it, in the page's language."""
    catalog = context["translations"]
    field = catalog.gettext(_FILTER_FIELDS.get(note.name, note.name))
    wording: str = catalog.gettext(_FILTER_WORDING[note.reason])
    days = {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()}
    return wording % {"field": field, "value": note.value, "other": note.other, **days}
