"""Real receivers for alert deliveries: an SMTP server (aiosmtpd) on loopback that keeps what
it accepts, and an HTTP webhook receiver that checks each signature and can fail on demand."""

from __future__ import annotations

import asyncio
import email
import email.policy
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.liveserver import serve
from tests.support.pgcluster import free_port


@dataclass
class Mailbox:
    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refuse: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.refuse:
            return "550 5.7.1 refused by the test"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def count(self) -> int:
        with self.lock:
            return len(self.messages)


@contextmanager
def smtp_server() -> Iterator[tuple[int, Mailbox]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, box
    finally:
        controller.stop()


@dataclass
class Hooks:
    secret: str
    received: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    delay: float = 0.0
    bad_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> int:
        with self.lock:
            return len(self.received)


@contextmanager
def webhook_receiver(secret: str) -> Iterator[tuple[str, Hooks]]:
    hooks = Hooks(secret)

    async def receive(request: Request) -> Response:
        body = await request.body()
        stamp = request.headers.get("x-tokenusage-timestamp", "")
        mac = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256)
        good = hmac.compare_digest(
            request.headers.get("x-tokenusage-signature", ""), "sha256=" + mac.hexdigest()
        )
        if hooks.delay:
            await asyncio.sleep(hooks.delay)
        with hooks.lock:
            if not good:
                hooks.bad_signatures += 1
            elif hooks.status < 300:
                hooks.received.append(json.loads(body))
        return JSONResponse({"ok": good}, status_code=hooks.status if good else 401)

    app = Starlette(routes=[Route("/hook", receive, methods=["POST"])])
    with serve(app) as url:
        yield url + "/hook", hooks
