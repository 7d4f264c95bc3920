from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures import RunningLicenseServer
from tests.support.dashboard import RunningDashboard, running_dashboard, sign_in


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
