"""Stopping background tasks: the caller's own cancellation is never swallowed."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tokenusage.service.background import cancel_and_wait

pytestmark = pytest.mark.anyio


async def test_a_caller_cancelled_while_it_waits_is_cancelled() -> None:
    """The task takes its time to end; the caller is cancelled meanwhile and must end
    cancelled (with `suppress(CancelledError): await task` it returned normally)."""
    ending = asyncio.Event()

    async def slow_to_end() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            await ending.wait()

    task = asyncio.create_task(slow_to_end())
    await asyncio.sleep(0)
    caller = asyncio.create_task(cancel_and_wait(task))
    await asyncio.sleep(0.01)
    assert not caller.done(), "it waits for the task to end"
    caller.cancel()
    await asyncio.wait([caller])
    assert caller.cancelled()
    ending.set()
    await asyncio.wait([task])
    assert task.cancelled()


async def test_waits_until_the_task_has_ended() -> None:
    steps: list[str] = []

    async def cleans_up() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            await asyncio.sleep(0.01)
            steps.append("cleaned up")

    task = asyncio.create_task(cleans_up())
    await asyncio.sleep(0)
    await cancel_and_wait(task)
    assert task.cancelled() and steps == ["cleaned up"]


async def test_a_task_that_failed_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def fails() -> None:
        raise RuntimeError("renewal broke")

    task = asyncio.create_task(fails())
    await asyncio.sleep(0)
    with caplog.at_level(logging.ERROR, logger="tokenusage.service.background"):
        await cancel_and_wait(task)
    assert "renewal broke" in caplog.text
