"""Admin accounts for the web sign-in. Only hashes are stored; hashing lives with the web auth."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from tokenusage.store.schema import admins
from tokenusage.store.upsert import upsert


def get_hash(conn: Connection, name: str) -> str | None:
    return conn.execute(
        select(admins.c.password_hash).where(admins.c.name == name)
    ).scalar_one_or_none()


def upsert_admin(conn: Connection, name: str, password_hash: str, now: datetime) -> bool:
    """Create the admin or replace the password; True when the admin is new."""
    existed = get_hash(conn, name) is not None
    upsert(
        conn,
        admins,
        {"name": name, "password_hash": password_hash, "created_at": now, "updated_at": now},
        keys=("name",),
        update=("password_hash", "updated_at"),
    )
    return not existed


def names(conn: Connection) -> list[str]:
    return list(conn.execute(select(admins.c.name).order_by(admins.c.name)).scalars())
