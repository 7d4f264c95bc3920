"""Console script `tokenusage`. Every user-facing failure ends as a one-line message and an exit
code (0 ok, 1 other error, 2 configuration or usage error, 3 License API error, 130 stopped
by Ctrl+C), never a traceback. Each command's module is imported only when that command
runs, so `tokenusage export` does not pay for the web app, uvicorn or the reference server."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Any

import click

from tokenusage import __version__

COMMANDS = {
    "serve": "tokenusage.cli.web_cmds:serve",
    "demo": "tokenusage.cli.demo_cmd:demo",
    "status": "tokenusage.cli.status_cmds:status",
    "export": "tokenusage.cli.export_cmd:export",
    "usage": "tokenusage.cli.usage_cmd:usage",
    "cache": "tokenusage.cli.status_cmds:cache",
    "admin": "tokenusage.cli.admin_cmds:admin",
    "token": "tokenusage.cli.token_cmds:token",
    "alerts": "tokenusage.cli.alerts_cmds:alerts",
    "licenseserver": "tokenusage.cli.licenseserver_cmds:licenseserver",
}


class LazyGroup(click.Group):
    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Click's own handling, except that a usage error is one line (click prints the
        usage, a hint and a blank line before it) that names the command's --help."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            done = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:  # a group alone: its help
            exc.show()
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx else "tokenusage"
            message = " ".join(exc.format_message().split())
            click.echo(f"Error: {message} (see '{command} --help')", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort as exc:
            if isinstance(exc.__cause__, KeyboardInterrupt):
                from tokenusage.cli.common import EXIT_INTERRUPTED

                click.echo("Interrupted.", err=True)
                sys.exit(EXIT_INTERRUPTED)
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(done if isinstance(done, int) else 0)  # `invoke` returns None: an exit code

    def invoke(self, ctx: click.Context) -> None:
        from tokenusage.cli.common import no_traceback

        no_traceback(super().invoke)(ctx)  # what a command returns is not an exit code

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, name = target.partition(":")
        command = getattr(importlib.import_module(module), name)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tokenusage")
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Log what happens: -v the details (retries, fetches), -vv debug with tracebacks.",
)
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """Token & Credit Usage Dashboard for ComusThumbz licence holders."""
    from tokenusage.cli.logs import configure_cli_logging

    ctx.obj = {"verbose": verbose}
    ctx.call_on_close(configure_cli_logging(verbose))


def main() -> None:
    cli(prog_name="tokenusage")
