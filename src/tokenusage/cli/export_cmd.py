"""`tokenusage export`: the complete history as CSV, streamed with bounded memory."""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import TextIO

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from tokenusage.cli.common import config_option, no_traceback, run_with_service, settings_from
from tokenusage.cli.filter_opts import filter_options, filters_from
from tokenusage.service import DashboardService, Problem
from tokenusage.usage.filters import Filters


async def write_csv(
    service: DashboardService,
    out: TextIO,
    progress: Progress | None,
    filters: Filters | None = None,
) -> int:
    """Write every transaction (matching `filters`) to `out`; returns the row count."""
    task = None
    written = 0
    problems: list[Problem] = []
    async for chunk in service.export_csv(problems, filters=filters):
        for problem in problems:  # the export goes on from the stored copy: say so once
            click.echo(f"warning: {problem.message}; exporting the stored copy", err=True)
        problems.clear()
        if progress is not None and task is None:
            total = (await service.view(1, filters=filters)).window.total
            task = progress.add_task("exporting", total=total or None)
        out.write(chunk.text)
        written += chunk.rows
        if progress is not None and task is not None:
            progress.update(task, completed=written)
    return written


@click.command()
@config_option
@click.option(
    "-o",
    "--output",
    default="-",
    show_default=True,
    help="File to write, or - for standard output.",
)
@filter_options
@no_traceback
def export(
    config_file: Path | None,
    output: str,
    first: str,
    last: str,
    types: tuple[str, ...],
    services: tuple[str, ...],
    q: str,
) -> None:
    """Export the complete transaction history as CSV (UTF-8 with BOM), or only the rows
    matching the filters (the same as the dashboard's)."""
    settings = settings_from(config_file)
    filters = filters_from(first, last, types, services, q)
    to_stdout = output == "-"
    show_progress = not to_stdout and sys.stderr.isatty()
    target = Path(output)
    if not to_stdout and target.is_dir():
        raise click.BadParameter("is a directory", param_hint="--output")
    if not to_stdout and not target.parent.is_dir():
        raise click.BadParameter(f"no folder {str(target.parent)!r}", param_hint="--output")
    # Write next to the target and rename at the end, so a failed export never leaves a
    # truncated file that looks complete; devices like /dev/null are written directly.
    direct = target.exists() and not target.is_file()
    partial = target if direct else target.with_name(target.name + ".part")

    async def work(service: DashboardService) -> int:
        if to_stdout:
            return await write_csv(service, sys.stdout, None, filters)
        try:
            opened = partial.open("w", encoding="utf-8", newline="")
        except OSError as exc:
            raise click.ClickException(f"cannot write {target}: {exc.strerror or exc}") from exc
        with opened as out:
            if not show_progress:
                return await write_csv(service, out, None, filters)
            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
            )
            with Progress(*columns, transient=True) as progress:
                return await write_csv(service, out, progress, filters)

    # A million rows means millions of short-lived tuples, and every full collection would
    # walk the start-up's objects again (~10% of the run): leave those out while exporting.
    gc.freeze()
    try:
        rows = run_with_service(settings, work)
    except BaseException:
        if not direct:
            partial.unlink(missing_ok=True)
        raise
    finally:
        gc.unfreeze()
    if not to_stdout:
        if not direct:
            partial.replace(target)
        click.echo(f"wrote {rows:,} transactions to {target}", err=True)
