"""Console script `tokenusage`. Every user-facing failure ends as a one-line message and an exit
code (0 ok, 1 usage/other error, 2 configuration error, 3 License API error), never a traceback."""

from __future__ import annotations

import click

from tokenusage import __version__
from tokenusage.cli.licenseserver_cmds import licenseserver


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tokenusage")
def cli() -> None:
    """Token & Credit Usage Dashboard for ComusThumbz licence holders."""


cli.add_command(licenseserver)


def _register_optional() -> None:
    """Commands of the dashboard side, added as their packages land."""
    from tokenusage.cli import demo_cmd

    cli.add_command(demo_cmd.demo)


_register_optional()


def main() -> None:
    cli(prog_name="tokenusage")
