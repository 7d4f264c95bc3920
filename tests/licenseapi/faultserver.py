"""A loopback HTTP server that misbehaves on purpose, one scripted fault per connection.

For what `httpx.MockTransport` cannot show realistically: a stalled server, a body cut short
by a closed socket, 50 MB arriving over a real socket. It runs its own asyncio loop in a
background thread, so the client under test runs on the test's loop exactly as in production.
Every response says `Connection: close`, so each request of the client opens a new connection
and meets the next fault in the script.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

Fault = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
CHUNK = b"x" * 65536


class FaultServer:
    def __init__(self) -> None:
        self.requests: list[str] = []
        self._faults: deque[Fault] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self.url = ""

    def start(self) -> None:
        self._thread.start()
        self._server = self._run(asyncio.start_server(self._handle, "127.0.0.1", 0))
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/api.php"

    def stop(self) -> None:
        self._run(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def script(self, *faults: Fault) -> None:
        """Queue faults; each new connection takes the next one (a 500 when none is left)."""
        self._faults.extend(faults)

    def _run(self, coro: Awaitable[Any]) -> Any:
        async def wrapper() -> Any:
            return await coro

        return asyncio.run_coroutine_threadsafe(wrapper(), self._loop).result(timeout=10)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            first = await reader.readexactly(1)
            if first == b"\x16":  # a TLS ClientHello: answer as a plain HTTP server would
                self.requests.append("TLS handshake")
                writer.write(_head(400, {"Content-Length": "0"}))
                await writer.drain()
                return
            head = first + await reader.readuntil(b"\r\n\r\n")
            self.requests.append(head.split(b"\r\n", 1)[0].decode())
            fault = self._faults.popleft() if self._faults else reply(500, {"error": "no fault"})
            await fault(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Shutting down. Returning (not re-raising) matters: on Python 3.11 asyncio logs an
            # error for a cancelled client-connected task.
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _shutdown(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()
        for _ in range(3):  # let transports run their close callbacks before the loop stops
            await asyncio.sleep(0)


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} X", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Fault:
    """A well-formed response; `body` is JSON-encoded unless it is bytes."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()

    async def fault(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        extra = {"Content-Type": "application/json", "Content-Length": str(len(data))}
        writer.write(_head(status, {**extra, **(headers or {})}) + data)
        await writer.drain()

    return fault


def stall(seconds: float) -> Fault:
    """Read the request, then say nothing for `seconds`."""

    async def fault(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(seconds)

    return fault


def truncated(declared: int, sent: bytes) -> Fault:
    """Promise `declared` bytes, send `sent`, close."""

    async def fault(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(_head(200, {"Content-Length": str(declared)}) + sent)
        await writer.drain()

    return fault


def trickle(body: bytes, *, every: float) -> Fault:
    """A 200 whose body arrives one byte every `every` seconds: no per-read timeout fires."""

    async def fault(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(_head(200, {"Content-Length": str(len(body))}))
        for byte in body:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(every)

    return fault


def hang_up() -> Fault:
    """Close without a response, as a server dropping an idle keep-alive connection does."""

    async def fault(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        return None

    return fault


def huge(size: int, *, declare_length: bool) -> Fault:
    """A `size`-byte body, with Content-Length or chunked; stops when the client goes away."""

    async def fault(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        length = {"Content-Length": str(size)} if declare_length else {}
        framing = {} if declare_length else {"Transfer-Encoding": "chunked"}
        writer.write(_head(200, {**length, **framing}))
        sent = 0
        while sent < size:
            chunk = CHUNK[: min(len(CHUNK), size - sent)]
            if declare_length:
                writer.write(chunk)
            else:
                writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
            await writer.drain()
        if not declare_length:
            writer.write(b"0\r\n\r\n")
        await writer.drain()

    return fault


def announce(size: int, *, then_wait: float) -> Fault:
    """Headers promising a `size`-byte body, then nothing for `then_wait` seconds."""

    async def fault(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(_head(200, {"Content-Length": str(size)}))
        await writer.drain()
        await asyncio.sleep(then_wait)

    return fault


@contextmanager
def running() -> Iterator[FaultServer]:
    server = FaultServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
