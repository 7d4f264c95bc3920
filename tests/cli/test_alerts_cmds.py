"""`tokenusage alerts add|list|remove|test|check` against the reference server and a real
SMTP server: the rule is kept, checked under the lock, sent once, and tested on demand."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.fixtures import RunningLicenseServer, running_license_server
from tests.support.receivers import Mailbox, smtp_server
from tokenusage.cli import cli
from tokenusage.service.alerts.checker import LEASE
from tokenusage.store import Store


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[RunningLicenseServer, Mailbox, dict[str, str]]]:
    with (
        running_license_server(f"sqlite:///{tmp_path}/up.db", transactions=200) as srv,
        smtp_server() as (port, box),
    ):
        env = {
            "TOKENUSAGE_LICENSE_KEY": srv.key,
            "TOKENUSAGE_LICENSE_DOMAIN": srv.domain,
            "TOKENUSAGE_LICENSE_EMAIL": srv.email,
            "TOKENUSAGE_API_URL": srv.base_url,
            "TOKENUSAGE_DATA_DIR": str(tmp_path / "data"),
            "TOKENUSAGE_RETRIES": "0",
            "TOKENUSAGE_SMTP_HOST": "127.0.0.1",
            "TOKENUSAGE_SMTP_PORT": str(port),
            "TOKENUSAGE_SMTP_STARTTLS": "false",
            "TOKENUSAGE_ALERT_RETRY_BACKOFF": "0",
        }
        yield srv, box, env


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_add_list_check_test_remove(
    setup: tuple[RunningLicenseServer, Mailbox, dict[str, str]],
) -> None:
    srv, box, env = setup
    above = Decimal(srv.ledger.stats(srv.licence_id)["balance"]) + 1
    code, out, err = run(env, "alerts", "add", "low", "--balance-below", str(above),
                         "--email", "ops@example.com")  # fmt: skip
    assert code == 0, err
    code, _, err = run(env, "alerts", "add", "x", "--balance-below", "1", "--stale-minutes", "5",
                       "--email", "a@example.com")  # fmt: skip
    assert code == 2 and "exactly one" in err
    assert run(env, "alerts", "add", "y", "--stale-minutes", "5")[0] == 1
    code, out, _ = run(env, "alerts", "list", "--json")
    [rule] = json.loads(out)
    assert (rule["name"], rule["kind"], rule["state"]) == ("low", "balance_below", "armed")
    code, out, err = run(env, "alerts", "check")
    assert code == 0, err
    assert "fired: low" in out and "sent after 1 attempt" in out and box.count() == 1
    assert run(env, "alerts", "check")[1] == "" and box.count() == 1, "once per crossing"
    code, out, _ = run(env, "alerts", "test", "low")
    assert code == 0 and "test low -> email:ops@example.com: sent" in out and box.count() == 2
    with Store.open(f"sqlite:///{env['TOKENUSAGE_DATA_DIR']}/tokenusage.sqlite3") as store:
        from datetime import timedelta

        assert store.acquire_lease(LEASE, "someone-else", timedelta(minutes=1))
        code, _, err = run(env, "alerts", "check")
        assert code == 0 and "another checker holds the lock (someone-else)" in err
        store.release_lease(LEASE, "someone-else")
    assert "fired" in run(env, "alerts", "list")[1]
    assert run(env, "alerts", "remove", "low")[0] == 0
    code, _, err = run(env, "alerts", "remove", "low")
    assert code == 1 and "no alert named" in err
