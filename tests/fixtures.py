"""Shared fixtures: a running reference License API over loopback with a known ledger."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.faultproxy import FaultProxy, fault_proxy
from tests.support.liveserver import serve
from tokenusage.licenseserver.app import create_app
from tokenusage.licenseserver.demo import seed_demo
from tokenusage.licenseserver.ledger import Ledger
from tokenusage.store.engine import make_engine

SEED_END = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@dataclass
class RunningLicenseServer:
    base_url: str
    ledger: Ledger
    key: str
    domain: str
    email: str

    @property
    def params(self) -> dict[str, str]:
        return {"license_key": self.key, "domain": self.domain, "email": self.email}

    @property
    def licence_id(self) -> int:
        lic = self.ledger.find_licence(self.key)
        assert lic is not None
        return lic.id


@contextmanager
def running_license_server(
    db_url: str, transactions: int = 0, seed: int = 3
) -> Iterator[RunningLicenseServer]:
    """A reference server on `db_url`; with `transactions`, a seeded demo licence."""
    engine = make_engine(db_url)
    app = create_app(engine)
    ledger: Ledger = app.state.ledger
    if transactions:
        demo = seed_demo(ledger, transactions, seed=seed, end=SEED_END)
        key, domain, email = demo.key, demo.domain, demo.email
    else:
        key, domain, email = "CTZ-TEST-0000-1111-2222", "shop.example.com", "owner@example.com"
        ledger.issue_licence(key, domain, email, "Enterprise")
    try:
        with serve(app) as url:
            yield RunningLicenseServer(url, ledger, key, domain, email)
    finally:
        engine.dispose()


@pytest.fixture
def license_server(tmp_path: pytest.TempPathFactory) -> Iterator[RunningLicenseServer]:
    """A reference server on SQLite over loopback, with 1,200 seeded demo transactions."""
    with running_license_server(f"sqlite:///{tmp_path}/ls.sqlite3", transactions=1200) as srv:
        yield srv


@pytest.fixture
def empty_license_server(db_url: str) -> Iterator[RunningLicenseServer]:
    """A reference server on each engine with one licence and an empty ledger."""
    with running_license_server(db_url) as srv:
        yield srv


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[RunningLicenseServer]:
    """A reference server with 1,200 transactions, for tests that put a fault proxy before it."""
    with running_license_server(f"sqlite:///{tmp_path}/upstream.db", transactions=1200) as s:
        yield s


@pytest.fixture
def proxy(upstream: RunningLicenseServer) -> Iterator[FaultProxy]:
    """`upstream` behind a License API that misbehaves on demand (`tests.support.faultproxy`)."""
    with fault_proxy(upstream.base_url) as p:
        yield p
