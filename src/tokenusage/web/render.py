"""Turning a template and a context into a response, in the request's language.

One Jinja Environment per app, templates compiled once (`auto_reload=False`). Transaction rows
are immutable, so each row's HTML is rendered once per language and kept in an LRU: a warm
page of 300 rows costs 300 dictionary look-ups, not 300 rounds of Babel formatting.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Hashable
from pathlib import Path
from typing import Any

from cachetools import LRUCache
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from tokenusage.config import Settings
from tokenusage.store import MirrorRow
from tokenusage.usage.branding import BRAND, brand
from tokenusage.usage.export import plain_decimal
from tokenusage.web.formatting import Formatter, filter_note_text, headline_for, hint_for
from tokenusage.web.fragcache import FragmentCache
from tokenusage.web.i18n import HTML_LANG, N_, jinja_gettext_callables, negotiate, translations
from tokenusage.web.sessions import csrf_token, pop_flashes

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
ROW_CACHE_SIZE = 20_000
FRAGMENT_CACHE_SIZE = 256


def locale_of(request: Request, settings: Settings) -> str:
    return negotiate(request.headers.get("accept-language"), settings.locale)


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n", FragmentCache],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(**jinja_gettext_callables(), newstyle=True)  # type: ignore[attr-defined]
    env.globals["hint_for"] = hint_for
    env.globals["headline_for"] = headline_for
    env.globals["filter_note_text"] = filter_note_text
    return env


# The type's name in the table (msgids shared with the filters).
TYPE_NAMES = {"usage": N_("usage"), "purchase": N_("purchase"), "refund": N_("refund")}
_BRAND_SUFFIX = f" ({BRAND})"


def short_service(name: str) -> str:
    """The Service column's name: "Title generation via CTZ-AI" for "... (ComusThumbz AI)";
    the whole name is the cell's title and in the row's detail."""
    return name.removesuffix(_BRAND_SUFFIX) if name != _BRAND_SUFFIX.strip() else name


class Renderer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.env = make_environment()
        self.versions = {
            path.name: hashlib.sha256(path.read_bytes()).hexdigest()[:12]
            for path in STATIC.iterdir()
            if path.is_file()
        }
        self.env.globals["static"] = self.static_url
        self.env.globals["icon"] = self.icon
        self._row_template = self.env.get_template("_partials/transaction_row.html")
        self._row_html = functools.lru_cache(maxsize=ROW_CACHE_SIZE)(self._render_row)
        self._fragments: LRUCache[Hashable, Markup] = LRUCache(FRAGMENT_CACHE_SIZE)

    def static_url(self, name: str) -> str:
        """A versioned URL: the file's content hash lets browsers cache it for good."""
        return f"/static/{name}?v={self.versions[name]}"

    def icon(self, name: str) -> Markup:
        """An icon of the self-hosted sprite; decorative, so hidden from screen readers."""
        href = escape(f"{self.static_url('icons.svg')}#{name}")
        svg = f'<svg class="icon" aria-hidden="true" focusable="false"><use href="{href}"/></svg>'
        return Markup(svg)  # noqa: S704 (the only variable part is escaped above)

    def formatter(self, locale: str, currency: str = "USD") -> Formatter:
        return Formatter(locale, self.settings.tz, currency)

    def formatter_for(self, request: Request, currency: str = "USD") -> Formatter:
        return self.formatter(locale_of(request, self.settings), currency)

    def gettext(self, request: Request, message: str, **values: Any) -> str:
        """A Python-side message (flash, error) in the request's language."""
        text = translations(locale_of(request, self.settings)).gettext(message)
        return text % values if values else text

    def ngettext(
        self, singular: str, plural: str, n: int, *, request: Request, **values: Any
    ) -> str:
        """The strings come first, as in gettext's `ngettext`, so that extraction sees the
        pair as one plural entry."""
        text = translations(locale_of(request, self.settings)).ngettext(singular, plural, n)
        return text % values

    def render(
        self,
        request: Request,
        template: str,
        context: dict[str, Any] | None = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        locale = locale_of(request, self.settings)
        session: dict[str, Any] | None = request.scope.get("session")
        values: dict[str, Any] = {
            "translations": translations(locale),
            "lang": HTML_LANG[locale],
            "fmt": self.formatter(locale),
            "csrf_token": csrf_token(session) if session is not None else "",
            "admin": request.scope.get("state", {}).get("admin"),
            "store_problem": request.scope.get("state", {}).get("store_problem"),
            "flashes": pop_flashes(session) if session is not None else [],
            "settings": self.settings,
            "auto_refresh": 0,
            "nav": "",
            "page_number": 1,
            "view": None,
            "download_href": "/download.csv",
        }
        values.update(context or {})
        html = self.env.get_template(template).render(values)
        return HTMLResponse(html, status_code=status, headers=headers)

    def fragment(
        self, template: str, key: Hashable, locale: str, currency: str, **context: Any
    ) -> Markup:
        """A part of a page that depends only on `context`, rendered once per `key`.

        The caller's `key` must identify everything the fragment shows (the data and its
        fetch times); the language and currency are added here. Nothing per request or per
        session (CSRF tokens, flashes, ages that grow with the clock) may go in a fragment.
        """
        cache_key = (template, locale, currency, key)
        html = self._fragments.get(cache_key)
        if html is not None:
            return html
        values = {
            "translations": translations(locale),
            "fmt": self.formatter(locale, currency),
            "settings": self.settings,
            **context,
        }
        html = Markup(self.env.get_template(template).render(values))  # noqa: S704 (autoescaped)
        self._fragments[cache_key] = html
        return html

    def rows_html(self, rows: list[MirrorRow], locale: str, currency: str, places: int) -> Markup:
        """`places`: the Amount column's fraction digits, the same on every row of a page."""
        # Each row is the output of an autoescaping template, so already safe HTML.
        html = "".join(self._row_html(row, locale, currency, places) for row in rows)
        return Markup(html)  # noqa: S704

    def _render_row(self, row: MirrorRow, locale: str, currency: str, places: int) -> str:
        """Everything is formatted here, so the template only places strings (a cold page of
        300 rows renders in a few milliseconds). The row's detail (app.js) reads its id, the
        token split from the `data-` attributes, and shows the Amount cell as it is, or
        `data-exact` when the column's digits round the amount (more than ten fraction
        digits, see `fmt.money_places`)."""
        fmt = self.formatter(locale, currency)
        exponent = row.amount.normalize().as_tuple().exponent
        rounded = isinstance(exponent, int) and -exponent > places
        gettext = translations(locale).gettext
        full_service = brand(row.service_type)
        split = (row.input_tokens, row.completion_tokens, row.cached_tokens)
        return self._row_template.render(
            row=row,
            date=fmt.table_date(row.created_at),
            type_name=gettext(TYPE_NAMES[row.type]),
            service=short_service(full_service),
            full_service=full_service,
            amount=plain_decimal(row.amount),
            money=fmt.column_money(row.amount, places),
            exact=(("+" if row.amount > 0 else "") + fmt.exact(row.amount)) if rounded else "",
            tokens=fmt.number(row.tokens_used),
            images=fmt.number(row.images_processed),
            tokens_label=gettext("Tokens"),
            images_label=gettext("Images"),
            split=" ".join("" if n is None else str(n) for n in split),
            description=brand(row.description),
        )
