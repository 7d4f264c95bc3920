"""A state-changing POST without the session's CSRF token is refused and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser.pages import OpenPage, Site
from tests.support.dashboard import wait_synced

pytestmark = pytest.mark.browser

FETCH = """async ([url, headers, body]) => {
  const response = await fetch(url, {
    method: "POST", credentials: "same-origin", headers: headers, body: body,
  });
  return {status: response.status, text: await response.text()};
}"""
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _post(page: Page, path: str, headers: dict[str, str], body: str | None) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(FETCH, [path, headers, body])
    return result


def test_clear_cache_without_a_valid_token_is_refused(seeded: Site, open_page: OpenPage) -> None:
    w = open_page(state=seeded.state)
    page = w.page
    page.goto(seeded.url + "/")
    wait_synced(seeded.dash)
    store = seeded.dash.service.store
    assert store is not None
    key = seeded.dash.service.identity
    before = store.mirror_status(key)
    assert before.present and before.rows == 1200
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    assert token

    attempts = {
        "no token": ({}, None),
        "empty form": (FORM, ""),
        "wrong header": ({"X-CSRF-Token": "not-" + token}, None),
        "wrong field": (FORM, "csrf_token=not-" + token),
        "empty header": ({"X-CSRF-Token": ""}, None),
    }
    for what, (headers, body) in attempts.items():
        answer = _post(page, "/actions/clear-cache", headers, body)
        assert answer["status"] == 403, (what, answer["status"])
        assert "CSRF" in answer["text"], what

    after = store.mirror_status(key)
    assert after.present and after.rows == 1200
    assert after.full_synced_at == before.full_synced_at
    page.reload()
    assert "of 1,200 transactions" in page.locator("#showing").inner_text()
    assert page.locator("#history-table tbody tr").count() == 300
    assert page.locator(".alert.success").count() == 0, "no 'Cleared …' message may show"
    w.assert_clean()
