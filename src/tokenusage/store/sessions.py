"""Sign-ins as server-side records (see `service.sessions` for the policy around them).

A record is keyed by the SHA-256 of the token the signed cookie carries; deleting it is the
sign-out, wherever it happens. Reading one also reads the admin's current password hash, so
one statement says whether the session still stands.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, or_, select, update

from tokenusage.store.schema import admins
from tokenusage.store.site_schema import web_sessions as S


@dataclass(frozen=True, slots=True)
class SessionRecord:
    admin: str
    seal: str
    created_at: datetime
    seen_at: datetime
    # The admin's password hash now; None when the admin no longer exists.
    password_hash: str | None


def create(conn: Connection, sid_hash: str, admin: str, seal: str, now: datetime) -> None:
    conn.execute(
        S.insert().values(id=sid_hash, admin=admin, seal=seal, created_at=now, seen_at=now)
    )


def get(conn: Connection, sid_hash: str) -> SessionRecord | None:
    row = conn.execute(
        select(S.c.admin, S.c.seal, S.c.created_at, S.c.seen_at, admins.c.password_hash)
        .select_from(S.outerjoin(admins, admins.c.name == S.c.admin))
        .where(S.c.id == sid_hash)
    ).one_or_none()
    return None if row is None else SessionRecord(*row)


def touch(conn: Connection, sid_hash: str, now: datetime) -> None:
    conn.execute(update(S).where(S.c.id == sid_hash).values(seen_at=now))


def remove(conn: Connection, sid_hash: str) -> int:
    return conn.execute(delete(S).where(S.c.id == sid_hash)).rowcount


def remove_admin(conn: Connection, admin: str) -> int:
    return conn.execute(delete(S).where(S.c.admin == admin)).rowcount


def purge(conn: Connection, idle_before: datetime, started_before: datetime) -> int:
    """Remove sessions idle since `idle_before` or begun before `started_before`."""
    expired = or_(S.c.seen_at < idle_before, S.c.created_at < started_before)
    return conn.execute(delete(S).where(expired)).rowcount
