"""Signing in through the login form, as an admin does."""

from __future__ import annotations

import re

import pytest

from tests.browser.pages import OpenPage, Site, sign_in

pytestmark = pytest.mark.browser


def test_sign_in_through_the_form_lands_on_the_overview(seeded: Site, open_page: OpenPage) -> None:
    w = open_page()
    page = w.page
    page.goto(seeded.url + "/")
    assert re.search(r"/login\?next=%2F$", page.url), page.url

    sign_in(page, seeded.dash)

    assert page.url == seeded.url + "/"
    assert page.locator("h1").inner_text().strip() == "Token & Credit Usage Dashboard"
    assert f"Signed in as {seeded.dash.admin}" in page.locator("form.session").inner_text()
    assert page.locator("#history-table tbody tr").count() == 300
    w.assert_clean()


def test_wrong_password_shows_an_error_and_stays_on_login(
    seeded: Site, open_page: OpenPage
) -> None:
    w = open_page()
    page = w.page

    sign_in(page, seeded.dash, password="not the password")

    assert page.url == seeded.url + "/login"
    error = page.locator(".alert.error[role=alert]")
    assert error.is_visible()
    assert error.inner_text().strip() == "Incorrect username or password."
    assert page.locator("#username").input_value() == seeded.dash.admin
    assert page.locator("#password").input_value() == ""
    page.goto(seeded.url + "/")
    assert "/login" in page.url, "a failed sign-in must not open the dashboard"
    w.assert_clean()
