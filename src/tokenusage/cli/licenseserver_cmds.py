"""`tokenusage licenseserver ...`: run and administer the reference License API."""

from __future__ import annotations

import secrets
from decimal import Decimal, InvalidOperation

import click
from sqlalchemy.exc import SQLAlchemyError

from tokenusage.licenseserver.ledger import PRICE_FIELDS, Ledger, LedgerError
from tokenusage.licenseserver.schema import to_units, units_str
from tokenusage.store.engine import make_engine

DEFAULT_DB = "sqlite:///licenseserver.sqlite3"
db_option = click.option(
    "--db",
    "db_url",
    default=DEFAULT_DB,
    show_default=True,
    envvar="TOKENUSAGE_LICENSESERVER_DB",
    help="SQLAlchemy URL of the ledger (a SQLite file or postgresql://...).",
)


class DecimalType(click.ParamType):  # type: ignore[type-arg]
    name = "decimal"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> Decimal:
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            self.fail(f"{value!r} is not a decimal amount", param, ctx)
        if not number.is_finite():
            self.fail(f"{value!r} is not a finite amount", param, ctx)
        return number


DECIMAL = DecimalType()


def open_ledger(db_url: str) -> Ledger:
    try:
        ledger = Ledger(make_engine(db_url))
        ledger.create_schema()
    except (SQLAlchemyError, OSError) as exc:
        raise click.ClickException(f"cannot open ledger {db_url}: {exc}") from exc
    return ledger


def _licence_id(ledger: Ledger, key: str) -> int:
    lic = ledger.find_licence(key)
    if lic is None:
        raise click.ClickException("no licence with this key (see `licenseserver issue`)")
    return lic.id


@click.group()
def licenseserver() -> None:
    """Run and administer the reference License API."""


@licenseserver.command()
@db_option
def init(db_url: str) -> None:
    """Create the ledger schema (idempotent)."""
    open_ledger(db_url)
    click.echo(f"ledger ready: {db_url}")


@licenseserver.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8100, show_default=True, type=click.IntRange(1, 65535))
def serve(db_url: str, host: str, port: int) -> None:
    """Serve the License API over HTTP."""
    import uvicorn

    from tokenusage.cli.ports import bind
    from tokenusage.licenseserver.app import create_app

    listener = bind(host, port)
    try:
        app = create_app(open_ledger(db_url).engine)
        uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="info")).run(
            sockets=[listener]
        )
    finally:
        listener.close()


@licenseserver.command()
@db_option
@click.option("--key", help="Licence key (default: a random one, printed).")
@click.option("--domain", required=True)
@click.option("--email", required=True)
@click.option("--type", "license_type", default="Pro", show_default=True)
@click.option("--status", type=click.Choice(["active", "suspended", "expired"]), default="active")
def issue(
    db_url: str, key: str | None, domain: str, email: str, license_type: str, status: str
) -> None:
    """Issue a licence."""
    key = key or "CTZ-" + secrets.token_hex(12).upper()
    try:
        open_ledger(db_url).issue_licence(key, domain, email, license_type, status=status)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"licence issued\n  key:    {key}\n  domain: {domain}\n  email:  {email}")


@licenseserver.command()
@db_option
@click.option("--key", required=True)
@click.option("--amount", required=True, type=DECIMAL, help="Dollars, e.g. 25.00")
@click.option("--refund", is_flag=True, help="Record a refund instead of a purchase.")
@click.option("--description", default="")
def credit(db_url: str, key: str, amount: Decimal, refund: bool, description: str) -> None:
    """Add credit to a licence (a purchase, or a refund)."""
    if amount <= 0:
        raise click.BadParameter("must be positive", param_hint="--amount")
    ledger = open_ledger(db_url)
    kind = "refund" if refund else "purchase"
    try:
        entry = ledger.add_entry(
            _licence_id(ledger, key),
            kind,
            amount,
            service_type="Credits" if kind == "purchase" else "Refund",
            description=description or f"Credit {kind}",
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"{kind} #{entry}: +{amount}; balance {ledger.stats(_licence_id(ledger, key))['balance']}"
    )


@licenseserver.command()
@db_option
@click.option("--key", required=True)
@click.option("--service", "service_type", required=True)
@click.option("--description", default="")
@click.option("--input-tokens", default=0, type=click.IntRange(0))
@click.option("--completion-tokens", default=0, type=click.IntRange(0))
@click.option("--cached-tokens", default=0, type=click.IntRange(0))
@click.option("--images", default=0, type=click.IntRange(0))
def usage(
    db_url: str,
    key: str,
    service_type: str,
    description: str,
    input_tokens: int,
    completion_tokens: int,
    cached_tokens: int,
    images: int,
) -> None:
    """Record usage, charged at the price in force."""
    ledger = open_ledger(db_url)
    try:
        entry, amount = ledger.charge(
            _licence_id(ledger, key),
            service_type=service_type,
            description=description,
            input_tokens=input_tokens,
            completion_tokens=completion_tokens,
            cached_tokens=cached_tokens,
            images=images,
        )
    except (ValueError, LedgerError) as exc:
        raise click.ClickException(str(exc)) from exc
    balance = ledger.stats(_licence_id(ledger, key))["balance"]
    click.echo(f"usage #{entry}: {units_str(to_units(amount))}; balance {balance}")


@licenseserver.command()
@db_option
@click.option("--image-processing-per-10k", "image_processing_per_10k", type=DECIMAL, required=True)
@click.option("--input-tokens-per-1m", "input_tokens_per_1m", type=DECIMAL, required=True)
@click.option("--completion-tokens-per-1m", "completion_tokens_per_1m", type=DECIMAL, required=True)
@click.option("--cached-tokens-per-1m", "cached_tokens_per_1m", type=DECIMAL, required=True)
def price(db_url: str, **prices: Decimal) -> None:
    """Put new prices in force from now on."""
    try:
        open_ledger(db_url).set_pricing({f: prices[f] for f in PRICE_FIELDS})
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("new prices in force")


@licenseserver.command()
@db_option
@click.option("--transactions", "-n", default=25_000, show_default=True, type=click.IntRange(2))
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--balance", type=DECIMAL, help="Make the demo end at this balance, e.g. 0.42.")
def seed(db_url: str, transactions: int, seed: int, balance: Decimal | None) -> None:
    """Write a deterministic, realistic demo ledger for a demo licence."""
    from tokenusage.licenseserver.demo import seed_demo

    ledger = open_ledger(db_url)
    try:
        demo = seed_demo(ledger, transactions, seed=seed, balance=balance)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"seeded {demo.transactions} transactions\n  key:    {demo.key}\n"
        f"  domain: {demo.domain}\n  email:  {demo.email}"
    )
