"""Issue 11's screenshots: the overview when normal, low on balance and with the License API
down (nothing stored), at 1440 and 375 px, light and dark, en and pt_BR. They go to the test
output directory, and also to TOKENUSAGE_SHOTS_DIR when that is set, for a human to look at."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.browser.pages import OpenPage, Site
from tests.browser.states import api_down_site

pytestmark = pytest.mark.browser

LOCALES = {"en": "en-US", "pt_BR": "pt-BR"}
WIDTHS = {1440: 900, 375: 812}
SCHEMES = ("light", "dark")


@pytest.fixture(scope="module")
def down(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A licence whose API refuses connections, and nothing stored."""
    with api_down_site(browser, tmp_path_factory.mktemp("shots-down")) as site:
        yield site


def copy_out(paths: list[Path]) -> None:
    target = os.environ.get("TOKENUSAGE_SHOTS_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for path in paths:
            shutil.copy(path, Path(target) / path.name)


@pytest.mark.parametrize("state", ["normal", "low", "down"])
def test_overview_states_screenshots(
    request: pytest.FixtureRequest, open_page: OpenPage, screenshot_dir: Path, state: str
) -> None:
    site: Site = request.getfixturevalue(
        {"normal": "seeded", "low": "low_site", "down": "down"}[state]
    )
    shots: list[Path] = []
    for locale, accept in LOCALES.items():
        for width, height in WIDTHS.items():
            for scheme in SCHEMES:
                w = open_page(
                    locale=accept, width=width, height=height, state=site.state, color_scheme=scheme
                )
                w.page.goto(site.url + "/")
                path = screenshot_dir / f"{state}-{locale}-{width}-{scheme}.png"
                w.page.screenshot(path=path)
                shots.append(path)
                if scheme == "light" and state != "down":
                    full = screenshot_dir / f"{state}-{locale}-{width}-{scheme}-full.png"
                    w.page.evaluate("document.querySelector('.history').scrollIntoView()")
                    w.page.screenshot(path=full.with_name(full.stem + "-history.png"))
                    shots.append(full.with_name(full.stem + "-history.png"))
                w.assert_clean()
                w.page.context.close()
    for path in shots:
        assert path.stat().st_size > 10_000, f"{path} is suspiciously small"
    copy_out(shots)
