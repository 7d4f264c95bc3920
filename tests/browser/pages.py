"""What the browser tests share: Debian's Chromium, a page watched for dialogs and CSP
violations, sign-in through the real form, and a dashboard on a ledger of its own."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page

from tests.fixtures import RunningLicenseServer, running_license_server
from tests.support.dashboard import RunningDashboard, running_dashboard

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Runs before any script of the page: keeps every CSP violation the page causes.
CSP_SPY = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline"));
});
"""


def require_chromium() -> None:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium; .ci/run does "
            "(apt-get install chromium). Never run `playwright install`.",
            pytrace=False,
        )


@dataclass
class Watched:
    """A page and what it did that a test must not let pass: dialogs, console errors,
    uncaught exceptions."""

    page: Page
    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def watch(self) -> Watched:
        self.page.on("dialog", self._dialog)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        return self

    def csp_violations(self) -> list[str]:
        """The current document's violations (the console keeps those of earlier ones)."""
        return list(self.page.evaluate("window.__cspViolations || []"))

    def assert_clean(self) -> None:
        assert not self.dialogs, f"the page opened dialogs: {self.dialogs}"
        csp = [m for m in self.console_errors if "Content Security Policy" in m]
        assert not csp, f"CSP violations in the console: {csp}"
        assert not self.csp_violations(), f"CSP violations: {self.csp_violations()}"
        assert not self.page_errors, f"uncaught errors in the page: {self.page_errors}"


OpenPage = Callable[..., Watched]


def sign_in(page: Page, dash: RunningDashboard, password: str | None = None) -> None:
    """Through the real form, by element ids so that it works in every language."""
    page.goto(f"{dash.url}/login")
    page.locator("#username").fill(dash.admin)
    page.locator("#password").fill(dash.password if password is None else password)
    with page.expect_navigation():
        page.locator("form[action='/login'] button[type=submit]").click()


def signed_in_state(browser: Browser, dash: RunningDashboard) -> dict[str, Any]:
    """The cookies of a session signed in through the form (a fresh context, closed after)."""
    context = browser.new_context()
    try:
        sign_in(context.new_page(), dash)
        return dict(context.storage_state())
    finally:
        context.close()


@dataclass
class Site:
    """A reference License API, the dashboard in front of it, and a signed-in browser state."""

    srv: RunningLicenseServer
    dash: RunningDashboard
    state: Any

    @property
    def url(self) -> str:
        return self.dash.url


@contextmanager
def running_site(
    browser: Browser,
    root: Path,
    *,
    transactions: int = 0,
    prepare: Callable[[RunningLicenseServer], object] | None = None,
    **settings: Any,
) -> Iterator[Site]:
    """`prepare` adds ledger entries before the dashboard first looks at the ledger."""
    with running_license_server(f"sqlite:///{root}/ls.sqlite3", transactions) as srv:
        if prepare is not None:
            prepare(srv)
        with running_dashboard(srv, root / "dash", **settings) as dash:
            yield Site(srv, dash, signed_in_state(browser, dash))
