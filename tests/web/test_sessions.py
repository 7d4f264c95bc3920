"""Signing in and out: cookie flags, throttling per (username, address), the `next` target,
and the ways a session ends (sign-out, a changed password, a tampered cookie)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher

from tests.support.dashboard import RunningDashboard, csrf_from, running_dashboard, sign_in
from tests.web.pagetools import flashes, parse
from tests.web.support import signed_in
from tokenusage.service import sessions
from tokenusage.service.admins import hash_password, needs_rehash
from tokenusage.store import Store, StoreError
from tokenusage.web.sessions import COOKIE_NAME

SECOND_ADMIN, SECOND_PASSWORD = "operator", "another long passphrase"


@contextmanager
def two_admins(data_dir: Path) -> Iterator[RunningDashboard]:
    """No licence needed to sign in; a second admin to tell usernames apart. A TLS-terminating
    proxy on loopback is trusted, so tests can play it with X-Forwarded-For and -Proto."""
    with running_dashboard(None, data_dir, forwarded_allow_ips="127.0.0.1") as running:
        with Store.open(running.settings.store_url) as store:
            store.upsert_admin(SECOND_ADMIN, hash_password(SECOND_PASSWORD))
        yield running


@pytest.fixture
def dash(tmp_path: Path) -> Iterator[RunningDashboard]:
    """A dashboard of its own, for tests that lock an admin out or change a password."""
    with two_admins(tmp_path) as running:
        yield running


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDashboard]:
    """For tests that only sign in and out successfully (no throttling, no new password)."""
    with two_admins(tmp_path_factory.mktemp("sessions")) as running:
        yield running


def attempt(
    http: httpx.Client, username: str, password: str, next_: str = "/", **headers: str
) -> httpx.Response:
    token = csrf_from(http.get("/login").text)
    form = {"username": username, "password": password, "csrf_token": token, "next": next_}
    return http.post("/login", data=form, headers=headers)


def session_cookie(answer: httpx.Response) -> str:
    (cookie,) = [c for c in answer.headers.get_list("set-cookie") if c.startswith(COOKIE_NAME)]
    return cookie


def flags(cookie: str) -> set[str]:
    return {part.strip().lower() for part in cookie.split(";")[1:]}


def test_session_cookie_flags(shared: RunningDashboard) -> None:
    with shared.client() as http:
        cookie = session_cookie(sign_in(http))
        assert {"httponly", "samesite=lax", "path=/"} <= flags(cookie)
        assert "secure" not in flags(cookie), "plain HTTP on loopback"
    with shared.client() as http:
        # forwarded_allow_ips trusts X-Forwarded-Proto from 127.0.0.1: a TLS proxy in front.
        page = http.get("/login", headers={"x-forwarded-proto": "https"})
        assert "secure" in flags(session_cookie(page))


def test_sign_in_starts_a_fresh_session(shared: RunningDashboard) -> None:
    with shared.client() as http:
        before = csrf_from(http.get("/login").text)
        assert attempt(http, shared.admin, shared.password).status_code == 303
        after = csrf_from(http.get("/help").text)
        assert after != before, "the CSRF token of the anonymous session does not carry over"


def test_secure_cookies_setting(tmp_path: Path) -> None:
    with (
        running_dashboard(None, tmp_path, secure_cookies=True) as secure,
        secure.client() as http,
    ):
        assert {"secure", "httponly", "samesite=lax"} <= flags(session_cookie(http.get("/login")))
    with (
        running_dashboard(
            None, tmp_path / "off", secure_cookies=False, forwarded_allow_ips="127.0.0.1"
        ) as plain,
        plain.client() as http,
    ):
        page = http.get("/login", headers={"x-forwarded-proto": "https"})
        assert "secure" not in flags(session_cookie(page))


def test_five_failures_lock_that_username_from_that_address(dash: RunningDashboard) -> None:
    with dash.client() as http:
        for _ in range(5):
            failed = attempt(http, dash.admin, "wrong password")
            assert failed.status_code == 401
            assert "Incorrect username or password." in failed.text
        locked = attempt(http, dash.admin.upper(), dash.password)
        assert locked.status_code == 429, "the right password does not help while locked"
        wait = int(locked.headers["retry-after"])
        assert 1 <= wait <= 60
        message = parse(locked.text).one("div", cls="error", role="alert").text()
        assert message == f"Too many failed sign-in attempts. Try again in {wait} seconds."
        assert http.get("/help").status_code == 303, "not signed in"

        assert attempt(http, SECOND_ADMIN, SECOND_PASSWORD).status_code == 303
    with dash.client() as elsewhere:
        moved = attempt(elsewhere, dash.admin, dash.password, **{"x-forwarded-for": "203.0.113.9"})
        assert moved.status_code == 303, "another address is not locked out"


def test_parallel_attempts_cannot_slip_past_the_limit(dash: RunningDashboard) -> None:
    clients = [dash.client() for _ in range(12)]
    try:
        forms = []
        for http in clients:  # each with its own session and token, all from one address
            token = csrf_from(http.get("/login").text)
            forms.append({"username": dash.admin, "password": "wrong", "csrf_token": token})
        with ThreadPoolExecutor(len(clients)) as pool:
            answers = list(
                pool.map(
                    lambda pair: pair[0].post("/login", data=pair[1]),
                    zip(clients, forms, strict=True),
                )
            )
    finally:
        for http in clients:
            http.close()
    codes = sorted(a.status_code for a in answers)
    assert codes.count(401) == 5 and codes.count(429) == 7, codes


def test_a_success_resets_the_count(dash: RunningDashboard) -> None:
    with dash.client() as http:
        for _ in range(4):
            assert attempt(http, dash.admin, "wrong").status_code == 401
        assert attempt(http, dash.admin, dash.password).status_code == 303
    with dash.client() as http:
        for _ in range(5):
            assert attempt(http, dash.admin, "wrong").status_code == 401
        assert attempt(http, dash.admin, "wrong").status_code == 429


OFF_SITE = (
    "//evil.example",
    "//evil.example/%2F..",
    "https://evil.example",
    "http:evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "javascript:alert(1)",
    "evil.example",
    "",
)


def test_next_never_leaves_the_site(shared: RunningDashboard) -> None:
    with shared.client() as http:
        for target in OFF_SITE:
            page = http.get("/login", params={"next": target})
            assert parse(page.text).one("input", name="next").attrs["value"] == "/", target
    for target in ("//evil.example", "/\\evil.example", "/\t/evil.example"):
        with shared.client() as http:
            answer = attempt(http, shared.admin, shared.password, next_=target)
            assert answer.status_code == 303 and answer.headers["location"] == "/", target
    with signed_in(shared) as http:
        for target in OFF_SITE:  # signed in, /login sends the admin on at once
            again = http.get("/login", params={"next": target})
            assert again.status_code == 303 and again.headers["location"] == "/", target


def test_next_returns_to_the_page_asked_for(shared: RunningDashboard) -> None:
    with shared.client() as http:
        asked = http.get("/help?x=1")
        assert asked.headers["location"] == "/login?next=%2Fhelp%3Fx%3D1"
        page = http.get(asked.headers["location"])
        assert parse(page.text).one("input", name="next").attrs["value"] == "/help?x=1"
        answer = attempt(http, shared.admin, shared.password, next_="/help?x=1")
        assert answer.headers["location"] == "/help?x=1"


def test_sign_out_ends_the_session(shared: RunningDashboard) -> None:
    with signed_in(shared) as http:
        stolen = http.cookies[COOKIE_NAME]
        token = csrf_from(http.get("/help").text)
        out = http.post("/logout", data={"csrf_token": token})
        assert out.status_code == 303 and out.headers["location"] == "/login"
        assert http.get("/help").status_code == 303
        login = http.get("/login")
        assert flashes(parse(login.text)) == [("info", "You have been signed out.")]
    with shared.client(cookies={COOKIE_NAME: stolen}) as replay:
        assert replay.get("/help").status_code == 303, "a copy of the old cookie is dead too"


def test_a_new_password_ends_existing_sessions(dash: RunningDashboard) -> None:
    assert sessions.RECHECK_SECONDS <= 1, "a password change ends sessions within a second"
    with signed_in(dash) as http, signed_in(dash) as second:
        assert http.get("/help").status_code == 200
        with Store.open(dash.settings.store_url) as store:
            store.upsert_admin(dash.admin, hash_password("a brand new passphrase"))
        changed = time.monotonic()
        # Each session is rechecked at most once a second, so each ends within a second.
        while http.get("/help").status_code == 200:
            assert time.monotonic() - changed < 1.5, "the old session is still alive"
            time.sleep(0.1)
        assert http.get("/help").status_code == 303
        while (
            as_json := second.get("/", headers={"accept": "application/json"})
        ).status_code != 401:
            assert time.monotonic() - changed < 1.5, "the second session is still alive"
            time.sleep(0.1)
        assert as_json.json()["error"] == "You are not signed in, or your session has expired."
    with dash.client() as http:
        assert attempt(http, dash.admin, dash.password).status_code == 401
        assert attempt(http, dash.admin, "a brand new passphrase").status_code == 303


def test_a_tampered_cookie_is_no_session(shared: RunningDashboard) -> None:
    with signed_in(shared) as http:
        value = http.cookies[COOKIE_NAME]
    middle = len(value) // 3
    forged = value[:middle] + ("A" if value[middle] != "A" else "B") + value[middle + 1 :]
    for cookie in (forged, value[:-3] + "abc", "garbage", ""):
        with shared.client(cookies={COOKIE_NAME: cookie}) as http:
            assert http.get("/help").status_code == 303


WEAK = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def test_an_old_hash_is_strengthened_at_sign_in(dash: RunningDashboard) -> None:
    with Store.open(dash.settings.store_url) as store:
        store.upsert_admin(SECOND_ADMIN, WEAK.hash(SECOND_PASSWORD))
    with dash.client() as http:
        assert attempt(http, SECOND_ADMIN, SECOND_PASSWORD).status_code == 303
        assert http.get("/help").status_code == 200, "sealed with the hash now stored"
    with Store.open(dash.settings.store_url) as store:
        stored = store.get_admin_hash(SECOND_ADMIN)
    assert stored is not None and not needs_rehash(stored)


def test_sign_in_survives_a_store_that_cannot_save_the_new_hash(
    dash: RunningDashboard, monkeypatch: pytest.MonkeyPatch
) -> None:
    weak = WEAK.hash(SECOND_PASSWORD)
    with Store.open(dash.settings.store_url) as store:
        store.upsert_admin(SECOND_ADMIN, weak)

    def read_only(*_args: object) -> bool:
        raise StoreError("attempt to write a readonly database")

    assert dash.service.store is not None
    monkeypatch.setattr(dash.service.store, "upsert_admin", read_only)
    with dash.client() as http:
        assert attempt(http, SECOND_ADMIN, SECOND_PASSWORD).status_code == 303
        assert http.get("/help").status_code == 200, "sealed with the hash still stored"
    with Store.open(dash.settings.store_url) as store:
        assert store.get_admin_hash(SECOND_ADMIN) == weak
