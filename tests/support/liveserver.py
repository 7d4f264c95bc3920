"""Run an ASGI app with uvicorn on a free loopback port, in a background thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from tests.support.pgcluster import free_port


@contextmanager
def serve(app: Any, host: str = "127.0.0.1", **options: Any) -> Iterator[str]:
    """`options` go to `uvicorn.Config` (the dashboard passes what `tokenusage serve` does)."""
    port = free_port()
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", lifespan="on", **options
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        if thread.is_alive():  # a shutdown that hangs is a bug of the app, not of the test
            raise RuntimeError("uvicorn did not shut down within 15 s")
