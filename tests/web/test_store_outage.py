"""A PostgreSQL outage is its own state, not a sign-out: signed-in admins keep their session
(the cookie is not rewritten), pages render from live data with a notice, the sign-in page
says the store is unavailable, and everything is normal again when the store is back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures import RunningLicenseServer
from tests.support.dashboard import RunningDashboard, running_dashboard, sign_in
from tests.support.pgcluster import Cluster, running_cluster
from tokenusage.service import sessions

pytestmark = pytest.mark.postgres

NOTICE = "The local store is unavailable"
NO_ADMIN = "No admin account exists yet"


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """A cluster of this test's own: stopping it must not take the session's one down."""
    with running_cluster() as own:
        yield own


@pytest.fixture
def pg_dashboard(
    cluster: Cluster, seeded_server: RunningLicenseServer, tmp_path: Path
) -> Iterator[RunningDashboard]:
    url = cluster.create_database()
    with running_dashboard(seeded_server, tmp_path / "dash", database_url=url) as dash:
        yield dash


def quiet(answer: httpx.Response) -> httpx.Response:
    """The answer did not touch the session cookie."""
    assert "set-cookie" not in answer.headers, answer.headers.get("set-cookie")
    return answer


def test_an_outage_keeps_the_session_and_recovers(
    cluster: Cluster, pg_dashboard: RunningDashboard, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sessions, "RECHECK_SECONDS", 0.0)  # every request asks the store
    with pg_dashboard.client() as http, pg_dashboard.client() as anonymous:
        assert sign_in(http).status_code == 303
        page = quiet(http.get("/"))
        assert page.status_code == 200 and NOTICE not in page.text

        cluster.stop()
        for path in ("/", "/help", "/"):
            page = quiet(http.get(path))
            assert page.status_code == 200, (path, page.status_code)
            assert NOTICE in page.text and "Sign out" in page.text
        assert quiet(http.get("/login")).status_code == 303  # still signed in
        login = anonymous.get("/login")
        assert login.status_code == 200
        assert NOTICE in login.text and NO_ADMIN not in login.text
        refused = sign_in(anonymous, pg_dashboard.admin, pg_dashboard.password)
        assert refused.status_code == 503 and NOTICE in refused.text

        cluster.resume()
        page = quiet(http.get("/"))
        assert page.status_code == 200 and NOTICE not in page.text
        assert "Sign out" in page.text
        assert sign_in(anonymous, pg_dashboard.admin, pg_dashboard.password).status_code == 303
        assert anonymous.get("/help").status_code == 200
