"""`tokenusage admin create|set-password`: the dashboard's sign-ins, through `accounts`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tokenusage.cli.common import config_option, no_traceback, settings_from
from tokenusage.config import Settings
from tokenusage.service.admins import MIN_PASSWORD, AdminError, Admins
from tokenusage.store import Store, StoreError


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD:
        raise click.ClickException(f"the password must have at least {MIN_PASSWORD} characters")
    return password


def set_admin_password(settings: Settings, name: str, password: str, *, create: bool | None) -> str:
    """Create an admin (`create=True`), change its password (`False`), or either (`None`);
    refuses the wrong one of the first two. Returns the name as stored."""
    try:
        with Store.open(settings.store_url) as store:
            admins = Admins(store)
            if create is None:
                return admins.create_or_set_password(name, password)
            if create:
                return admins.create(name, password)
            return admins.set_password(name, password)
    except AdminError as exc:
        raise click.ClickException(str(exc)) from exc
    except StoreError as exc:
        raise click.ClickException(f"local store: {' '.join(str(exc).split())}") from exc


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
    stored = set_admin_password(settings, name, _password(password_stdin), create=True)
    click.echo(f"admin {stored!r} created")


@admin.command("set-password")
@config_option
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@no_traceback
def set_password(config_file: Path | None, name: str, password_stdin: bool) -> None:
    """Change an admin's password."""
    settings = settings_from(config_file, need_licence=False)
    stored = set_admin_password(settings, name, _password(password_stdin), create=False)
    click.echo(f"password of {stored!r} changed")
