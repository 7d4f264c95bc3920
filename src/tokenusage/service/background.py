"""Stopping the service's background tasks (lease renewals, the alert loop)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)


async def cancel_and_wait(task: asyncio.Future[Any]) -> None:
    """Cancel `task` and wait until it has ended.

    The usual `task.cancel(); with suppress(CancelledError): await task` also swallows a
    cancellation of the caller itself that arrives while it waits: a loop asked to stop then
    goes on for ever (a `serve` shutdown hung that way, inside the alert loop's lease
    renewal). `asyncio.wait` never raises the task's outcome, so the caller's own
    cancellation is the only `CancelledError` that can come out of here.
    """
    task.cancel()
    await asyncio.wait([task])
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("a background task failed before it was stopped", exc_info=exc)
