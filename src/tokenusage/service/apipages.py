"""Pages of `/api/v1/transactions`, encoded once and kept.

A keyset page (the rows older than a cursor) cannot change while the mirror's generation
stays: syncs only append newer rows. So its JSON is kept by (generation, filters, cursor,
limit), and a script walking a 1M-row ledger costs one small read per page after the first
walk; the first page (no cursor) is kept until the next append. Pages are kept up to
`MAX_BYTES` in all, least recently used first out.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime

import orjson
from cachetools import LRUCache

from tokenusage.service.context import Context
from tokenusage.service.history import HistorySync
from tokenusage.service.jsonout import encode_cursor, transaction_json
from tokenusage.service.problems import Problem, unique
from tokenusage.store import MirrorRow
from tokenusage.usage.filters import Filters

MAX_BYTES = 32 * 1024 * 1024
Version = tuple[int, datetime, int]


def _key(version: Version, filters: Filters, before_id: int | None, limit: int) -> Hashable:
    kept = version if before_id is None else version[:2]
    return (kept, filters, before_id, limit)


def encode(rows: list[MirrorRow], more: bool) -> bytes:
    cursor = encode_cursor(rows[-1].id) if more and rows else None
    return orjson.dumps(
        {"transactions": [transaction_json(r) for r in rows], "next_cursor": cursor}
    )


def with_problems(body: bytes, problems: list[Problem]) -> bytes:
    """The page's object with a `problems` list beside its rows."""
    extra = orjson.dumps([p.as_json() for p in problems])
    return body[:-1] + b',"problems":' + extra + b"}"


class TransactionPages:
    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self._kept: LRUCache[Hashable, bytes] = LRUCache(max_bytes, getsizeof=len)

    async def page(
        self,
        ctx: Context,
        history: HistorySync,
        filters: Filters,
        before_id: int | None,
        limit: int,
    ) -> tuple[bytes | None, list[Problem]]:
        """The JSON of up to `limit` rows matching `filters` older than transaction
        `before_id`, from the mirror brought up to date first; None without a mirror."""
        problems: list[Problem] = []
        await history.ensure(problems)
        version = await ctx.stored(lambda s: s.mirror_version(ctx.identity), problems)
        if version is None:
            return None, unique(problems)
        body = self._kept.get(_key(version, filters, before_id, limit))
        if body is None:
            found = await ctx.stored(
                lambda s: s.transactions_before(ctx.identity, filters, before_id, limit + 1),
                problems,
            )
            if found is None:
                return None, unique(problems)
            read_from, rows = found
            body = encode(rows[:limit], len(rows) > limit)
            if len(body) <= self._kept.maxsize:
                self._kept[_key(read_from, filters, before_id, limit)] = body
        problems = unique(problems)
        return (with_problems(body, problems) if problems else body), problems
