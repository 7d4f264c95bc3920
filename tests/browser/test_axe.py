"""axe-core on every page of the dashboard: 0 violations of any impact, in light and dark,
English and Brazilian Portuguese, at 1440 and 375 px. One page load per page and language;
the four width and colour-scheme variants are audited on that same document."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import Browser

from tests.browser import axe
from tests.browser.pages import Site
from tests.browser.states import api_down_site, empty_site, low_balance_site

pytestmark = pytest.mark.browser

LOCALES = {"en": "en-US", "pt_BR": "pt-BR"}
VIEWPORTS = {1440: 900, 375: 812}
SCHEMES: tuple[Literal["light", "dark"], ...] = ("light", "dark")

# page id: (site fixture, path, signed in)
PAGES = {
    "signin": ("seeded", "/login", False),
    "overview": ("seeded", "/", True),
    "overview-low-balance": ("low", "/", True),
    "deep-history": ("seeded", "/?page=4", True),
    "filtered": ("seeded", "/?type=purchase&type=refund", True),
    "debug": ("seeded", "/debug", True),
    "debug-api-down": ("down", "/debug", True),
    "help": ("seeded", "/help", True),
    "alerts": ("low", "/alerts", True),
    "tokens": ("low", "/tokens", True),
    "api-down": ("down", "/", True),
    "empty": ("empty", "/", True),
}


@pytest.fixture(scope="module")
def low(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with low_balance_site(browser, tmp_path_factory.mktemp("axe-low")) as site:
        yield site


@pytest.fixture(scope="module")
def down(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with api_down_site(browser, tmp_path_factory.mktemp("axe-down")) as site:
        yield site


@pytest.fixture(scope="module")
def empty(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with empty_site(browser, tmp_path_factory.mktemp("axe-empty")) as site:
        yield site


@pytest.mark.parametrize("name", PAGES)
def test_no_axe_violations(
    name: str,
    browser: Browser,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fixture, path, signed_in = PAGES[name]
    site: Site = request.getfixturevalue(fixture)
    found: dict[str, list[axe.Violation]] = {}
    audited = 0
    start = time.perf_counter()
    for locale, accept in LOCALES.items():
        context = browser.new_context(
            locale=accept,
            storage_state=site.state if signed_in else None,
            bypass_csp=True,  # only here: axe is injected as a script of the page
        )
        try:
            context.set_default_timeout(30_000)
            page = context.new_page()
            answer = page.goto(site.url + path)
            assert answer is not None
            if signed_in:
                assert "/login" not in page.url, f"{name}: not signed in"
            for width, height in VIEWPORTS.items():
                page.set_viewport_size({"width": width, "height": height})
                for scheme in SCHEMES:
                    page.emulate_media(color_scheme=scheme)
                    violations = axe.run(page)
                    audited += 1
                    if violations:
                        found[f"{locale} {width}px {scheme}"] = violations
        finally:
            context.close()
    assert audited == len(LOCALES) * len(VIEWPORTS) * len(SCHEMES)
    with capsys.disabled():
        print(f"\naxe {name}: {audited} variants in {time.perf_counter() - start:.1f} s")
    assert not found, f"axe-core found violations on {name}:\n" + axe.report(found)


def test_axe_is_not_part_of_the_product() -> None:
    """The engine is a test dependency: nothing the dashboard serves names or bundles it."""
    static = Path(__file__).resolve().parents[2] / "src" / "tokenusage" / "web"
    shipped = [p for p in static.rglob("*") if p.is_file() and p.suffix in {".js", ".html"}]
    assert shipped, static
    assert not [p for p in shipped if "axe" in p.name or "axe.run" in p.read_text()]
