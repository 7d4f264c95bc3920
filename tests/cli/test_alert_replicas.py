"""Two `tokenusage serve` replicas on one throwaway PostgreSQL store, checking the alert rules
every second: a crossing sends exactly one e-mail and one webhook, a recovery and a second
crossing exactly one more, and when the lease holder is killed the other replica takes over
without a duplicate."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path

import pytest

from tests.cli.support import clean_env
from tests.cli.test_replicas import Replica, serving
from tests.fixtures import running_license_server
from tests.support.pgcluster import Cluster
from tests.support.receivers import smtp_server, webhook_receiver
from tokenusage.service.alerts.checker import LEASE
from tokenusage.service.alerts.manage import Alerts
from tokenusage.store import Store

pytestmark = pytest.mark.postgres
SECRET = "replica webhook secret"


def wait_for(what: Callable[[], bool], timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_each_crossing_is_sent_once_by_one_replica(pg_cluster: Cluster, tmp_path: Path) -> None:
    database = pg_cluster.create_database()
    with ExitStack() as stack:
        srv = stack.enter_context(
            running_license_server(f"sqlite:///{tmp_path}/ls.sqlite3", transactions=300)
        )
        port, box = stack.enter_context(smtp_server())
        url, hooks = stack.enter_context(webhook_receiver(SECRET))
        balance = Decimal(srv.ledger.stats(srv.licence_id)["balance"])
        threshold = balance - Decimal("1.00")
        store = stack.enter_context(Store.open(database))
        Alerts(store).add("low", "balance_below", str(threshold), ["ops@example.com"], [url])
        env = clean_env(
            TOKENUSAGE_LICENSE_KEY=srv.key,
            TOKENUSAGE_LICENSE_DOMAIN=srv.domain,
            TOKENUSAGE_LICENSE_EMAIL=srv.email,
            TOKENUSAGE_API_URL=srv.base_url,
            TOKENUSAGE_DATABASE_URL=database,
            TOKENUSAGE_RETRIES="0",
            TOKENUSAGE_ALERT_INTERVAL="1",
            TOKENUSAGE_ALERT_LEASE_SECONDS="2",
            TOKENUSAGE_ALERT_RETRY_BACKOFF="0.1",
            TOKENUSAGE_SMTP_HOST="127.0.0.1",
            TOKENUSAGE_SMTP_PORT=str(port),
            TOKENUSAGE_SMTP_STARTTLS="false",
            TOKENUSAGE_WEBHOOK_SECRET=SECRET,
        )
        replicas = [stack.enter_context(serving(env, tmp_path, name)) for name in "ab"]

        def sent() -> tuple[int, int]:
            return box.count(), hooks.count()

        def holder() -> Replica | None:
            name = store.lease_holder(LEASE)
            pid = int(name.split(":")[1]) if name else None
            return next((r for r in replicas if r.proc.pid == pid), None)

        wait_for(lambda: holder() is not None)
        time.sleep(2.5)
        assert sent() == (0, 0), "above the threshold: nothing"

        srv.ledger.add_entry(srv.licence_id, "usage", Decimal("-1.50"), service_type="chat")
        wait_for(lambda: sent() == (1, 1))
        time.sleep(3.5)  # several checks on each replica while it stays below
        assert sent() == (1, 1)

        srv.ledger.add_entry(srv.licence_id, "purchase", Decimal("3.00"))
        wait_for(lambda: (r := store.alert_rule("low")) is not None and r.state == "armed")
        srv.ledger.add_entry(srv.licence_id, "usage", Decimal("-3.50"), service_type="chat")
        wait_for(lambda: sent() == (2, 2))
        time.sleep(3.5)
        assert sent() == (2, 2)

        # The holder dies just as the balance crosses again; the other replica takes over.
        srv.ledger.add_entry(srv.licence_id, "purchase", Decimal("3.00"))
        wait_for(lambda: (r := store.alert_rule("low")) is not None and r.state == "armed")
        dying = holder()
        assert dying is not None
        srv.ledger.add_entry(srv.licence_id, "usage", Decimal("-3.50"), service_type="chat")
        dying.proc.send_signal(signal.SIGKILL)
        dying.proc.wait()
        survivor = next(r for r in replicas if r is not dying)
        wait_for(lambda: holder() is survivor)
        wait_for(lambda: sent() == (3, 3))
        time.sleep(3.5)
        assert sent() == (3, 3)
        assert hooks.bad_signatures == 0
        assert [rcpts for rcpts, _ in box.messages] == [["ops@example.com"]] * 3
