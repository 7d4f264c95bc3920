"""Two `tokenusage serve` replicas on one throwaway PostgreSQL store behave as one dashboard:
a sign-out on A is refused on B within a second, the sign-in throttle counts across both, and
100 concurrent cold views split across both start one history sync."""

from __future__ import annotations

import asyncio
import re
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from tests.cli.support import clean_env, tokenusage_cmd
from tests.cli.test_serving import stop
from tests.fixtures import RunningLicenseServer, running_license_server
from tests.support.faultproxy import FaultProxy, Forward, fault_proxy, on
from tests.support.pgcluster import Cluster, free_port
from tokenusage.service.admins import hash_password
from tokenusage.store import Store
from tokenusage.store.engine import make_engine
from tokenusage.store.schema import mirror_generations
from tokenusage.web.sessions import COOKIE_NAME

pytestmark = pytest.mark.postgres

ADMIN, PASSWORD = "admin", "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Replica:
    url: str
    proc: subprocess.Popen[bytes]
    stderr: Path


@contextmanager
def serving(env: dict[str, str], tmp: Path, name: str) -> Iterator[Replica]:
    port = free_port()
    err = tmp / f"{name}.err"
    with err.open("w") as stderr:
        proc = subprocess.Popen(
            tokenusage_cmd("serve", "--port", str(port), "--log-level", "warning"),
            env=env | {"TOKENUSAGE_DATA_DIR": str(tmp / name)},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, err.read_text()
            try:
                if httpx.get(url + "/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the replica did not start"
            time.sleep(0.1)
        yield Replica(url, proc, err)
    finally:
        code = stop(proc, signal.SIGTERM)
    assert code is not None, f"the replica did not stop on SIGTERM: {err.read_text()[-2000:]}"
    assert "Traceback" not in err.read_text()


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[RunningLicenseServer]:
    with running_license_server(f"sqlite:///{tmp_path}/ls.sqlite3", transactions=1200) as srv:
        yield srv


@pytest.fixture
def slow_history(upstream: RunningLicenseServer) -> Iterator[FaultProxy]:
    """The License API, each history page taking 0.3 s: cold views on both replicas overlap."""
    with fault_proxy(upstream.base_url) as proxy:
        proxy.rules.append(on("credits/history", Forward(delay=0.3)))
        yield proxy


@pytest.fixture
def replicas(
    upstream: RunningLicenseServer, slow_history: FaultProxy, pg_cluster: Cluster, tmp_path: Path
) -> Iterator[tuple[Replica, Replica, str]]:
    database = pg_cluster.create_database()
    with Store.open(database) as store:
        store.upsert_admin(ADMIN, hash_password(PASSWORD))
    env = clean_env(
        TOKENUSAGE_LICENSE_KEY=upstream.key,
        TOKENUSAGE_LICENSE_DOMAIN=upstream.domain,
        TOKENUSAGE_LICENSE_EMAIL=upstream.email,
        TOKENUSAGE_API_URL=slow_history.url,
        TOKENUSAGE_DATABASE_URL=database,
        TOKENUSAGE_SESSION_SECRET=secrets.token_urlsafe(48),
        TOKENUSAGE_RETRIES="0",
    )
    with ExitStack() as stack:
        a = stack.enter_context(serving(env, tmp_path, "a"))
        b = stack.enter_context(serving(env, tmp_path, "b"))
        yield a, b, database


def csrf(http: httpx.Client, path: str) -> str:
    found = _CSRF.search(http.get(path).text)
    assert found is not None
    return found.group(1)


def sign_in(url: str, password: str = PASSWORD) -> httpx.Response:
    with httpx.Client(base_url=url, timeout=30) as http:
        token = csrf(http, "/login")
        form = {"username": ADMIN, "password": password, "csrf_token": token, "next": "/"}
        return http.post("/login", data=form)


async def cold_views(urls: list[str], cookie: str) -> list[int]:
    async with httpx.AsyncClient(timeout=60, cookies={COOKIE_NAME: cookie}) as http:
        answers = await asyncio.gather(*(http.get(url + "/") for url in urls))
    return [a.status_code for a in answers]


def generations(database: str) -> tuple[int, int]:
    """(full syncs ever started, mirrors complete)."""
    g = mirror_generations
    engine = make_engine(database)
    try:
        with engine.connect() as conn:
            started = conn.execute(select(func.count()).select_from(g)).scalar()
            current = conn.execute(select(func.count()).where(g.c.state == "current")).scalar()
    finally:
        engine.dispose()
    return int(started or 0), int(current or 0)


def test_two_replicas_behave_as_one_dashboard(
    replicas: tuple[Replica, Replica, str], slow_history: FaultProxy
) -> None:
    a, b, database = replicas
    signed = sign_in(a.url)
    assert signed.status_code == 303
    cookie = signed.cookies[COOKIE_NAME]

    # 3. 100 concurrent cold views on an empty store, 50 on each replica: one history sync.
    codes = asyncio.run(cold_views([a.url, b.url] * 50, cookie))
    assert codes == [200] * 100
    deadline = time.monotonic() + 30
    while generations(database)[1] == 0:
        assert time.monotonic() < deadline, "the history was not mirrored"
        time.sleep(0.1)
    assert generations(database) == (1, 1)
    history = [c for c in slow_history.seen if c.endpoint == "credits/history"]
    # One full sync: a first request of one table page, then the rest in one page.
    assert len(history) == 2, [c.params for c in history]

    # 2. The throttle counts across both replicas: 5 password checks in all, then 429.
    codes = [sign_in(url, "wrong").status_code for url in (a.url, b.url, a.url, b.url, a.url)]
    assert codes == [401] * 5
    assert sign_in(b.url, "wrong").status_code == 429
    assert sign_in(a.url).status_code == 429, "the right password waits too"

    # 1. A sign-out on A is refused on B within a second.
    with httpx.Client(base_url=b.url, cookies={COOKIE_NAME: cookie}, timeout=30) as on_b:
        assert on_b.get("/debug").status_code == 200, "one sign-in, both replicas"
    with httpx.Client(base_url=a.url, cookies={COOKIE_NAME: cookie}, timeout=30) as on_a:
        out = on_a.post("/logout", data={"csrf_token": csrf(on_a, "/help")})
        assert out.status_code == 303
    signed_out = time.monotonic()
    with httpx.Client(base_url=b.url, cookies={COOKIE_NAME: cookie}, timeout=30) as on_b:
        while on_b.get("/help").status_code == 200:
            assert time.monotonic() - signed_out < 1.0, "B still accepts the signed-out cookie"
            time.sleep(0.02)
        assert on_b.get("/").status_code == 303 and on_b.get("/debug").status_code == 303
