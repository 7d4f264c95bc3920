"""Listening sockets bound before anything starts, so a busy port is one clear line at once
(and no other process can take the port between a check and the server's start)."""

from __future__ import annotations

import errno
import socket

import click


class PortInUse(click.ClickException):
    exit_code = 1


def bind(host: str, port: int, hint: str = "") -> socket.socket:
    """A listening TCP socket on (host, port); `PortInUse` (exit 1) when it is taken."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise click.ClickException(f"cannot listen on {host}: {exc.strerror}") from exc
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(f"port {port} on {host} is in use{hint}") from exc
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    return sock
