"""The pt_BR catalog is complete, in step with the sources, well-formed, and covers the manual.

The messages are extracted here with Babel's own API and the repository's babel.cfg, exactly as
`make messages` does, so a string added to a template or marked with `N_()` and not yet
translated fails this test (with the list of what is missing).
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from tokenusage.config import Settings
from tokenusage.web.i18n import DOMAIN, LOCALE_DIR, negotiate, translations
from tokenusage.web.render import make_environment

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
BABEL_CFG = ROOT / "babel.cfg"
WEB = SRC / "tokenusage" / "web"
PO = LOCALE_DIR / "pt_BR" / "LC_MESSAGES" / f"{DOMAIN}.po"
HINT = (
    f"Run `make messages`, then translate the new entries in {PO.relative_to(ROOT)}. "
    "(Babel's default directory filter skips directories whose name starts with '_', such as "
    "templates/_partials: the extraction must be given --ignore-dirs '.*'.)"
)

MessageId = str | tuple[str, ...]

# The manual's "Translatable Strings" (its doc tool dropped the underscores of the keys), all
# of them: the specification of what the dashboard must offer in every language.
MANUAL_STRINGS: dict[str, str] = {
    "token_usage_title": "Token & Credit Usage Dashboard",
    "token_usage_breadcrumb": "Token Usage",
    "token_usage_overview": "Overview",
    "token_usage_refresh": "Refresh Data",
    "token_usage_download": "Download History",
    "token_usage_update_pricing": "Update Pricing",
    "token_usage_clear_cache": "Clear Cache",
    "token_usage_debug": "Debug API",
    "token_usage_back": "Back to Reports",
    "token_usage_help": "Help",
    "token_usage_account_overview": "Account Overview",
    "token_usage_email": "Email",
    "token_usage_license_type": "License Type",
    "token_usage_domain": "Domain",
    "token_usage_member_since": "Member Since",
    "token_usage_balance_stats": "Current Balance & Usage Statistics",
    "token_usage_current_balance": "Current Balance",
    "token_usage_tokens_used": "Tokens Used",
    "token_usage_credits_used": "Credits Used",
    "token_usage_api_calls": "API Calls Made",
    "token_usage_images_processed": "Images Processed",
    "token_usage_last_updated": "Last Updated",
    "token_usage_pricing": "Current API Pricing (Live)",
    "token_usage_image_processing": "Image Processing",
    "token_usage_input_tokens": "Input Tokens",
    "token_usage_completion_tokens": "Completion Tokens",
    "token_usage_cached_tokens": "Cached Tokens",
    "token_usage_estimated": "Estimated Usage Remaining",
    "token_usage_image_searches": "Image Searches",
    "token_usage_low_balance": "LOW BALANCE WARNING",
    "token_usage_low_balance_msg": (
        "Your credit balance is below $1.00. Consider purchasing more credits to continue "
        "using AI services."
    ),
    "token_usage_buy_credits": "Click here to purchase credits",
    "token_usage_transaction_history": "Complete Transaction History",
    "token_usage_showing": "Showing",
    "token_usage_of": "of",
    "token_usage_transactions": "transactions",
    "token_usage_page": "Page",
    "token_usage_cache": "Cache",
    "token_usage_old": "old",
    "token_usage_previous": "Previous",
    "token_usage_next": "Next",
    "token_usage_date": "Date",
    "token_usage_type": "Type",
    "token_usage_service": "Service",
    "token_usage_amount": "Amount",
    "token_usage_tokens": "Tokens",
    "token_usage_images": "Images",
    "token_usage_description": "Description",
    "token_usage_no_transactions": "No transaction history available",
    "token_usage_unable_load": "Unable to Load Account Data",
    "token_usage_check_config": "Please check your license configuration and try again.",
    "token_usage_retry": "Retry Loading Data",
    "token_usage_no_transactions_download": "No transaction history available to download.",
    "token_usage_download_failed": "Failed to fetch data for download. Please try again.",
    "token_usage_data_refreshed": "Data refreshed successfully",
    "token_usage_pricing_cleared": "Pricing cache cleared. Latest prices will be fetched.",
    "token_usage_cache_cleared": "Cleared transaction cache files. Fresh data will be fetched.",
}

SHOWING = "Showing %(first)s-%(last)s of %(total)s transactions (Page %(page)s of %(pages)s)"
CACHE_AGE = "Cache: %(age)s old"

# Manual strings the app deliberately words differently: the msgid it uses instead.
APP_WORDING: dict[str, str] = {
    # The threshold is a setting (default $1.00) formatted for the locale, not a fixed "$1.00".
    "token_usage_low_balance_msg": (
        "Your credit balance is below %(threshold)s. Consider purchasing more credits to "
        "continue using AI services."
    ),
    # The app reports how many cached rows it removed (with plural forms); there are no files.
    "token_usage_cache_cleared": "Cleared %(num)s cached transaction. Fresh data will be fetched.",
    # Issue 11: one freshness line per piece of data instead of "(Live)"/"(Cached)" in the
    # title and a "Last Updated" row; the estimates sit next to each price, in its row.
    "token_usage_pricing": "Current API Pricing",
    "token_usage_last_updated": "As of %(when)s.",
    "token_usage_image_searches": "Image Processing",
}

# The manual's fragments of "Showing X-Y of Z transactions (Page N of M)" and "Cache: … old":
# the app translates each sentence whole, since word order differs between languages.
FRAGMENTS: dict[str, str] = {
    "token_usage_showing": SHOWING,
    "token_usage_of": SHOWING,
    "token_usage_transactions": SHOWING,
    "token_usage_page": SHOWING,
    "token_usage_cache": CACHE_AGE,
    "token_usage_old": CACHE_AGE,
}

# Where the pt_BR text is rightly the same as the English.
SAME_IN_PT_BR = {
    # "tokens" is the established Brazilian term in AI pricing and UIs; "fichas" would confuse.
    "Tokens",
}

# Product names, settings, commands and other literal text an admin types or looks up: a
# translation keeps each one that its msgid contains, verbatim.
PROTECTED = (
    "ComusThumbz",
    "CTZ-AI",
    "License API",
    "CSV",
    "JSON",
    "Excel",
    "UTF-8",
    "ISO 8601",
    "CSRF",
    "license_key",
    "license_domain",
    "license_email",
    "TOKENUSAGE_LICENSE_KEY",
    "TOKENUSAGE_LICENSE_DOMAIN",
    "TOKENUSAGE_LICENSE_EMAIL",
    "api_url",
    "database_url",
    "tokenusage admin create NAME",
    "tokenusage cache status",
    "?debug=1",
    "credits/history",
    "USER INFO",
    "USER STATS",
    "PRICING",
    "Local store unavailable",
)

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _walk_into(dirpath: str) -> bool:
    """Every source directory, `_partials` included (Babel's default skips `_*` and `.*`)."""
    name = os.path.basename(dirpath)
    return not name.startswith(".") and name != "__pycache__"


@functools.cache
def _extraction() -> tuple[Catalog, frozenset[str]]:
    """The messages of the sources as `make messages` extracts them, and the files it read."""
    with BABEL_CFG.open(encoding="utf-8") as fp:
        method_map, options_map = parse_mapping_cfg(fp, str(BABEL_CFG))
    keywords = {**DEFAULT_KEYWORDS, "N_": None}  # -k N_
    visited: set[str] = set()

    def seen(filename: str, method: str, options: dict[str, str]) -> None:
        visited.add(filename)

    catalog = Catalog(locale=None, project="tokenusage")
    for filename, lineno, message, comments, context in extract_from_dir(
        SRC,
        method_map,
        options_map,
        keywords=keywords,
        callback=seen,
        directory_filter=_walk_into,
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog, frozenset(visited)


@functools.cache
def _po() -> Catalog:
    with PO.open("rb") as fp:
        return read_po(fp, locale="pt_BR", domain=DOMAIN)


def _entries(catalog: Catalog) -> list[Message]:
    return [message for message in catalog if message.id]


def _strings(message: Message) -> tuple[str, ...]:
    string = message.string
    return tuple(string) if isinstance(string, (list, tuple)) else (string,)


def _ids(message: Message) -> tuple[str, ...]:
    return tuple(message.id) if isinstance(message.id, (list, tuple)) else (message.id,)


def _show(msgid: MessageId) -> str:
    return " | ".join(msgid) if isinstance(msgid, tuple) else msgid


def _translated(msgid: MessageId) -> tuple[str, ...]:
    message = _po().get(msgid)
    assert message is not None, f"{_show(msgid)!r} is not in {PO.name}. {HINT}"
    return _strings(message)


def test_extraction_reads_every_template_and_module() -> None:
    _, visited = _extraction()
    expected = {
        path.relative_to(SRC).as_posix()
        for pattern in ("templates/**/*.html", "**/*.py")
        for path in WEB.glob(pattern)
    }
    assert expected, "no sources found: has the web package moved?"
    assert sorted(expected - visited) == [], "babel.cfg does not cover these files"


def test_every_source_message_has_a_translation() -> None:
    extracted, _ = _extraction()
    po = _po()
    problems = []
    for message in _entries(extracted):
        entry = po.get(message.id, message.context)
        forms = po.num_plurals if message.pluralizable else 1
        if entry is None:
            problems.append(f"missing: {_show(message.id)!r}")
        elif _ids(entry) != _ids(message):
            problems.append(f"plural form changed: {_show(message.id)!r}")
        elif entry.fuzzy:
            problems.append(f"fuzzy: {_show(message.id)!r}")
        elif len(_strings(entry)) != forms or not all(s.strip() for s in _strings(entry)):
            problems.append(f"untranslated: {_show(message.id)!r}")
    assert problems == [], f"{len(problems)} pt_BR entries need work. {HINT}\n" + "\n".join(
        problems
    )


def test_catalog_has_no_entry_the_sources_dropped() -> None:
    extracted, _ = _extraction()
    po = _po()
    stale = [
        _show(message.id)
        for message in _entries(po)
        if extracted.get(message.id, message.context) is None
    ]
    obsolete = [_show(message.id) for message in po.obsolete.values()]
    assert stale == [], f"entries no longer in the sources (run `make messages`): {stale}"
    assert obsolete == [], f"obsolete (#~) entries should be dropped: {obsolete}"


def test_catalog_header() -> None:
    po = _po()
    assert str(po.locale) == "pt_BR"
    assert po.plural_forms == Catalog(locale="pt_BR").plural_forms
    assert not po.fuzzy
    assert "FULL NAME" not in (po.last_translator or "")


def test_babel_catalog_checks_pass() -> None:
    errors = [
        f"{_show(message.id)!r}: {error}" for message, found in _po().check() for error in found
    ]
    assert errors == [], "\n".join(errors)


def test_translations_keep_every_placeholder_and_no_stray_percent() -> None:
    # Babel's check lets a translation drop a placeholder; the dashboard would then lose a
    # number. And newstyle gettext always applies `%`, so a lone "%" would break the page.
    problems = []
    for message in _entries(_po()):
        wanted = sorted({name for msgid in _ids(message) for name in PLACEHOLDER.findall(msgid)})
        for string in _strings(message):
            if sorted(set(PLACEHOLDER.findall(string))) != wanted:
                problems.append(f"{_show(message.id)!r} -> {string!r}: placeholders {wanted}")
            elif "%" in PLACEHOLDER.sub("", string).replace("%%", ""):
                problems.append(f"{_show(message.id)!r} -> {string!r}: stray %")
    assert problems == [], "\n".join(problems)


def test_translations_keep_names_and_identifiers() -> None:
    problems = [
        f"{_show(message.id)!r} -> {string!r}: lost {term!r}"
        for message in _entries(_po())
        for term in PROTECTED
        if any(term in msgid for msgid in _ids(message))
        for string in _strings(message)
        if term not in string
    ]
    assert problems == [], "\n".join(problems)


def test_manual_list_is_complete_and_consistent() -> None:
    assert len(MANUAL_STRINGS) == 57
    assert set(APP_WORDING) <= set(MANUAL_STRINGS)
    assert set(FRAGMENTS) <= set(MANUAL_STRINGS)
    assert not set(APP_WORDING) & set(FRAGMENTS)


@pytest.mark.parametrize("key", sorted(MANUAL_STRINGS))
def test_manual_string_is_in_the_catalog_and_translated(key: str) -> None:
    english = MANUAL_STRINGS[key]
    if key in FRAGMENTS:
        msgid = FRAGMENTS[key]
        assert re.search(rf"\b{re.escape(english)}\b", msgid), f"{english!r} not in {msgid!r}"
    else:
        msgid = APP_WORDING.get(key, english)
    extracted, _ = _extraction()
    assert extracted.get(msgid) is not None, f"the app no longer uses {msgid!r} ({key})"
    for string in _translated(msgid):
        assert string.strip(), f"{msgid!r} ({key}) has no pt_BR translation. {HINT}"
        if msgid not in SAME_IN_PT_BR:
            assert string != msgid, f"{msgid!r} ({key}) is not translated: still English"


def test_loaded_pt_br_catalog_translates() -> None:
    catalog = translations("pt_BR")
    assert catalog.gettext("Refresh Data") == "Atualizar dados"
    assert catalog.gettext("Clear Cache") == "Limpar cache"
    assert catalog.gettext("Current Balance") == "Saldo atual"
    assert catalog.gettext("LOW BALANCE WARNING") == "AVISO DE SALDO BAIXO"
    assert catalog.ngettext("%(num)s row", "%(num)s rows", 1) == "%(num)s linha"
    assert catalog.ngettext("%(num)s row", "%(num)s rows", 2) == "%(num)s linhas"
    assert translations("en").gettext("Refresh Data") == "Refresh Data"


def test_templates_render_in_pt_br() -> None:
    template = make_environment().from_string(
        '{{ _("Back to Reports") }} / {{ ngettext("%(num)s row", "%(num)s rows", 3) }}'
    )
    assert template.render(translations=translations("pt_BR")) == "Voltar aos relatórios / 3 linhas"
    assert template.render(translations=translations("en")) == "Back to Reports / 3 rows"


@pytest.mark.parametrize(
    ("singular", "plural"),
    [
        (
            "Cleared %(num)s cached transaction. Fresh data will be fetched.",
            "Cleared %(num)s cached transactions. Fresh data will be fetched.",
        ),
        (
            "Too many failed sign-in attempts. Try again in %(num)s second.",
            "Too many failed sign-in attempts. Try again in %(num)s seconds.",
        ),
    ],
)
def test_python_side_plurals_translate(singular: str, plural: str) -> None:
    catalog = translations("pt_BR")
    assert catalog.ngettext(singular, plural, 1) != singular
    assert catalog.ngettext(singular, plural, 2) != plural


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("pt-BR,pt;q=0.9,en;q=0.8", "pt_BR"),
        ("pt", "pt_BR"),
        ("fr-FR", "en"),
        ("fr-FR,en;q=0.5", "en"),
        (None, "en"),
    ],
)
def test_negotiate_with_default_settings(header: str | None, expected: str) -> None:
    default = Settings.model_fields["locale"].default
    assert default == "en"
    assert negotiate(header, default) == expected


def test_no_message_hides_in_an_f_string() -> None:
    """Babel's extractor does not look inside f-strings: a message marked there is never
    translated (the chart's "The numbers as a table" stayed English in pt_BR)."""
    import re
    from pathlib import Path

    import tokenusage

    src = Path(tokenusage.__file__).parent
    marked = re.compile(r"""\bf(["']).*\b(N_|_|gettext)\(\s*["']""")
    found = [
        f"{path.relative_to(src)}:{n}"
        for path in src.rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if marked.search(line)
    ]
    assert not found, f"messages inside f-strings: {found}"
