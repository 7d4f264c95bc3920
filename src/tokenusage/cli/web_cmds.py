"""`tokenusage serve`: the dashboard under uvicorn."""

from __future__ import annotations

from pathlib import Path

import click

from tokenusage.cli.common import (
    EXIT_INTERRUPTED,
    ConfigFailure,
    config_option,
    no_traceback,
    settings_from,
)
from tokenusage.cli.logs import LEVELS, configure_server_logging
from tokenusage.cli.ports import bind
from tokenusage.config import ConfigError


@click.command()
@config_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--log-level",
    type=click.Choice(LEVELS),
    help="What the server logs (default: the log_level setting, info); tracebacks at debug.",
)
@no_traceback
def serve(config_file: Path | None, host: str, port: int, log_level: str | None) -> None:
    """Serve the dashboard (a missing licence configuration shows on the page itself)."""
    import uvicorn

    from tokenusage.web.app import create_app, server_options

    overrides = {"log_level": log_level} if log_level else {}
    settings = settings_from(config_file, need_licence=False, **overrides)
    listener = bind(host, port)
    try:
        try:
            app = create_app(settings)
        except ConfigError as exc:
            raise ConfigFailure(str(exc)) from exc
        config = uvicorn.Config(
            app, host=host, port=port, log_level=settings.log_level, **server_options(settings)
        )
        # After uvicorn's own logging set-up, which would otherwise replace this one.
        configure_server_logging(settings.log_level)
        click.echo(f"tokenusage dashboard on http://{host}:{port}/", err=True)
        try:
            uvicorn.Server(config).run(sockets=[listener])
        except KeyboardInterrupt:  # uvicorn re-raises Ctrl+C after a clean shutdown
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
    finally:
        listener.close()
