"""A License API that misbehaves on demand: a real loopback HTTP server in front of the
reference server, which forwards every request unless a rule says otherwise.

The reference server answers correctly; the faults the dashboard must survive (a 500 on one
endpoint, a truncated body, a server that ignores `before_id`, a stall) are not something it
produces on request. Rules see each request's endpoint, query and per-endpoint count, and
return what to do with it. Everything else — the ledger, the licence checks, the JSON — is the
real server's. The dashboard under test (a service, a page, a CLI subprocess) talks to
`proxy.url` exactly as it would to a real License API.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.liveserver import serve


@dataclass(frozen=True)
class Call:
    endpoint: str  # "credits/history"
    params: dict[str, str]
    n: int  # 1 for the first request to this endpoint


@dataclass(frozen=True)
class Reply:
    """Answer with this instead of forwarding."""

    status: int = 500
    body: bytes = b'{"success": false, "error": "injected fault"}'
    content_type: str = "application/json"


@dataclass(frozen=True)
class Forward:
    """Forward, optionally after `delay` seconds or once `hold` is set, with `drop` query
    parameters removed, and the JSON answer passed through `edit`."""

    delay: float = 0.0
    drop: tuple[str, ...] = ()
    hold: threading.Event | None = None
    edit: Callable[[Any], Any] | None = None


Rule = Callable[[Call], Reply | Forward | None]


@dataclass
class FaultProxy:
    upstream: str
    rules: list[Rule] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    seen: list[Call] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def decide(self, call: Call) -> Reply | Forward:
        for rule in list(self.rules):
            action = rule(call)
            if action is not None:
                return action
        return Forward()

    async def handle(self, request: Request) -> Response:
        endpoint = request.path_params["endpoint"]
        with self._lock:
            self.calls[endpoint] += 1
            call = Call(endpoint, dict(request.query_params), self.calls[endpoint])
            self.seen.append(call)
        action = self.decide(call)
        if isinstance(action, Reply):
            return Response(action.body, action.status, media_type=action.content_type)
        if action.delay:
            await asyncio.sleep(action.delay)
        if action.hold is not None:
            await asyncio.to_thread(action.hold.wait, 30)
        params = {k: v for k, v in call.params.items() if k not in action.drop}
        async with httpx.AsyncClient(timeout=60) as client:
            answer = await client.get(f"{self.upstream}/{endpoint}", params=params)
        content = answer.content
        if action.edit is not None:
            content = json.dumps(action.edit(answer.json())).encode()
        return Response(
            content,
            answer.status_code,
            media_type=answer.headers.get("content-type", "application/json"),
        )


def on(endpoint: str, action: Reply | Forward, when: Callable[[Call], bool] | None = None) -> Rule:
    """A rule: `action` for requests to `endpoint` (that also satisfy `when`)."""

    def rule(call: Call) -> Reply | Forward | None:
        if call.endpoint == endpoint and (when is None or when(call)):
            return action
        return None

    return rule


@contextmanager
def fault_proxy(upstream: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream.rstrip("/"))

    async def not_found(_request: Request) -> Response:
        return JSONResponse({"success": False, "error": "not found"}, 404)

    app = Starlette(
        routes=[Route("/api.php/{endpoint:path}", proxy.handle, methods=["GET"])],
        exception_handlers={404: lambda r, e: not_found(r)},
    )
    with serve(app) as base:
        proxy.url = f"{base}/api.php"
        yield proxy
