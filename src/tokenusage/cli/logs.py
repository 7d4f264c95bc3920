"""Log output of the console script and of `serve`.

A command's failure already ends as one line and an exit code, so by default a command logs
nothing (the License API client's retries would otherwise print a dozen warnings before it).
`-v` shows INFO and up, one line a record; `-vv` DEBUG with tracebacks. `serve` logs at its
`--log-level`, one line a record, with tracebacks only at `debug`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from types import TracebackType
from typing import TypeAlias

LEVELS = ("critical", "error", "warning", "info", "debug")
_HANDLER_NAME = "tokenusage-cli"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
ExcInfo: TypeAlias = (
    tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]
)


def one_line(exc: BaseException) -> str:
    """`Type: message` with the message's line breaks folded (SQL errors span lines)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class OneLineFormatter(logging.Formatter):
    """A record on one line: its exception, if any, as `Type: message` unless `tracebacks`."""

    def __init__(self, fmt: str = _FORMAT, *, tracebacks: bool = False) -> None:
        super().__init__(fmt, datefmt="%H:%M:%S")
        self.tracebacks = tracebacks

    def formatException(self, ei: ExcInfo) -> str:
        return super().formatException(ei) if self.tracebacks else ""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if not self.tracebacks and record.exc_info and record.exc_info[1] is not None:
            text += f" ({one_line(record.exc_info[1])})"
        return text


def _install(handler: logging.Handler, level: int) -> Callable[[], None]:
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    previous = root.level
    handler.set_name(_HANDLER_NAME)
    root.addHandler(handler)
    root.setLevel(level)

    def undo() -> None:
        root.removeHandler(handler)
        root.setLevel(previous)

    return undo


def configure_cli_logging(verbosity: int) -> Callable[[], None]:
    """Quiet (0), INFO one line a record (1), DEBUG with tracebacks (2+); returns the undo,
    for when the command ends."""
    if verbosity <= 0:
        # A handler that drops everything: without any, Python prints WARNING and up anyway.
        return _install(logging.NullHandler(), logging.WARNING)
    level = logging.INFO if verbosity == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter(tracebacks=verbosity >= 2))
    return _install(handler, level)


def configure_server_logging(level_name: str) -> Callable[[], None]:
    """The dashboard's own records at `level_name`, one line each; tracebacks at debug only."""
    level = logging.getLevelNamesMapping()[level_name.upper()]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter(tracebacks=level <= logging.DEBUG))
    return _install(handler, level)
