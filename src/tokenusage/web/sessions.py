"""Signed-cookie sessions whose `Secure` flag follows the request.

Starlette's SessionMiddleware fixes `https_only` when the app is built, but one installation
may be reached over plain HTTP on loopback and over HTTPS through a proxy; with
`secure_cookies = None` the flag follows `request.url.scheme` instead. The cookie is signed
(itsdangerous, HMAC-SHA1 over a JSON payload) and slides: it is re-issued when half its
lifetime has passed, so an admin who keeps working stays signed in.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tokenusage.config import ConfigError, Settings
from tokenusage.store.files import create_private, private_dir, warn_if_exposed

log = logging.getLogger(__name__)
COOKIE_NAME = "tokenusage_session"
SECRET_FILE = "session_secret"  # noqa: S105 (a file name)
_MIN_SECRET_CHARS = 32


def session_secret(settings: Settings) -> str:
    """The configured secret, or the one in `data_dir/session_secret`, created (0600) if absent."""
    configured = settings.session_secret.get_secret_value()
    if configured:
        if len(configured) < _MIN_SECRET_CHARS:
            raise ConfigError(f"session_secret must be at least {_MIN_SECRET_CHARS} characters")
        return configured
    path = settings.data_dir / SECRET_FILE
    try:
        private_dir(path.parent)
        return _read_or_create(path)
    except OSError as exc:
        raise ConfigError(f"cannot read or create the session secret {path}: {exc}") from exc


def _read_or_create(path: Path) -> str:
    fd = create_private(path)
    if fd is None:
        warn_if_exposed(path)
        secret = path.read_text(encoding="ascii").strip()
        if len(secret) < _MIN_SECRET_CHARS:
            raise ConfigError(
                f"the session secret in {path} is too short; delete the file to make a new one"
            ) from None
        return secret
    secret = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secret + "\n")
    log.info("generated a new session secret in %s", path)
    return secret


class SessionMiddleware:
    """`scope["session"]`: a dict stored in a signed cookie, written only when it changed."""

    def __init__(
        self, app: ASGIApp, *, secret: str, max_age: int, secure: bool | None = None
    ) -> None:
        self.app = app
        self.serializer = URLSafeTimedSerializer(secret, salt="tokenusage.session")
        self.max_age = max_age
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session, signed_at = self._load(scope)
        scope["session"] = session
        before = json.dumps(session, sort_keys=True)
        refresh = bool(session) and time.time() - signed_at > self.max_age / 2
        secure = self.secure if self.secure is not None else scope.get("scheme") == "https"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                current: dict[str, Any] = scope["session"]
                if refresh or json.dumps(current, sort_keys=True) != before:
                    headers = MutableHeaders(scope=message)
                    headers.append("Set-Cookie", self._cookie(current, secure))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _load(self, scope: Scope) -> tuple[dict[str, Any], float]:
        for name, value in scope["headers"]:
            if name != b"cookie":
                continue
            token = cookie_parser(value.decode("latin-1")).get(COOKIE_NAME)
            if not token:
                continue
            try:
                data, signed = self.serializer.loads(
                    token, max_age=self.max_age, return_timestamp=True
                )
            except BadSignature:  # forged, expired, or signed with an older secret
                return {}, 0.0
            if isinstance(data, dict):
                return data, signed.timestamp()
        return {}, 0.0

    def _cookie(self, session: dict[str, Any], secure: bool) -> str:
        if session:
            value, max_age = self.serializer.dumps(session), self.max_age
        else:
            value, max_age = "", 0
        flags = f"; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax"
        return f"{COOKIE_NAME}={value}{flags}{'; Secure' if secure else ''}"


def csrf_token(session: dict[str, Any]) -> str:
    """The session's CSRF token, created on first use (anonymous sessions have one too, for
    the sign-in form)."""
    token = session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def mark_live_since(session: dict[str, Any], when: datetime) -> None:
    """The next page shows what an action fetched from `when` on as live (see `pop_live_since`)."""
    session["live_since"] = when.isoformat()


def pop_live_since(session: dict[str, Any]) -> datetime | None:
    value = session.pop("live_since", None)
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def flash(session: dict[str, Any], level: str, text: str) -> None:
    """A message for the next page shown; bounded, since it travels in the cookie."""
    messages = [m for m in session.get("flash", []) if isinstance(m, list)][-3:]
    messages.append([level, text[:400]])
    session["flash"] = messages


def pop_flashes(session: dict[str, Any]) -> list[tuple[str, str]]:
    messages = session.pop("flash", [])
    return [(str(m[0]), str(m[1])) for m in messages if isinstance(m, list) and len(m) == 2]
