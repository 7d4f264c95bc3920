"""Browser fixtures. The browser is package-scoped, which is one per test session for the
browser tests: while Playwright's sync API is alive it marks its event loop as running in this
thread, so `asyncio.run` (anyio tests elsewhere in the suite) would fail if it outlived them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright

from tests.browser.pages import (
    CHROMIUM,
    CSP_SPY,
    LAUNCH_ARGS,
    OpenPage,
    Site,
    Watched,
    require_chromium,
    running_site,
)

SEEDED_TRANSACTIONS = 1200
PAGE_SIZE = 300


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    require_chromium()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def open_page(browser: Browser) -> Iterator[OpenPage]:
    """`open_page(locale=..., width=..., state=..., color_scheme=...)`: a page in a fresh
    context of its own."""
    contexts: list[BrowserContext] = []

    def open_(
        *,
        locale: str = "en-US",
        width: int = 1280,
        height: int = 900,
        state: Any = None,
        color_scheme: Literal["light", "dark"] = "light",
    ) -> Watched:
        context = browser.new_context(
            locale=locale,
            viewport={"width": width, "height": height},
            color_scheme=color_scheme,
            storage_state=state,
            accept_downloads=True,
        )
        contexts.append(context)
        context.set_default_timeout(15_000)
        context.add_init_script(CSP_SPY)
        return Watched(context.new_page()).watch()

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture(scope="package")
def seeded_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("seeded")


@pytest.fixture(scope="package")
def seeded(browser: Browser, seeded_root: Path) -> Iterator[Site]:
    """1,200 demo transactions, 300 a page; shared by the tests that only read."""
    with running_site(
        browser, seeded_root, transactions=SEEDED_TRANSACTIONS, page_size=PAGE_SIZE
    ) as site:
        yield site


@pytest.fixture(scope="package")
def low_site(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The demo ledger under a threshold above its balance: the low-balance state."""
    root = tmp_path_factory.mktemp("low-site")
    with running_site(
        browser, root, transactions=600, page_size=PAGE_SIZE, low_balance_threshold="100000"
    ) as site:
        yield site


@pytest.fixture(scope="package")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")
