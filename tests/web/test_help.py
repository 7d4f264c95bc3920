"""The help page says what the page does: the configured page size, the insights, the table's
keyboard and the row detail, in English and in Brazilian Portuguese."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures import RunningLicenseServer
from tests.support.dashboard import running_dashboard
from tests.web.pagetools import parse
from tests.web.support import signed_in


@pytest.mark.parametrize(
    ("language", "page_size", "insights", "said"),
    [
        (
            "en",
            "120 to a page",
            "Where the credit goes and when it runs out",
            ["usage is left plain", "the average daily spend of the last 7 days", "Enter on it"],
        ),
        (
            "pt-BR",
            "120 por página",
            "Para onde vai o crédito e quando ele acaba",
            ["o uso fica sem destaque", "a média diária de gasto dos últimos 7 dias", "Enter nela"],
        ),
    ],
)
def test_help_describes_this_dashboard(
    seeded_server: RunningLicenseServer,
    tmp_path: Path,
    language: str,
    page_size: str,
    insights: str,
    said: list[str],
) -> None:
    with (
        running_dashboard(seeded_server, tmp_path / "dash", page_size=120) as dash,
        signed_in(dash) as http,
    ):
        doc = parse(http.get("/help", headers={"Accept-Language": language}).text)
    article = doc.one("article")
    text = article.text()
    assert page_size in text and "300" not in text
    for phrase in said:  # usage is plain in the table; the runway's rate; the row detail
        assert phrase in text, phrase
    assert insights in [h.text() for h in article.find_all("h2")]
    shown_keys = [k.text() for k in doc.one("dl", cls="keys").find_all("kbd")]
    assert shown_keys == ["←", "→", "↑", "↓", "Home", "End", "Enter"]
