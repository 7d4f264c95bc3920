"""Sessions and the sign-in throttle live in the store, so replicas and restarts agree:
sign-out, "sign out everywhere" and a new password end sessions everywhere within a second,
idle and absolute lifetimes hold, and failures counted on one replica count on all."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from tests.support.dashboard import RunningDashboard, csrf_from, running_dashboard
from tests.web.support import signed_in
from tokenusage.service import sessions
from tokenusage.service.admins import Admins
from tokenusage.store import Store
from tokenusage.store.engine import make_engine
from tokenusage.store.site_schema import web_sessions
from tokenusage.web.sessions import COOKIE_NAME

PROTECTED = ("/", "/debug", "/help")


@contextmanager
def replica(
    first: RunningDashboard | None, data_dir: Path, **extra: Any
) -> Iterator[RunningDashboard]:
    """A dashboard on `data_dir`'s store and session secret; a second one leaves the admin's
    password hash alone (a new hash would end the sessions for another reason)."""
    if first is None:
        with running_dashboard(None, data_dir, **extra) as dash:
            yield dash
        return
    with running_dashboard(None, data_dir, admin=None, **extra) as dash:
        dash.admin, dash.password = first.admin, first.password
        yield dash


def refused(dash: RunningDashboard, cookie: str, paths: tuple[str, ...] = PROTECTED) -> bool:
    """Every one of `paths` sends `cookie` to sign in (none does: it is accepted)."""
    with dash.client(cookies={COOKIE_NAME: cookie}) as http:
        answers = {path: http.get(path) for path in paths}
    sent_away = {path: a.status_code == 303 for path, a in answers.items()}
    assert len(set(sent_away.values())) == 1, {p: a.status_code for p, a in answers.items()}
    return all(sent_away.values())


def sign_out(http: httpx.Client, **form: str) -> httpx.Response:
    token = csrf_from(http.get("/help").text)
    return http.post("/logout", data={"csrf_token": token, **form})


def until_refused(dash: RunningDashboard, cookie: str, limit: float = 1.25) -> float:
    """Seconds until `dash` refuses `cookie` (the revocation reaching that replica)."""
    started = time.monotonic()
    while not refused(dash, cookie, ("/help",)):
        elapsed = time.monotonic() - started
        assert elapsed < limit, f"still signed in after {elapsed:.2f} s"
        time.sleep(0.05)
    return time.monotonic() - started


def test_a_signed_out_cookie_stays_dead_after_a_restart(tmp_path: Path) -> None:
    with replica(None, tmp_path) as first, signed_in(first) as http:
        copy = http.cookies[COOKIE_NAME]
        assert not refused(first, copy)
        assert sign_out(http).status_code == 303
        assert refused(first, copy)
    with replica(first, tmp_path) as restarted:
        assert refused(restarted, copy), "GET / and /debug after a restart"


def test_sign_out_on_one_replica_reaches_the_other_within_a_second(tmp_path: Path) -> None:
    with replica(None, tmp_path) as a, replica(a, tmp_path) as b, signed_in(a) as http:
        copy = http.cookies[COOKIE_NAME]
        assert not refused(b, copy), "one sign-in, both replicas"
        assert sign_out(http).status_code == 303
        assert until_refused(b, copy) <= sessions.RECHECK_SECONDS + 0.25
        assert refused(b, copy)


def test_sign_out_everywhere(tmp_path: Path) -> None:
    with (
        replica(None, tmp_path) as a,
        replica(a, tmp_path) as b,
        signed_in(a) as phone,
        signed_in(b) as laptop,
    ):
        cookies = [phone.cookies[COOKIE_NAME], laptop.cookies[COOKIE_NAME]]
        answer = sign_out(phone, everywhere="1")
        assert answer.status_code == 303
        assert "You have been signed out on every device." in phone.get("/login").text
        for dash in (a, b):
            for cookie in cookies:
                until_refused(dash, cookie)


def test_a_new_password_ends_every_session_at_once(tmp_path: Path) -> None:
    with replica(None, tmp_path) as a, replica(a, tmp_path) as b, signed_in(b) as http:
        copy = http.cookies[COOKIE_NAME]
        assert len(session_rows(a)) == 1
        with Store.open(a.settings.store_url) as store:
            Admins(store).set_password(a.admin, "a brand new passphrase")
        assert session_rows(a) == [], "the records are gone at once"
        until_refused(a, copy)
        until_refused(b, copy)


def session_rows(dash: RunningDashboard) -> list[Any]:
    engine = make_engine(dash.settings.store_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(web_sessions.select()))
    finally:
        engine.dispose()


def _age(dash: RunningDashboard, **times: timedelta) -> None:
    """Move every session's times back by `times` (seen_at, created_at)."""
    engine = make_engine(dash.settings.store_url)
    now = datetime.now(UTC)
    try:
        with engine.begin() as conn:
            conn.execute(update(web_sessions).values(**{k: now - v for k, v in times.items()}))
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("times", "ends"),
    [
        ({"seen_at": timedelta(seconds=590)}, False),
        ({"seen_at": timedelta(seconds=610)}, True),
        ({"created_at": timedelta(seconds=3590)}, False),
        ({"created_at": timedelta(seconds=3610)}, True),
    ],
)
def test_idle_and_absolute_lifetimes_are_judged_from_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, times: dict[str, timedelta], ends: bool
) -> None:
    monkeypatch.setattr(sessions, "RECHECK_SECONDS", 0.0)
    lifetimes = {"session_max_age": 600, "session_absolute_max_age": 3600}
    with replica(None, tmp_path, **lifetimes) as dash, signed_in(dash) as http:
        copy = http.cookies[COOKIE_NAME]
        _age(dash, **times)
        assert refused(dash, copy) is ends


def test_activity_is_written_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The idle lifetime slides with use (at most one write a minute per session)."""
    monkeypatch.setattr(sessions, "RECHECK_SECONDS", 0.0)
    with replica(None, tmp_path, session_max_age=600) as dash, signed_in(dash) as http:
        _age(dash, seen_at=timedelta(seconds=30))
        assert http.get("/help").status_code == 200
        (quiet,) = session_rows(dash)
        assert datetime.now(UTC) - quiet.seen_at > timedelta(seconds=29), "not a write a view"
        _age(dash, seen_at=timedelta(seconds=500))
        assert http.get("/help").status_code == 200
        (touched,) = session_rows(dash)
        assert datetime.now(UTC) - touched.seen_at < timedelta(seconds=10)


# -- 2. the throttle -----------------------------------------------------------------------


def attempt(dash: RunningDashboard, password: str) -> int:
    with dash.client() as http:
        token = csrf_from(http.get("/login").text)
        form = {"username": dash.admin, "password": password, "csrf_token": token}
        return http.post("/login", data=form).status_code


def test_failures_on_one_replica_count_on_all_and_survive_a_restart(tmp_path: Path) -> None:
    with replica(None, tmp_path) as a, replica(a, tmp_path) as b:
        assert [attempt(a, "wrong") for _ in range(3)] == [401] * 3
        assert [attempt(b, "wrong") for _ in range(2)] == [401] * 2
        assert attempt(b, "wrong") == 429, "5 failures in all: no sixth password check"
        assert attempt(a, a.password) == 429
    with replica(a, tmp_path) as restarted:
        assert attempt(restarted, restarted.password) == 429
