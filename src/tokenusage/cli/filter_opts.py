"""The history filters as command-line options, with the page's meaning (see `usage.filters`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from tokenusage.usage.filters import Filters, parse_filters

F = TypeVar("F", bound=Callable[..., Any])


def date_options(fn: F) -> F:
    fn = click.option("--to", "last", default="", help="Last day, YYYY-MM-DD (inclusive).")(fn)
    return click.option(
        "--from", "first", default="", help="First day, YYYY-MM-DD, in the business timezone."
    )(fn)


def filter_options(fn: F) -> F:
    fn = click.option("--q", "q", default="", help="Text the description or service contains.")(fn)
    fn = click.option(
        "--service", "services", multiple=True, help="A service as the API names it (repeatable)."
    )(fn)
    fn = click.option(
        "--type",
        "types",
        multiple=True,
        help="usage, purchase or refund (repeatable, or comma-separated).",
    )(fn)
    return date_options(fn)


def filters_from(
    first: str = "",
    last: str = "",
    types: tuple[str, ...] = (),
    services: tuple[str, ...] = (),
    q: str = "",
) -> Filters:
    """Parsed filters; a bad value is a usage error (exit 2) that says what is wrong."""
    found = parse_filters(first, last, types, services, q)
    if found.errors:
        raise click.UsageError("; ".join(str(note) for note in found.errors))
    return found
