"""API tokens as records: a name, the SHA-256 of the token and when it was made and last used.

Every request looks its token up here, so a revocation holds at once on every replica. The
last use is written at most once a minute per token, so reads stay reads under load.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, or_, select, update

from tokenusage.store.site_schema import api_tokens as T

TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class TokenRecord:
    name: str
    created_at: datetime
    last_used_at: datetime | None


def create(conn: Connection, name: str, token_hash: str, now: datetime) -> bool:
    """False when a token of that name exists already (of two creating the same name at once,
    the primary key refuses the second)."""
    if conn.execute(select(T.c.name).where(T.c.name == name)).first() is not None:
        return False
    conn.execute(T.insert().values(name=name, token_hash=token_hash, created_at=now))
    return True


def listing(conn: Connection) -> list[TokenRecord]:
    rows = conn.execute(select(T.c.name, T.c.created_at, T.c.last_used_at).order_by(T.c.name))
    return [TokenRecord(*r) for r in rows]


def revoke(conn: Connection, name: str) -> bool:
    return conn.execute(delete(T).where(T.c.name == name)).rowcount > 0


def find(conn: Connection, token_hash: str) -> tuple[str, datetime | None] | None:
    row = conn.execute(
        select(T.c.name, T.c.last_used_at).where(T.c.token_hash == token_hash)
    ).first()
    return None if row is None else (row[0], row[1])


def touch(conn: Connection, token_hash: str, now: datetime) -> None:
    conn.execute(
        update(T)
        .where(
            T.c.token_hash == token_hash,
            or_(T.c.last_used_at.is_(None), T.c.last_used_at < now - TOUCH_EVERY),
        )
        .values(last_used_at=now)
    )
