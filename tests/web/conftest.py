from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher

from tests.fixtures import RunningLicenseServer, running_license_server
from tests.support.dashboard import RunningDashboard, running_dashboard, sign_in
from tests.web.support import signed_in
from tokenusage.service import admins as accounts

SEEDED_TRANSACTIONS = 1200


@pytest.fixture(scope="module", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """The same Argon2id code paths at a tiny cost: at the production cost a sign-in takes
    0.1-0.4 s here, and these tests sign in dozens of times."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
        )
        accounts._dummy_hash.cache_clear()
        yield
    accounts._dummy_hash.cache_clear()


@pytest.fixture
def dashboard(license_server: RunningLicenseServer, tmp_path: Path) -> Iterator[RunningDashboard]:
    """The dashboard against the reference server's 1,200-transaction demo ledger."""
    with running_dashboard(license_server, tmp_path / "dash") as dash:
        yield dash


@pytest.fixture
def client(dashboard: RunningDashboard) -> Iterator[httpx.Client]:
    """A signed-in HTTP client of `dashboard` that does not follow redirects."""
    with dashboard.client() as http:
        assert sign_in(http).status_code == 303
        yield http


@pytest.fixture(scope="session")
def seeded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLicenseServer]:
    """The 1,200-transaction demo ledger, shared by every test that only reads it.

    Tests that change a ledger use `license_server` or a server of their own instead.
    """
    path = tmp_path_factory.mktemp("seeded") / "ls.sqlite3"
    with running_license_server(f"sqlite:///{path}", transactions=SEEDED_TRANSACTIONS) as srv:
        yield srv


@pytest.fixture(scope="module")
def reader_dashboard(
    seeded_server: RunningLicenseServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningDashboard]:
    """A dashboard on the shared seeded ledger, for the tests of one module that only read."""
    with running_dashboard(seeded_server, tmp_path_factory.mktemp("dash")) as dash:
        yield dash


@pytest.fixture(scope="module")
def reader(reader_dashboard: RunningDashboard) -> Iterator[httpx.Client]:
    """A signed-in client of `reader_dashboard`; it does not follow redirects."""
    with signed_in(reader_dashboard) as http:
        yield http
