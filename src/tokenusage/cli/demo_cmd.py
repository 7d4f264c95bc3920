"""`tokenusage demo`: the whole product on loopback, in one process: the reference License API on
a seeded demo ledger, and the dashboard configured against it with a fresh admin login."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from urllib.parse import urlencode

import click

from tokenusage.cli.licenseserver_cmds import open_ledger
from tokenusage.cli.web_cmds import set_admin_password
from tokenusage.config import Settings, load_settings
from tokenusage.store import Store

DEMO_ADMIN = "admin"


@click.command()
@click.option("--data-dir", default="demo-data", show_default=True, type=click.Path(path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--api-port", default=8100, show_default=True, type=click.IntRange(1, 65535))
@click.option("--transactions", "-n", default=30_000, show_default=True, type=click.IntRange(2))
@click.option("--seed", default=1, show_default=True, type=int)
def demo(data_dir: Path, host: str, port: int, api_port: int, transactions: int, seed: int) -> None:
    """Seed a demo ledger (once), serve the License API and the dashboard, print the login."""
    import uvicorn

    from tokenusage.licenseserver.app import create_app as create_api
    from tokenusage.licenseserver.demo import DEMO_DOMAIN, DEMO_EMAIL, DEMO_KEY, seed_demo
    from tokenusage.web.app import create_app as create_dashboard

    data_dir.mkdir(parents=True, exist_ok=True)
    ledger = open_ledger(f"sqlite:///{data_dir / 'licenseserver.sqlite3'}")
    if ledger.find_licence(DEMO_KEY) is None:
        click.echo(f"seeding {transactions:,} demo transactions ...")
        seed_demo(ledger, transactions, seed=seed)
    api = f"http://{host}:{api_port}"
    settings = load_settings(
        license_key=DEMO_KEY,
        license_domain=DEMO_DOMAIN,
        license_email=DEMO_EMAIL,
        api_url=api,
        data_dir=data_dir / "dashboard",
        # A standalone demo has no host admin panel: its breadcrumb and "Back to Reports"
        # lead to the dashboard itself. A real installation points them at its panel.
        dashboard_url="/",
        reports_url="/",
    )
    password = secrets.token_urlsafe(12)
    set_admin_password(settings, DEMO_ADMIN, password, create=not _has_admin(settings))
    query = urlencode({"license_key": DEMO_KEY, "domain": DEMO_DOMAIN, "email": DEMO_EMAIL})
    click.echo(
        f"\n  Dashboard:   http://{host}:{port}/\n"
        f"  Sign in as:  {DEMO_ADMIN} / {password}\n\n"
        f"  License API: {api}  (reference server, demo ledger)\n"
        f"  Try:         curl '{api}/user/stats?{query}'\n\n"
        "  Ctrl+C stops both.\n"
    )
    servers = [
        uvicorn.Server(
            uvicorn.Config(create_api(ledger.engine), host=host, port=api_port, log_level="warning")
        ),
        uvicorn.Server(
            uvicorn.Config(create_dashboard(settings), host=host, port=port, log_level="warning")
        ),
    ]

    async def both() -> None:
        await asyncio.gather(*(s.serve() for s in servers))

    asyncio.run(both())


def _has_admin(settings: Settings) -> bool:
    with Store.open(settings.store_url) as store:
        return store.admin_exists(DEMO_ADMIN)
