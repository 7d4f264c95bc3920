"""`tokenusage token create|list|revoke`: bearer tokens for the JSON API and /metrics."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from tokenusage.cli.common import config_option, no_traceback, settings_from
from tokenusage.service.tokens import ApiTokens, TokenError
from tokenusage.store import Store, StoreError

T = TypeVar("T")


def _with_tokens(config_file: Path | None, work: Callable[[ApiTokens], T]) -> T:
    settings = settings_from(config_file, need_licence=False)
    try:
        with Store.open(settings.store_url, zone=settings.timezone) as store:
            return work(ApiTokens(store))
    except TokenError as exc:
        raise click.ClickException(str(exc)) from exc
    except StoreError as exc:
        raise click.ClickException(f"local store: {' '.join(str(exc).split())}") from exc


@click.group()
def token() -> None:
    """Manage the API tokens of /api/v1 and /metrics."""


@token.command()
@config_option
@click.argument("name")
@no_traceback
def create(config_file: Path | None, name: str) -> None:
    """Make a token and print it, once: only its hash is stored."""
    secret = _with_tokens(config_file, lambda tokens: tokens.create(name))
    click.echo(secret)
    click.echo(f"token {name.strip()!r} created; it is shown only this once", err=True)


@token.command("list")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@no_traceback
def list_tokens(config_file: Path | None, as_json: bool) -> None:
    """Names of the tokens, when each was made and last used."""
    records = _with_tokens(config_file, lambda tokens: tokens.listing())
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "name": r.name,
                        "created_at": r.created_at.isoformat(),
                        "last_used_at": r.last_used_at.isoformat() if r.last_used_at else None,
                    }
                    for r in records
                ],
                indent=2,
            )
        )
        return
    if not records:
        click.echo("no tokens", err=True)
    for r in records:
        used = f"{r.last_used_at:%Y-%m-%d %H:%M} UTC" if r.last_used_at else "never"
        click.echo(f"{r.name}\tcreated {r.created_at:%Y-%m-%d %H:%M} UTC\tlast used {used}")


@token.command()
@config_option
@click.argument("name")
@no_traceback
def revoke(config_file: Path | None, name: str) -> None:
    """Delete a token; requests with it fail at once, on every replica."""
    _with_tokens(config_file, lambda tokens: tokens.revoke(name))
    click.echo(f"token {name.strip()!r} revoked")
