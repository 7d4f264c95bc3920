"""What every dashboard command shares: settings from `--config` and the environment, the
service's lifetime, and turning known failures into one line and an exit code."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from tokenusage.cli.logs import one_line
from tokenusage.config import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from tokenusage.service import DashboardService, Problem

log = logging.getLogger(__name__)
T = TypeVar("T")
EXIT_OTHER = 1
EXIT_CONFIG = 2
EXIT_API = 3
EXIT_INTERRUPTED = 130  # Ctrl+C: the shell's code for a SIGINT


class ApiFailure(click.ClickException):
    exit_code = EXIT_API


class ConfigFailure(click.ClickException):
    exit_code = EXIT_CONFIG


config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="TOKENUSAGE_CONFIG",
    help="TOML settings file (keys as in the README; environment TOKENUSAGE_* wins).",
)


def settings_from(
    config_file: Path | None, *, need_licence: bool = True, **overrides: Any
) -> Settings:
    try:
        settings = load_settings(config_file, **overrides)
        if need_licence:
            settings.require_licence()
    except ConfigError as exc:
        raise ConfigFailure(str(exc)) from exc
    return settings


def run_with_service(settings: Settings, work: Callable[[DashboardService], Awaitable[T]]) -> T:
    """Run `work` with a service, closing it afterwards; known failures become exit codes."""
    from tokenusage.licenseapi.errors import LicenseApiError
    from tokenusage.service import DashboardService, ExportRefused
    from tokenusage.store import StoreError

    async def main() -> T:
        service = DashboardService.from_settings(settings)
        try:
            result = await work(service)
        except BaseException:
            # Ctrl+C, or a failure: stop a sync still mirroring behind it rather than wait
            # for it (a cancelled sync leaves the previous mirror whole).
            await service.aclose(wait=False)
            raise
        await service.aclose()  # a run that answered completes the mirror first
        return result

    try:
        return asyncio.run(main())
    except ExportRefused as exc:
        raise problem_failure([exc.problem]) from exc
    except LicenseApiError as exc:
        raise ApiFailure(_folded(exc)) from exc
    except StoreError as exc:
        raise click.ClickException(f"local store: {_folded(exc)}") from exc


def _folded(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def exit_code(problems: list[Problem]) -> int:
    """2 for configuration, 3 when the License API is the cause, 1 for anything else."""
    from tokenusage.service import Kind

    if any(p.kind is Kind.CONFIG for p in problems):
        return EXIT_CONFIG
    if any(p.kind.from_license_api for p in problems):
        return EXIT_API
    return EXIT_OTHER


def problem_failure(problems: list[Problem]) -> click.ClickException:
    """One exception whose message lists the problems, with their exit code."""
    kind = {EXIT_CONFIG: ConfigFailure, EXIT_API: ApiFailure}.get(
        exit_code(problems), click.ClickException
    )
    return kind("; ".join(p.message for p in problems))


def no_traceback(fn: Callable[..., T]) -> Callable[..., T]:
    """Last line of defence: an unexpected error is one line, not a traceback (the traceback
    is logged at DEBUG, so `-vv` shows it). The `tokenusage` group applies it to every
    command; commands still carry it so that they keep it when invoked on their own."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except click.ClickException as exc:
            if exc.__cause__ is not None:
                log.debug("%s", exc.format_message(), exc_info=exc.__cause__)
            raise
        except (click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except OSError as exc:
            log.debug("%s", exc, exc_info=exc)
            raise click.ClickException(_folded(exc)) from exc
        except Exception as exc:
            log.debug("unexpected error", exc_info=exc)
            raise click.ClickException(f"unexpected error: {one_line(exc)}") from exc

    return wrapper
