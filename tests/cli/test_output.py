"""What a command prints when it fails: one line on stderr and the exit code, whatever the
License API client logs on the way; `-v` shows the details, `-vv` tracebacks."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.cli.support import clean_env, run_cli
from tests.support.pgcluster import free_port
from tokenusage.cli import cli
from tokenusage.cli.logs import OneLineFormatter, configure_cli_logging
from tokenusage.licenseserver.ledger import Ledger


def refused_env(tmp_path: Path) -> dict[str, str]:
    """A licence whose License API refuses connections (a loopback port nobody listens on)."""
    return clean_env(
        TOKENUSAGE_LICENSE_KEY="CTZ-TEST-0000-1111-2222",
        TOKENUSAGE_LICENSE_DOMAIN="shop.example.com",
        TOKENUSAGE_LICENSE_EMAIL="owner@example.com",
        TOKENUSAGE_API_URL=f"http://127.0.0.1:{free_port()}",
        TOKENUSAGE_DATA_DIR=str(tmp_path / "data"),
        TOKENUSAGE_RETRIES="2",
    )


def test_a_failure_is_one_line_and_exit_code_3(tmp_path: Path) -> None:
    done = run_cli(refused_env(tmp_path), "status")
    assert done.returncode == 3, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: Failed to connect to License API")


def test_verbose_shows_the_retries(tmp_path: Path) -> None:
    done = run_cli(refused_env(tmp_path), "-v", "status")
    assert done.returncode == 3
    assert "retry 1 of 2" in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1].startswith("Error: Failed to connect to License API")


def test_very_verbose_shows_tracebacks(tmp_path: Path) -> None:
    done = run_cli(refused_env(tmp_path), "export", "-o", "-")
    assert done.returncode == 3 and len(done.stderr.splitlines()) == 1, done.stderr
    done = run_cli(refused_env(tmp_path), "-vv", "export", "-o", "-")
    assert done.returncode == 3 and "Traceback" in done.stderr


def test_every_command_is_behind_no_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even a command that does not carry the decorator (the group applies it)."""

    def broken(_self: Ledger) -> None:
        raise RuntimeError("a bug\nover two lines")

    monkeypatch.setattr(Ledger, "create_schema", broken)
    result = CliRunner().invoke(
        cli, ["licenseserver", "init", "--db", f"sqlite:///{tmp_path}/l.db"]
    )
    assert result.exit_code == 1
    assert result.stderr == "Error: unexpected error: RuntimeError: a bug over two lines\n"
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_quiet_by_default_and_undone_afterwards() -> None:
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    undo = configure_cli_logging(0)
    assert any(isinstance(h, logging.NullHandler) for h in root.handlers)
    undo()
    assert (list(root.handlers), root.level) == before


def test_server_records_are_one_line_unless_debugging() -> None:
    try:
        raise ValueError("the store said\nno")
    except ValueError:
        record = logging.getLogger("tokenusage.web.x").makeRecord(
            "tokenusage.web.x", logging.ERROR, __file__, 1, "page failed", (), sys.exc_info()
        )
    line = OneLineFormatter(tracebacks=False).format(record)
    assert "\n" not in line and line.endswith("page failed (ValueError: the store said no)")
    record.exc_text = None
    assert "Traceback" in OneLineFormatter(tracebacks=True).format(record)


def test_admin_commands_do_not_import_the_web() -> None:
    code = (
        "import sys, tokenusage.cli.admin_cmds;"
        "sys.exit(any(m.startswith('tokenusage.web') for m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=clean_env(), capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
