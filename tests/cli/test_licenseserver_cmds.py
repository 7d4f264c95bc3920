"""`tokenusage licenseserver ...` commands, end to end on a SQLite ledger."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from tokenusage.cli import cli
from tokenusage.licenseserver.ledger import Ledger
from tokenusage.store.engine import make_engine


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_issue_credit_usage_price_seed(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ledger.db'}"
    assert run("licenseserver", "init", "--db", db)[0] == 0
    assert run("licenseserver", "init", "--db", db)[0] == 0
    code, out = run(
        "licenseserver",
        "issue",
        "--db",
        db,
        "--key",
        "K-CLI-12345678",
        "--domain",
        "cli.example",
        "--email",
        "c@cli.example",
    )
    assert code == 0 and "K-CLI-12345678" in out
    code, out = run(
        "licenseserver", "credit", "--db", db, "--key", "K-CLI-12345678", "--amount", "25.00"
    )
    assert code == 0 and "balance 25.00" in out
    code, out = run(
        "licenseserver",
        "usage",
        "--db",
        db,
        "--key",
        "K-CLI-12345678",
        "--service",
        "Chat via openai (gpt-4o)",
        "--input-tokens",
        "2000000",
        "--images",
        "10000",
    )
    assert code == 0 and "-6.00" in out and "balance 19.00" in out
    code, out = run(
        "licenseserver",
        "credit",
        "--db",
        db,
        "--key",
        "K-CLI-12345678",
        "--amount",
        "1.5",
        "--refund",
    )
    assert code == 0 and "balance 20.50" in out
    code, _ = run(
        "licenseserver",
        "price",
        "--db",
        db,
        "--image-processing-per-10k",
        "1",
        "--input-tokens-per-1m",
        "1",
        "--completion-tokens-per-1m",
        "1",
        "--cached-tokens-per-1m",
        "1",
    )
    assert code == 0
    code, out = run(
        "licenseserver", "seed", "--db", db, "-n", "500", "--seed", "4", "--balance", "0.5"
    )
    assert code == 0 and "seeded 500" in out
    engine = make_engine(db)
    led = Ledger(engine)
    lic = led.find_licence("K-CLI-12345678")
    assert lic is not None and led.stats(lic.id)["balance"] == "20.50"
    assert led.current_pricing()["input_tokens_per_1m"] == "1.00"
    engine.dispose()


def test_errors_are_one_line_messages(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ledger.db'}"
    code, out = run("licenseserver", "credit", "--db", db, "--key", "missing", "--amount", "5")
    assert code == 1 and "no licence with this key" in out and "Traceback" not in out
    code, out = run("licenseserver", "credit", "--db", db, "--key", "missing", "--amount", "abc")
    assert code == 2 and "not a decimal amount" in out
    code, out = run("licenseserver", "credit", "--db", db, "--key", "missing", "--amount", "-3")
    assert code == 2 and "must be positive" in out
    code, out = run("licenseserver", "init", "--db", "sqlite:////proc/nope/x.db")
    assert code == 1 and "cannot open ledger" in out and "Traceback" not in out
