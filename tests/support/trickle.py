"""A TCP server that answers every connection with `head`, then one more byte every
`every` seconds, for ever: a peer that is never silent long enough for a per-read timeout."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Trickle:
    port: int
    dropped: threading.Event = field(default_factory=threading.Event)


@contextmanager
def trickle_server(head: bytes, every: float = 0.1) -> Iterator[Trickle]:
    listener = socket.create_server(("127.0.0.1", 0))
    trickle = Trickle(listener.getsockname()[1])
    stop = threading.Event()

    def serve() -> None:
        with listener:
            listener.settimeout(0.1)
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                with conn:
                    try:
                        conn.sendall(head)
                        while not stop.wait(every):
                            conn.sendall(b"x")
                    except OSError:
                        trickle.dropped.set()  # the client gave up and closed its end

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield trickle
    finally:
        stop.set()
        thread.join(timeout=5)
