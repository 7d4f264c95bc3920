"""Shared steps of the web tests: a second signed-in client, the ledger as the server has it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import httpx

from tests.fixtures import RunningLicenseServer
from tests.support.dashboard import RunningDashboard, sign_in


@contextmanager
def signed_in(dash: RunningDashboard, **kwargs: Any) -> Iterator[httpx.Client]:
    """A new client of `dash` with its own session, signed in."""
    with dash.client(**kwargs) as http:
        assert sign_in(http, dash.admin, dash.password).status_code == 303
        yield http


def ledger_rows(srv: RunningLicenseServer) -> list[dict[str, Any]]:
    """The licence's whole history as the server has it, newest first."""
    history = srv.ledger.history(srv.licence_id)
    rows: list[dict[str, Any]] = history["transactions"]
    assert len(rows) == history["total"], "more history than one call returns"
    return rows


def ledger_amounts(rows: list[dict[str, Any]]) -> list[Decimal]:
    return [Decimal(row["amount"]) for row in rows]


class Outage:
    """A `CountingTransport` rewrite that refuses every connection while `down` is set: the
    License API goes away without the test stopping the real server."""

    def __init__(self) -> None:
        self.down = False

    async def __call__(self, request: httpx.Request, _n: int) -> httpx.Request:
        if self.down:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return request
