"""`tokenusage usage`: spend, purchases and refunds per day, week, month, service or type."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from tokenusage.cli.common import (
    config_option,
    exit_code,
    no_traceback,
    problem_failure,
    run_with_service,
    settings_from,
)
from tokenusage.cli.filter_opts import date_options, filters_from
from tokenusage.usage.branding import brand
from tokenusage.usage.buckets import By
from tokenusage.usage.fmt import format_int, format_money

BY = ("day", "week", "month", "service", "type")


@click.command()
@config_option
@date_options
@click.option("--by", type=click.Choice(BY), default="day", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="A JSON list of bucket objects.")
@no_traceback
def usage(config_file: Path | None, first: str, last: str, by: By, as_json: bool) -> None:
    """Credits spent, purchased and refunded per bucket, from the local mirror.

    Days are calendar days in the business timezone; weeks start on Monday (ISO 8601) and are
    named by that day; months are YYYY-MM. Money is exact."""
    settings = settings_from(config_file)
    filters = filters_from(first, last)
    rows, problems = run_with_service(settings, lambda service: service.usage(filters, by))
    if problems and not rows:
        raise problem_failure(problems)
    if as_json:
        click.echo(json.dumps([r.as_json() for r in rows], indent=2))
    else:
        locale = settings.locale
        table = Table(show_edge=False, pad_edge=False)
        for name in (
            by.capitalize(),
            "Spend",
            "Purchased",
            "Refunded",
            "Count",
            "Tokens",
            "Images",
        ):
            table.add_column(name, justify="left" if name == by.capitalize() else "right")
        for row in rows:
            t = row.totals
            label = brand(row.bucket) if by == "service" else row.bucket
            table.add_row(
                label or "-",
                format_money(t.spend, "USD", locale),
                format_money(t.purchased, "USD", locale),
                format_money(t.refunded, "USD", locale),
                format_int(t.count, locale),
                format_int(t.tokens, locale),
                format_int(t.images, locale),
            )
        Console().print(table)
        if not rows:
            click.echo("no transactions in that range", err=True)
    for problem in problems:
        click.echo(f"warning: {problem.message}", err=True)
    if problems:
        raise click.exceptions.Exit(exit_code(problems))
