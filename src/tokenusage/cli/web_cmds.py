"""`tokenusage serve` and `tokenusage admin create|set-password`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tokenusage.cli.common import ConfigFailure, config_option, no_traceback, settings_from
from tokenusage.config import ConfigError, Settings
from tokenusage.store import Store, StoreError

MIN_PASSWORD = 10


@click.command()
@config_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@no_traceback
def serve(config_file: Path | None, host: str, port: int) -> None:
    """Serve the dashboard (a missing licence configuration shows on the page itself)."""
    import uvicorn

    from tokenusage.web.app import create_app

    settings = settings_from(config_file, need_licence=False)
    try:
        app = create_app(settings)
    except ConfigError as exc:
        raise ConfigFailure(str(exc)) from exc
    click.echo(f"tokenusage dashboard on http://{host}:{port}/", err=True)
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=True)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD:
        raise click.ClickException(f"the password must have at least {MIN_PASSWORD} characters")
    return password


def set_admin_password(settings: Settings, name: str, password: str, *, create: bool) -> None:
    """Create an admin (or change its password); refuses the wrong one of the two."""
    from tokenusage.web.auth import hash_password

    try:
        with Store.open(settings.store_url) as store:
            exists = store.admin_exists(name)
            if create and exists:
                raise click.ClickException(f"admin {name!r} exists already (use set-password)")
            if not create and not exists:
                raise click.ClickException(f"no admin named {name!r} (use create)")
            store.upsert_admin(name, hash_password(password))
    except StoreError as exc:
        raise click.ClickException(f"local store: {exc}") from exc


@click.group()
def admin() -> None:
    """Manage the dashboard's admin accounts."""


@admin.command()
@config_option
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@no_traceback
def create(config_file: Path | None, name: str, password_stdin: bool) -> None:
    """Create an admin account."""
    settings = settings_from(config_file, need_licence=False)
    set_admin_password(settings, name.strip(), _password(password_stdin), create=True)
    click.echo(f"admin {name!r} created")


@admin.command("set-password")
@config_option
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@no_traceback
def set_password(config_file: Path | None, name: str, password_stdin: bool) -> None:
    """Change an admin's password."""
    settings = settings_from(config_file, need_licence=False)
    set_admin_password(settings, name.strip(), _password(password_stdin), create=False)
    click.echo(f"password of {name!r} changed")
