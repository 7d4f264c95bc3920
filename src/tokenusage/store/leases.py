"""Leases: one holder at a time for a named piece of work, across every replica that shares
the store (one full sync of a licence's history, say). A lease expires unless renewed, so a
holder that dies frees it after its time-to-live."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tokenusage.store.site_schema import leases as L


def acquire(conn: Connection, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take the lease when it is free or expired (or already ours); True when held now."""
    values = {"name": name, "holder": holder, "expires_at": now + ttl}
    free = or_(L.c.expires_at < now, L.c.holder == holder)
    if conn.dialect.name == "postgresql":
        pg = postgresql.insert(L).values(values)
        conn.execute(
            pg.on_conflict_do_update(
                index_elements=["name"],
                set_={"holder": pg.excluded.holder, "expires_at": pg.excluded.expires_at},
                where=free,
            )
        )
    else:
        lite = sqlite.insert(L).values(values)
        conn.execute(
            lite.on_conflict_do_update(
                index_elements=["name"],
                set_={"holder": lite.excluded.holder, "expires_at": lite.excluded.expires_at},
                where=free,
            )
        )
    return conn.execute(select(L.c.holder).where(L.c.name == name)).scalar() == holder


def renew(conn: Connection, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Extend our lease; False when it is no longer ours (it expired and was taken)."""
    renewed = conn.execute(
        update(L).where(L.c.name == name, L.c.holder == holder).values(expires_at=now + ttl)
    )
    return renewed.rowcount == 1


def release(conn: Connection, name: str, holder: str) -> None:
    conn.execute(delete(L).where(L.c.name == name, L.c.holder == holder))


def holder(conn: Connection, name: str, now: datetime) -> str | None:
    """Who holds the lease now, if anyone."""
    return conn.execute(
        select(L.c.holder).where(L.c.name == name, L.c.expires_at >= now)
    ).scalar_one_or_none()
