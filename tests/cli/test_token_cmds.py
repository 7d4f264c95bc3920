"""`tokenusage token create|list|revoke`: the token is printed once, only its hash is kept."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tokenusage.cli import cli
from tokenusage.service.tokens import ApiTokens
from tokenusage.store import Store


def run(tmp: Path, *args: str) -> tuple[int, str, str]:
    env = {"TOKENUSAGE_DATA_DIR": str(tmp / "data")}
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_create_list_revoke(tmp_path: Path) -> None:
    code, out, err = run(tmp_path, "token", "create", "prometheus")
    assert code == 0, err
    secret = out.strip()
    assert secret.startswith("tu_") and "only this once" in err
    with Store.open(f"sqlite:///{tmp_path}/data/tokenusage.sqlite3") as store:
        assert ApiTokens(store).check(secret) == "prometheus"
    code, out, err = run(tmp_path, "token", "create", "prometheus")
    assert code == 1 and "exists already" in err
    code, out, _ = run(tmp_path, "token", "list", "--json")
    listed = json.loads(out)
    assert [t["name"] for t in listed] == ["prometheus"] and listed[0]["last_used_at"]
    code, out, _ = run(tmp_path, "token", "list")
    assert out.startswith("prometheus\tcreated ")
    assert run(tmp_path, "token", "revoke", "prometheus")[0] == 0
    code, _, err = run(tmp_path, "token", "revoke", "prometheus")
    assert code == 1 and "no token named" in err
    assert run(tmp_path, "token", "list", "--json")[1].strip() == "[]"
