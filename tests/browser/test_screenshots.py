"""The overview in each language at desktop and phone widths, saved for a human to look at;
and at phone width the document itself never scrolls sideways (only the table may)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from tests.browser.pages import OpenPage, Site

pytestmark = pytest.mark.browser

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LOCALES = {"en": "en-US", "pt_BR": "pt-BR"}
WIDTHS = (1280, 375)
VIEWS = ("full", "top", "history", "bottom")


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE), f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("locale", LOCALES)
def test_overview_screenshot(
    seeded: Site,
    open_page: OpenPage,
    screenshot_dir: Path,
    capsys: pytest.CaptureFixture[str],
    locale: str,
    width: int,
) -> None:
    w = open_page(locale=LOCALES[locale], width=width, height=900, state=seeded.state)
    page = w.page
    page.goto(seeded.url + "/")
    expect_lang = LOCALES[locale] if locale != "en" else "en"
    assert page.locator("html").get_attribute("lang") == expect_lang

    shots = {name: screenshot_dir / f"overview-{locale}-{width}-{name}.png" for name in VIEWS}
    page.screenshot(path=shots["full"], full_page=True)
    page.screenshot(path=shots["top"])
    page.evaluate("document.querySelector('.history').scrollIntoView()")
    page.screenshot(path=shots["history"])
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.screenshot(path=shots["bottom"])
    for name, path in shots.items():
        assert path.is_file()
        assert path.stat().st_size > 20_000, f"{path} is suspiciously small"
        shot_width, shot_height = png_size(path)
        assert shot_width == width
        if name == "full":
            assert shot_height > 2000, "300 rows should make a long page"
        else:
            assert shot_height == 900
    with capsys.disabled():
        print("\nscreenshots: " + "\n             ".join(str(p) for p in shots.values()))

    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width + 1, f"the page scrolls sideways: {scroll_width} > {width}"
    w.assert_clean()
