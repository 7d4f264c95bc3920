"""`tokenusage status` and `tokenusage cache status|clear`."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from babel.dates import format_date
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
from tokenusage.service import CacheInfo, DashboardService, DashboardView
from tokenusage.service.jsonout import cache_json as _cache_json
from tokenusage.service.jsonout import runway_of as _runway
from tokenusage.service.jsonout import view_json
from tokenusage.usage.fmt import format_age, format_datetime_full, format_int, format_money


def _cache_line(label: str, cache: CacheInfo, now: datetime, locale: str) -> str:
    age = cache.age_seconds(now)
    when = "never fetched" if age is None else f"{format_age(age, locale)} old"
    extra = ""
    if cache.rows is not None:
        extra = f", {format_int(cache.rows, locale)} rows"
        if cache.limited and cache.upstream_total is not None:
            extra += f" (limited: newest {cache.rows:,} of {cache.upstream_total:,})"
    return f"{label}: {cache.source.capitalize()}, {when}{extra}"


def print_view(
    view: DashboardView, console: Console, locale: str, tz: Any, threshold: Decimal
) -> None:
    currency = view.pricing.currency if view.pricing else "USD"

    def money(amount: Decimal) -> str:
        return format_money(amount, currency, locale)

    if view.stale:
        as_of = format_datetime_full(view.data_as_of, tz, locale) if view.data_as_of else "?"
        console.print(f"[bold yellow]STALE DATA[/] as of {as_of}: it could not be refreshed")
    for problem in view.problems:
        console.print(f"[red]error:[/] {problem.message}", markup=True, highlight=False)
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    if view.account:
        acc = view.account
        since = format_date(acc.member_since, "long", locale=locale) if acc.member_since else "-"
        for k, v in (
            ("Email", acc.email),
            ("License Type", acc.license_type),
            ("Domain", acc.domain),
            ("Member Since", since),
        ):
            table.add_row(k, v)
    if view.stats:
        st = view.stats
        colour = "red" if view.low_balance else "green"
        table.add_row("Current Balance", f"[{colour}]{money(st.balance)}[/]")
        table.add_row("Tokens Used", format_int(st.tokens_used, locale))
        table.add_row("Credits Used", money(st.credits_used))
        table.add_row("API Calls Made", format_int(st.api_calls, locale))
        table.add_row("Images Processed", format_int(st.images_processed, locale))
    if view.pricing:
        pr = view.pricing
        table.add_row("Image Processing", f"{money(pr.image_processing_per_10k)} / 10,000 images")
        table.add_row("Input Tokens", f"{money(pr.input_tokens_per_1m)} / 1M tokens")
        table.add_row("Completion Tokens", f"{money(pr.completion_tokens_per_1m)} / 1M tokens")
        table.add_row("Cached Tokens", f"{money(pr.cached_tokens_per_1m)} / 1M tokens")
    if view.estimates:
        est = view.estimates
        for k, n in (
            ("Image Searches", est.images),
            ("AI Input Tokens", est.input_tokens),
            ("AI Completion Tokens", est.completion_tokens),
            ("AI Cached Tokens", est.cached_tokens),
        ):
            table.add_row(f"Remaining {k}", "not available" if n is None else format_int(n, locale))
    table.add_row("Transactions", format_int(view.window.total, locale))
    runway = _runway(view)
    if runway is not None:
        rate = "7-day" if runway.basis == "7d" else "30-day"
        table.add_row("Burn Rate", f"{money(runway.burn)} / day ({rate} average)")
        if runway.state == "exhausted":
            lasts = "the balance is used up"
        elif runway.state == "idle":
            lasts = "no spend in the last 30 days"
        else:
            n = runway.days_left or 0
            days = f"{format_int(n, locale)} day{'' if n == 1 else 's'}"
            when = "more than 10 years" if runway.runs_out_on is None else runway.runs_out_on
            lasts = f"{days} ({when})" if runway.runs_out_on is None else f"{days}, until {when}"
        table.add_row("Runway", lasts)
    if view.insights is not None:
        sp = view.insights.spend
        table.add_row("Spend Today", money(sp.today))
        table.add_row(
            "Spend This Month",
            f"{money(sp.month_to_date)} (same days last month: "
            f"{money(sp.previous_month_same_days)})",
        )
    console.print(table)
    if view.low_balance:
        console.print(
            f"[bold red]LOW BALANCE WARNING[/]: your credit balance is below {money(threshold)}."
        )
    for label, cache in (
        ("Pricing", view.pricing_cache),
        ("Account", view.account_cache),
        ("Statistics", view.stats_cache),
        ("Transactions", view.transactions_cache),
    ):
        console.print(_cache_line(label, cache, view.now, locale), highlight=False)


@click.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@no_traceback
def status(config_file: Path | None, as_json: bool) -> None:
    """Account, balance, usage, pricing, estimates and cache status.

    Exits 0 only when everything shown is complete and current; with a problem it still
    prints what it has, names the problem, and exits 3 (License API) or 1 (store)."""
    settings = settings_from(config_file)
    view = run_with_service(settings, lambda service: service.view(1, complete=True))
    if view.problems and not view.has_data:
        raise problem_failure(view.problems)
    if as_json:
        click.echo(json.dumps(view_json(view), indent=2))
    else:
        print_view(view, Console(), settings.locale, settings.tz, settings.low_balance_threshold)
    if view.problems:
        raise click.exceptions.Exit(exit_code(view.problems))


@click.group()
def cache() -> None:
    """Inspect or clear the local store's caches."""


@cache.command("status")
@config_option
@click.option("--json", "as_json", is_flag=True)
@no_traceback
def cache_status(config_file: Path | None, as_json: bool) -> None:
    """Where the store is, and how old and how complete each cache is."""
    settings = settings_from(config_file, need_licence=False)

    async def work(service: DashboardService) -> dict[str, Any]:
        info = await service.debug(live=False)
        return {
            "store": info.store_location,
            "backend": info.store_backend,
            "pricing": _cache_json(info.pricing_cache, service.clock()),
            "transactions": _cache_json(info.transactions_cache, service.clock()),
        }

    report = run_with_service(settings, work)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"store: {report['store']} ({report['backend']})")
    for name in ("pricing", "transactions"):
        c = report[name]
        age = "empty" if c["age_seconds"] is None else f"{format_age(c['age_seconds'], 'en')} old"
        rows = "" if c["rows"] is None else f", {c['rows']:,} rows"
        limited = (
            f" (limited: newest {c['rows']:,} of {c['upstream_total']:,})" if c["limited"] else ""
        )
        click.echo(f"{name}: {age}{rows}{limited}")


@cache.command("clear")
@config_option
@click.option("--pricing", "what", flag_value="pricing", help="Only the pricing cache.")
@click.option("--transactions", "what", flag_value="transactions", help="Only the mirror.")
@no_traceback
def cache_clear(config_file: Path | None, what: str | None) -> None:
    """Clear the pricing cache and/or the transaction mirror (default: both)."""
    settings = settings_from(config_file, need_licence=False)

    async def work(service: DashboardService) -> list[str]:
        lines = []
        if what in (None, "pricing"):
            lines.append(f"pricing: {await service.clear_pricing()} cached entries removed")
        if what in (None, "transactions"):
            lines.append(f"transactions: {await service.clear_transactions():,} rows removed")
        return lines

    for line in run_with_service(settings, work):
        click.echo(line)
