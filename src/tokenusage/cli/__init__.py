"""Console script `tokenusage`. Every user-facing failure ends as a one-line message and an exit
code (0 ok, 1 other error, 2 configuration or usage error, 3 License API error), never a
traceback. Heavy imports (uvicorn, the web app) happen inside the commands that need them."""

from __future__ import annotations

import click

from tokenusage import __version__
from tokenusage.cli.demo_cmd import demo
from tokenusage.cli.export_cmd import export
from tokenusage.cli.licenseserver_cmds import licenseserver
from tokenusage.cli.status_cmds import cache, status
from tokenusage.cli.web_cmds import admin, serve


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tokenusage")
def cli() -> None:
    """Token & Credit Usage Dashboard for ComusThumbz licence holders."""


for command in (serve, demo, status, export, cache, admin, licenseserver):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="tokenusage")
