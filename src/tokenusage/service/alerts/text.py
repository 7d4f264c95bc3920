"""What an alert says, in the installation's language (`locale`): the e-mail subject and the
one sentence (`text`) a webhook carries and Slack or Mattermost shows as it is."""

from __future__ import annotations

from decimal import Decimal

from tokenusage.usage.fmt import format_int, format_money

SENTENCES = {
    "en": {
        "balance_below": "The credit balance is {value}, below {threshold}.",
        "runway_below_days": "At the current burn rate the credit runs out in {value} days "
        "(alert below {threshold} days).",
        "daily_spend_above": "Today's spend is {value}, above {threshold}.",
        "stale_minutes": "No successful sync of the ledger for {value} minutes "
        "(alert above {threshold} minutes).",
        "never": "never",
        "test": "This is a test of the alert {name}. Its channels work.",
        "subject": "[tokenusage] {name}: {sentence}",
        "test_subject": "[tokenusage] Test of the alert {name}",
        "open": "Open the dashboard: {url}",
    },
    "pt_BR": {
        "balance_below": "O saldo de créditos é {value}, abaixo de {threshold}.",
        "runway_below_days": "No ritmo atual de gasto o crédito acaba em {value} dias "
        "(alerta abaixo de {threshold} dias).",
        "daily_spend_above": "O gasto de hoje é {value}, acima de {threshold}.",
        "stale_minutes": "Nenhuma sincronização do histórico deu certo há {value} minutos "
        "(alerta acima de {threshold} minutos).",
        "never": "nunca",
        "test": "Este é um teste do alerta {name}. Os seus canais funcionam.",
        "subject": "[tokenusage] {name}: {sentence}",
        "test_subject": "[tokenusage] Teste do alerta {name}",
        "open": "Abra o painel: {url}",
    },
}


def _words(locale: str) -> dict[str, str]:
    return SENTENCES.get(locale, SENTENCES["en"])


def shown(kind: str, value: Decimal, locale: str) -> str:
    if not value.is_finite():
        return "∞"
    if kind in ("balance_below", "daily_spend_above"):
        return format_money(value, "USD", locale)
    return format_int(int(value), locale)


def sentence(kind: str, value: Decimal, threshold: Decimal, locale: str) -> str:
    words = _words(locale)
    return words[kind].format(
        value=shown(kind, value, locale), threshold=shown(kind, threshold, locale)
    )


def subject(name: str, text: str, locale: str) -> str:
    return _words(locale)["subject"].format(name=name, sentence=text)


def test_texts(name: str, locale: str) -> tuple[str, str]:
    words = _words(locale)
    return words["test_subject"].format(name=name), words["test"].format(name=name)


def body(text: str, url: str, locale: str) -> str:
    return f"{text}\n\n{_words(locale)['open'].format(url=url)}\n" if url else f"{text}\n"
