"""A download stopped midway (the browser went away: Starlette cancels the response's task
group) still closes its store read in a worker thread, never on the event loop."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.fixtures import RunningLicenseServer
from tests.service.conftest import make_service

pytestmark = pytest.mark.anyio


async def test_a_cancelled_download_closes_its_read_in_a_worker_thread(
    upstream: RunningLicenseServer, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = make_service(upstream, db_url, tmp_path)
    try:
        assert sum([c.rows async for c in service.export_csv()]) == 1200  # the mirror is in
        store = service.store
        assert store is not None
        inside, go_on = threading.Event(), threading.Event()
        closed_on: list[threading.Thread] = []
        real = store.iter_export

        def held_read(*args: Any, **kwargs: Any) -> Iterator[Any]:
            rows = real(*args, **kwargs)
            try:
                yield next(rows)
                inside.set()  # the second batch is being read when the download stops
                go_on.wait(10)
                yield from rows
            finally:
                closed_on.append(threading.current_thread())
                rows.close()

        monkeypatch.setattr(store, "iter_export", held_read)

        async def download() -> None:
            async for _ in service.export_csv():
                pass

        async with anyio.create_task_group() as group:
            group.start_soon(download)
            while not inside.is_set():
                await anyio.sleep(0.01)
            group.cancel_scope.cancel()
            go_on.set()
        assert closed_on and closed_on[0] is not threading.main_thread(), closed_on
    finally:
        await service.aclose()
