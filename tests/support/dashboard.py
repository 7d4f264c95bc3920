"""A running dashboard over loopback, configured against a running reference License API,
with one admin account; and the few steps a client needs to sign in."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from tests.fixtures import RunningLicenseServer
from tests.support.liveserver import serve
from tokenusage.config import Settings, load_settings
from tokenusage.service import DashboardService
from tokenusage.service.admins import hash_password
from tokenusage.store import Store, licence_identity
from tokenusage.web.app import create_app, server_options

ADMIN = "admin"
PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class RunningDashboard:
    url: str
    settings: Settings
    app: Starlette
    admin: str = ADMIN
    password: str = PASSWORD

    @property
    def service(self) -> DashboardService:
        return self.app.state.web.service  # type: ignore[no-any-return]

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60, **kwargs)


def dashboard_settings(srv: RunningLicenseServer | None, data_dir: Path, **extra: Any) -> Settings:
    # No alert loop unless a test asks for one: it would sync behind the tests' backs.
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "retries": 0,
        "timeout": 10,
        "alert_interval": 0,
    }
    if srv is not None:
        values |= {
            "license_key": srv.key,
            "license_domain": srv.domain,
            "license_email": srv.email,
            "api_url": srv.base_url,
        }
    return load_settings(**(values | extra))


@contextmanager
def running_dashboard(
    srv: RunningLicenseServer | None,
    data_dir: Path,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    admin: str | None = ADMIN,
    password: str = PASSWORD,
    **extra: Any,
) -> Iterator[RunningDashboard]:
    """The dashboard app under uvicorn on a free port; `srv=None` leaves the licence unset."""
    settings = dashboard_settings(srv, data_dir, **extra)
    if admin is not None:
        with Store.open(settings.store_url) as store:
            store.upsert_admin(admin, hash_password(password))
    app = create_app(settings, transport=transport)
    with serve(app, **server_options(settings)) as url:
        yield RunningDashboard(url, settings, app, admin or "", password)


def identity_of(settings: Settings) -> str:
    """The key the dashboard stores this licence's data under."""
    return licence_identity(settings.license_key, settings.license_domain, settings.license_email)


def wait_synced(dash: RunningDashboard, timeout: float = 30) -> None:
    """Wait until the mirror behind a cold view is complete: a first page view answers from
    the newest page of history while the rest is still being mirrored."""
    deadline = time.monotonic() + timeout
    with Store(dash.settings.store_url) as store:
        while True:
            status = store.mirror_status(identity_of(dash.settings))
            if status.present and not status.syncing:
                return
            assert time.monotonic() < deadline, "the mirror did not finish syncing"
            time.sleep(0.02)


def csrf_from(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def sign_in(client: httpx.Client, admin: str = ADMIN, password: str = PASSWORD) -> httpx.Response:
    """Sign in through the real form; returns the POST's response (303 on success)."""
    token = csrf_from(client.get("/login").text)
    return client.post(
        "/login", data={"username": admin, "password": password, "csrf_token": token, "next": "/"}
    )


def post_action(client: httpx.Client, path: str, **data: str) -> httpx.Response:
    """POST a dashboard form with the CSRF token of the signed-in session."""
    token = csrf_from(client.get("/help").text)
    return client.post(path, data={"csrf_token": token, **data})
