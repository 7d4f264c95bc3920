"""The sign-in throttle's counts, shared by every replica: at most `limit` failures per
`window` seconds per key. Checking and counting an attempt is one transaction that holds the
key's row (SQLite: the write lock; PostgreSQL: FOR UPDATE), so parallel attempts, on one
replica or several, cannot all see room for one more."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, select, update

from tokenusage.store.site_schema import signin_throttle as T
from tokenusage.store.upsert import insert_missing


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def attempt(conn: Connection, key: str, now: float, limit: int, window: float) -> float:
    """0.0 when an attempt is allowed now (and then counted as a failure until `clear`);
    else the seconds until one is."""
    insert_missing(conn, T, {"key": key, "failures": "[]", "expires_at": _at(now)})
    stored = conn.execute(select(T.c.failures).where(T.c.key == key).with_for_update()).scalar()
    try:
        loaded = json.loads(stored or "[]")
        failures = sorted(float(t) for t in loaded if now - window < float(t) <= now + window)
    except (ValueError, TypeError):
        failures = []
    wait = 0.0
    if len(failures) >= limit:
        failures = failures[-limit:]
        wait = max(failures[0] + window - now, 0.001)
    else:
        failures.append(now)
    conn.execute(
        update(T)
        .where(T.c.key == key)
        .values(failures=json.dumps(failures), expires_at=_at(failures[-1] + window))
    )
    return wait


def clear(conn: Connection, key: str) -> None:
    conn.execute(delete(T).where(T.c.key == key))


def purge(conn: Connection, now: float) -> int:
    """Forget keys whose failures are all older than their window."""
    return conn.execute(delete(T).where(T.c.expires_at < _at(now))).rowcount
