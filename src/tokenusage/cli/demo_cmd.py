"""`tokenusage demo`: the whole product on loopback, in one process: the reference License API on
a seeded demo ledger, and the dashboard configured against it with a fresh admin login.

Both ports are bound before anything else happens, so a busy port is one line at once; one
signal handler stops both servers (each uvicorn server would otherwise take the signal from
the other, and the one left running would never stop).
"""

from __future__ import annotations

import asyncio
import secrets
import shlex
import signal
import socket
from collections.abc import Generator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import click

from tokenusage.cli.admin_cmds import set_admin_password
from tokenusage.cli.common import EXIT_INTERRUPTED, no_traceback
from tokenusage.cli.licenseserver_cmds import open_ledger
from tokenusage.cli.ports import bind
from tokenusage.config import Settings, load_settings

if TYPE_CHECKING:
    import uvicorn

DEMO_ADMIN = "admin"


@click.command()
@click.option("--data-dir", default="demo-data", show_default=True, type=click.Path(path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--api-port", default=8100, show_default=True, type=click.IntRange(1, 65535))
@click.option("--transactions", "-n", default=30_000, show_default=True, type=click.IntRange(2))
@click.option("--seed", default=1, show_default=True, type=int)
@no_traceback
def demo(data_dir: Path, host: str, port: int, api_port: int, transactions: int, seed: int) -> None:
    """Seed a demo ledger (once), serve the License API and the dashboard, print the login."""
    if port == api_port:
        raise click.BadParameter(
            "the dashboard and the License API need two ports", param_hint="--api-port"
        )
    listeners = [
        bind(host, port, "; use `make demo PORT=…` (tokenusage demo --port …)"),
    ]
    try:
        listeners.append(
            bind(host, api_port, "; use `make demo API_PORT=…` (tokenusage demo --api-port …)")
        )
        _run(data_dir, host, port, api_port, transactions, seed, *listeners)
    finally:
        for listener in listeners:
            listener.close()


def _run(
    data_dir: Path,
    host: str,
    port: int,
    api_port: int,
    transactions: int,
    seed: int,
    dashboard_socket: socket.socket,
    api_socket: socket.socket,
) -> None:
    import uvicorn

    from tokenusage.licenseserver.app import create_app as create_api
    from tokenusage.licenseserver.demo import DEMO_DOMAIN, DEMO_EMAIL, DEMO_KEY, seed_demo
    from tokenusage.web.app import create_app as create_dashboard
    from tokenusage.web.app import server_options

    data_dir.mkdir(parents=True, exist_ok=True)
    ledger = open_ledger(f"sqlite:///{data_dir / 'licenseserver.sqlite3'}")
    if ledger.find_licence(DEMO_KEY) is None:
        click.echo(f"seeding {transactions:,} demo transactions ...")
        seed_demo(ledger, transactions, seed=seed)
    api = f"http://{_url_host(host)}:{api_port}"
    settings = load_settings(
        license_key=DEMO_KEY,
        license_domain=DEMO_DOMAIN,
        license_email=DEMO_EMAIL,
        api_url=api,
        data_dir=(data_dir / "dashboard").resolve(),
        # A standalone demo has no host admin panel: its breadcrumb and "Back to Reports"
        # lead to the dashboard itself. A real installation points them at its panel.
        dashboard_url="/",
        reports_url="/",
    )
    password = secrets.token_urlsafe(12)
    set_admin_password(settings, DEMO_ADMIN, password, create=None)
    query = urlencode({"license_key": DEMO_KEY, "domain": DEMO_DOMAIN, "email": DEMO_EMAIL})
    exports = "".join(
        f"    export {name}={shlex.quote(value)}\n" for name, value in cli_env(settings)
    )
    click.echo(
        f"\n  Dashboard:   http://{_url_host(host)}:{port}/\n"
        f"  Sign in as:  {DEMO_ADMIN} / {password}\n\n"
        f"  License API: {api}  (reference server, demo ledger)\n"
        f"  Try:         curl '{api}/user/stats?{query}'\n\n"
        "  The command line against the demo licence, in a second terminal:\n"
        f"{exports}"
        "    tokenusage status\n\n"
        "  Ctrl+C stops both.\n"
    )

    class Server(uvicorn.Server):
        @contextmanager
        def capture_signals(self) -> Generator[None, None, None]:
            yield  # `_stop_on_signals` stops both servers; each would take the other's signal

    grace = settings.shutdown_grace
    api_config = uvicorn.Config(
        create_api(ledger.engine),
        host=host,
        port=api_port,
        log_level="warning",
        timeout_graceful_shutdown=grace,
    )
    web_config = uvicorn.Config(
        create_dashboard(settings),
        host=host,
        port=port,
        log_level="warning",
        **server_options(settings),
    )
    servers = [(Server(api_config), api_socket), (Server(web_config), dashboard_socket)]
    with _stop_on_signals([server for server, _ in servers]) as received:
        asyncio.run(_serve_all(servers))
    if not all(server.started for server, _ in servers):
        raise click.ClickException("the demo servers could not start (see the log above)")
    if signal.SIGINT in received:
        raise click.exceptions.Exit(EXIT_INTERRUPTED)


def cli_env(settings: Settings) -> list[tuple[str, str]]:
    """The TOKENUSAGE_* variables that point the CLI at the same licence and store."""
    pairs = [
        ("TOKENUSAGE_LICENSE_KEY", settings.license_key),
        ("TOKENUSAGE_LICENSE_DOMAIN", settings.license_domain),
        ("TOKENUSAGE_LICENSE_EMAIL", settings.license_email),
        ("TOKENUSAGE_API_URL", settings.api_url),
        ("TOKENUSAGE_DATA_DIR", str(settings.data_dir)),
    ]
    if settings.database_url:
        pairs.append(("TOKENUSAGE_DATABASE_URL", settings.database_url))
    return pairs


async def _serve_all(servers: Sequence[tuple[uvicorn.Server, socket.socket]]) -> None:
    """Both servers; when one stops (a signal, or a failed start-up), the other stops too."""

    async def serve(server: uvicorn.Server, listener: socket.socket) -> None:
        try:
            await server.serve(sockets=[listener])
        except SystemExit:  # uvicorn's way of saying the start-up failed
            pass
        finally:
            for other, _ in servers:
                other.should_exit = True

    await asyncio.gather(*(serve(server, listener) for server, listener in servers))


@contextmanager
def _stop_on_signals(servers: list[uvicorn.Server]) -> Generator[list[int], None, None]:
    """SIGINT/SIGTERM ask every server to stop; a second SIGINT forces it."""
    received: list[int] = []

    def handle(sig: int, _frame: FrameType | None) -> None:
        for server in servers:
            if server.should_exit and sig == signal.SIGINT:
                server.force_exit = True
            server.should_exit = True
        received.append(sig)

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
