"""Which language a request gets, and its gettext catalog.

English is the source language (msgids), so `en` needs no catalog. `pt_BR` is read from
`locale/pt_BR/LC_MESSAGES/messages.po` shipped in the package: the .po is the only source, so a
compiled .mo can never disagree with it (parsing it once at start-up takes milliseconds).
`make messages` re-extracts the strings and updates the catalog. The browser's Accept-Language
wins over `settings.locale`, which is the fallback when the browser asks for nothing we have.
"""

from __future__ import annotations

import functools
import io
from gettext import NullTranslations
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2 import pass_context
from jinja2.runtime import Context

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
HTML_LANG = {"en": "en", "pt_BR": "pt-BR"}


def N_(message: str) -> str:  # the gettext convention's name for "translate later"
    """Marks a msgid for extraction where it is translated later, at render time."""
    return message


@functools.cache
def translations(locale: str) -> NullTranslations:
    if locale == "en":
        return NullTranslations()
    po = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po.open("rb") as fp:  # a missing catalog is a packaging bug: fail loudly
        catalog = read_po(fp, locale=locale, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def _language_of(tag: str) -> str | None:
    tag = tag.strip().lower().replace("_", "-")
    if tag == "pt" or tag.startswith("pt-"):
        return "pt_BR"
    if tag == "en" or tag.startswith("en-"):
        return "en"
    return None


def negotiate(accept_language: str | None, default: str) -> str:
    """The best supported locale for an Accept-Language header (`pt-BR,pt;q=0.9,en;q=0.8`)."""
    if not accept_language:
        return default
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept_language.split(",")[:32]):
        tag, _, params = item.partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        locale = _language_of(tag)
        if locale is not None and quality > 0:
            ranked.append((-quality, position, locale))
    return min(ranked)[2] if ranked else default


@pass_context
def _context_gettext(context: Context, message: str) -> str:
    catalog: NullTranslations = context["translations"]
    return catalog.gettext(message)


@pass_context
def _context_ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    catalog: NullTranslations = context["translations"]
    return catalog.ngettext(singular, plural, n)


def jinja_gettext_callables() -> dict[str, Any]:
    """gettext/ngettext that use the `translations` of the template being rendered, so one
    Environment serves every language (the i18n extension passes the context through)."""
    return {"gettext": _context_gettext, "ngettext": _context_ngettext}
