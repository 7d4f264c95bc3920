"""The two ways an alert goes out: e-mail over SMTP (the standard library, in a worker
thread) and a signed JSON webhook (httpx). Each raises `ChannelError` with a short reason."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import smtplib
import socket
import ssl
import time
from contextlib import suppress
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import httpx
from anyio import to_thread

from tokenusage.config import Settings

USER_AGENT = "tokenusage-alerts/1"


class ChannelError(Exception):
    """A delivery that failed; the message says how, for the delivery log."""


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`, as X-Tokenusage-Signature carries."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def email_message(settings: Settings, to: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.smtp_from or f"tokenusage@{settings.smtp_host or 'localhost'}"
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="tokenusage")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    return message


async def send_email(settings: Settings, to: str, subject: str, text: str) -> None:
    """Send one message; the whole conversation gets `smtp_timeout` seconds (smtplib's own
    timeout is per read, so a server that trickles its replies would hold it for ever)."""
    if not settings.smtp_host:
        raise ChannelError("smtp_host is not set")
    message = email_message(settings, to, subject, text)
    timeout = settings.smtp_timeout
    smtp = smtplib.SMTP(timeout=timeout)  # not connected yet: the loop can interrupt it

    def send() -> None:
        with smtp:
            smtp.connect(settings.smtp_host, settings.smtp_port)
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            refused = smtp.send_message(message)
            if refused:
                raise ChannelError(f"recipient refused: {refused}")

    try:
        async with asyncio.timeout(timeout):
            await to_thread.run_sync(send, abandon_on_cancel=True)
    except TimeoutError:
        _interrupt(smtp)  # the abandoned thread's blocked read fails at once, and it ends
        raise ChannelError(f"SMTP: no complete answer within {timeout:g} s") from None
    except ChannelError:
        raise
    except (smtplib.SMTPException, OSError) as exc:
        raise ChannelError(f"SMTP: {type(exc).__name__}: {exc}"[:500]) from exc


def _interrupt(smtp: smtplib.SMTP) -> None:
    sock = getattr(smtp, "sock", None)
    if sock is not None:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


async def post_webhook(
    client: httpx.AsyncClient, settings: Settings, url: str, payload: dict[str, Any]
) -> None:
    body = json.dumps(payload, ensure_ascii=False).encode()
    stamp = str(int(time.time()))
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "x-tokenusage-timestamp": stamp,
        "x-tokenusage-signature": signature(
            settings.webhook_secret.get_secret_value(), stamp, body
        ),
    }
    timed_out = ChannelError(f"webhook timed out after {settings.webhook_timeout:g} s")
    try:
        # httpx's timeout is per read: a receiver that trickles its answer needs this one.
        async with asyncio.timeout(settings.webhook_timeout):
            answer = await client.post(url, content=body, headers=headers)
    except (httpx.TimeoutException, TimeoutError) as exc:
        raise timed_out from exc
    except httpx.HTTPError as exc:
        raise ChannelError(f"webhook: {type(exc).__name__}: {exc}"[:500]) from exc
    if answer.status_code >= 300:
        raise ChannelError(f"webhook answered HTTP {answer.status_code}")
