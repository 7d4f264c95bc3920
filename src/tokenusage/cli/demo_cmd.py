"""`tokenusage demo`: everything needed to see the product, on loopback, in one process."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import click

from tokenusage.cli.licenseserver_cmds import open_ledger


@click.command()
@click.option("--data-dir", default="demo-data", show_default=True, type=click.Path(path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--api-port", default=8100, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--transactions", "-n", default=30_000, show_default=True, type=click.IntRange(25_000)
)
@click.option("--seed", default=1, show_default=True, type=int)
def demo(data_dir: Path, host: str, api_port: int, transactions: int, seed: int) -> None:
    """Seed a demo ledger (once) and serve the reference License API on it."""
    import uvicorn

    from tokenusage.licenseserver.app import create_app
    from tokenusage.licenseserver.demo import DEMO_DOMAIN, DEMO_EMAIL, DEMO_KEY, seed_demo

    data_dir.mkdir(parents=True, exist_ok=True)
    ledger = open_ledger(f"sqlite:///{data_dir / 'licenseserver.sqlite3'}")
    if ledger.find_licence(DEMO_KEY) is None:
        click.echo(f"seeding {transactions} demo transactions ...")
        seed_demo(ledger, transactions, seed=seed)
    api = f"http://{host}:{api_port}"
    query = urlencode({"license_key": DEMO_KEY, "domain": DEMO_DOMAIN, "email": DEMO_EMAIL})
    click.echo(
        f"\nReference License API: {api}\n  licence key: {DEMO_KEY}\n"
        f"  domain: {DEMO_DOMAIN}\n  email: {DEMO_EMAIL}\n\nTry:\n"
        f"  curl '{api}/user/stats?{query}'\n"
    )
    uvicorn.run(create_app(ledger.engine), host=host, port=api_port, log_level="warning")
