"""`tokenusage alerts add|list|remove|test|check`: the alert rules and their deliveries."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from tokenusage.cli.common import config_option, no_traceback, run_with_service, settings_from
from tokenusage.service import DashboardService
from tokenusage.service.alerts.checker import AlertChecker, CheckReport
from tokenusage.service.alerts.manage import Alerts
from tokenusage.service.alerts.rules import AlertError, Channel
from tokenusage.store import Store, StoreError
from tokenusage.store.alerts import DeliveryRecord, RuleRecord

T = TypeVar("T")
KIND_OPTIONS = {
    "balance_below": "--balance-below",
    "runway_below_days": "--runway-below-days",
    "daily_spend_above": "--daily-spend-above",
    "stale_minutes": "--stale-minutes",
}


def _with_alerts(config_file: Path | None, work: Callable[[Alerts], T]) -> T:
    settings = settings_from(config_file, need_licence=False)
    try:
        with Store.open(settings.store_url, zone=settings.timezone) as store:
            return work(Alerts(store))
    except AlertError as exc:
        raise click.ClickException(str(exc)) from exc
    except StoreError as exc:
        raise click.ClickException(f"local store: {' '.join(str(exc).split())}") from exc


def rule_json(rule: RuleRecord) -> dict[str, Any]:
    return {
        "name": rule.name,
        "kind": rule.kind,
        "threshold": rule.threshold,
        "channels": rule.channels,
        "enabled": rule.enabled,
        "state": rule.state,
        "changed_at": rule.changed_at.isoformat(),
        "value": rule.value,
    }


def delivery_line(d: DeliveryRecord) -> str:
    what = "test " if d.test else ""
    detail = f": {d.detail}" if d.detail else ""
    return (
        f"{what}{d.rule} -> {Channel.from_json(d.channel)}: {d.state} "
        f"after {d.attempts} attempt{'s' if d.attempts != 1 else ''}{detail}"
    )


@click.group()
def alerts() -> None:
    """Alert rules: fire once per crossing, by e-mail and signed webhook."""


@alerts.command()
@config_option
@click.argument("name")
@click.option("--balance-below", metavar="DOLLARS", help="Fire when the balance drops below.")
@click.option("--runway-below-days", metavar="DAYS", help="Fire when the runway drops below.")
@click.option("--daily-spend-above", metavar="DOLLARS", help="Fire when a day's spend exceeds.")
@click.option("--stale-minutes", metavar="MINUTES", help="Fire when no sync succeeded for longer.")
@click.option("--email", "emails", multiple=True, metavar="ADDR", help="Send e-mail here.")
@click.option("--webhook", "webhooks", multiple=True, metavar="URL", help="POST JSON here.")
@no_traceback
def add(config_file: Path | None, name: str, emails: tuple[str, ...],
        webhooks: tuple[str, ...], **kinds: str | None) -> None:  # fmt: skip
    """Add an alert rule (exactly one condition, one or more channels)."""
    given = [(kind, value) for kind, value in kinds.items() if value is not None]
    if len(given) != 1:
        raise click.UsageError(f"give exactly one of {', '.join(KIND_OPTIONS.values())}")
    kind, threshold = given[0]
    rule = _with_alerts(
        config_file, lambda a: a.add(name, kind, threshold or "", list(emails), list(webhooks))
    )
    click.echo(f"alert {rule.name!r} added ({rule.kind} {rule.threshold})")


@alerts.command("list")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@no_traceback
def list_rules(config_file: Path | None, as_json: bool) -> None:
    """The rules with their state (armed or fired), and the latest deliveries."""
    rules, recent = _with_alerts(config_file, lambda a: (a.listing(), a.deliveries(10)))
    if as_json:
        click.echo(json.dumps([rule_json(r) for r in rules], indent=2))
        return
    if not rules:
        click.echo("no alerts", err=True)
    for r in rules:
        channels = ", ".join(str(Channel.from_json(c)) for c in r.channels)
        on = "" if r.enabled else " (off)"
        click.echo(f"{r.name}\t{r.kind} {r.threshold}\t{r.state}{on}\t{channels}")
    for d in recent:
        click.echo(f"  {d.created_at:%Y-%m-%d %H:%M:%S} UTC {delivery_line(d)}")


@alerts.command()
@config_option
@click.argument("name")
@no_traceback
def remove(config_file: Path | None, name: str) -> None:
    """Remove an alert rule."""
    _with_alerts(config_file, lambda a: a.remove(name))
    click.echo(f"alert {name.strip()!r} removed")


def _with_checker(config_file: Path | None, work: Callable[[AlertChecker], Any]) -> Any:
    settings = settings_from(config_file, need_licence=False)

    async def run(service: DashboardService) -> Any:
        checker = AlertChecker(service)
        try:
            return await work(checker)
        finally:
            await checker.aclose()

    try:
        return run_with_service(settings, run)
    except AlertError as exc:
        raise click.ClickException(str(exc)) from exc


@alerts.command()
@config_option
@click.argument("name")
@no_traceback
def test(config_file: Path | None, name: str) -> None:
    """Send a test message through each of the rule's channels now."""
    sent: list[DeliveryRecord] = _with_checker(config_file, lambda c: c.send_test(name))
    for d in sent:
        click.echo(delivery_line(d))
    if any(d.state != "sent" for d in sent):
        raise click.exceptions.Exit(1)


@alerts.command()
@config_option
@no_traceback
def check(config_file: Path | None) -> None:
    """Check the rules now (for cron), under the same lock as `serve`'s checks."""
    report: CheckReport = _with_checker(config_file, lambda c: c.check_now())
    if report.held_by is not None:
        click.echo(f"skipped: another checker holds the lock ({report.held_by})", err=True)
        return
    for name in report.fired:
        click.echo(f"fired: {name}")
    for name in report.rearmed:
        click.echo(f"re-armed: {name}")
    for d in report.delivered:
        click.echo(delivery_line(d))
    for p in report.problems:
        click.echo(f"warning: {p.message}", err=True)
    if any(d.state != "sent" for d in report.delivered):
        raise click.exceptions.Exit(1)
