"""Alert rules, their fired/armed state and their deliveries, as records every replica shares.

Firing is a conditional update (`armed` -> `fired`) that also queues the rule's deliveries,
in one transaction: of two checkers that see the same crossing, one changes the state and
queues the messages, the other changes nothing. A queued delivery is claimed the same way
before it is sent, so one message goes out once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, or_, select, update

from tokenusage.store.site_schema import alert_deliveries as D
from tokenusage.store.site_schema import alert_rules as A

KEEP_DELIVERIES = 1000


@dataclass(frozen=True, slots=True)
class RuleRecord:
    name: str
    kind: str
    threshold: str
    channels: list[dict[str, str]]
    enabled: bool
    created_at: datetime
    state: str
    changed_at: datetime
    value: str | None
    purchase_id: int | None


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    id: int
    rule: str
    channel: dict[str, str]
    test: bool
    payload: dict[str, Any]
    state: str
    attempts: int
    detail: str
    created_at: datetime
    updated_at: datetime


def _rule(r: Any) -> RuleRecord:
    return RuleRecord(
        r.name, r.kind, r.threshold, json.loads(r.channels), r.enabled, r.created_at,
        r.state, r.changed_at, r.value, r.purchase_id,
    )  # fmt: skip


def _delivery(r: Any) -> DeliveryRecord:
    return DeliveryRecord(
        r.id, r.rule, json.loads(r.channel), r.test, json.loads(r.payload), r.state,
        r.attempts, r.detail, r.created_at, r.updated_at,
    )  # fmt: skip


def add_rule(
    conn: Connection,
    name: str,
    kind: str,
    threshold: str,
    channels: list[dict[str, str]],
    now: datetime,
) -> bool:
    """False when a rule of that name exists already."""
    if conn.execute(select(A.c.name).where(A.c.name == name)).first() is not None:
        return False
    conn.execute(
        A.insert().values(
            name=name, kind=kind, threshold=threshold, channels=json.dumps(channels),
            enabled=True, created_at=now, state="armed", changed_at=now,
        )
    )  # fmt: skip
    return True


def rules(conn: Connection) -> list[RuleRecord]:
    return [_rule(r) for r in conn.execute(select(A).order_by(A.c.name))]


def rule(conn: Connection, name: str) -> RuleRecord | None:
    row = conn.execute(select(A).where(A.c.name == name)).first()
    return None if row is None else _rule(row)


def remove_rule(conn: Connection, name: str) -> bool:
    return conn.execute(delete(A).where(A.c.name == name)).rowcount > 0


def set_enabled(conn: Connection, name: str, enabled: bool, now: datetime) -> bool:
    """Turning a rule on or off also re-arms it: it fires at the next crossing."""
    changed = conn.execute(
        update(A)
        .where(A.c.name == name)
        .values(enabled=enabled, state="armed", changed_at=now, purchase_id=None)
    )
    return changed.rowcount > 0


def fire(
    conn: Connection,
    name: str,
    value: str,
    purchase_id: int | None,
    deliveries: list[tuple[dict[str, str], dict[str, Any]]],
    now: datetime,
) -> bool:
    """armed -> fired, queuing `deliveries`; False (nothing done) unless it was armed."""
    changed = conn.execute(
        update(A)
        .where(A.c.name == name, A.c.state == "armed", A.c.enabled.is_(True))
        .values(state="fired", changed_at=now, value=value, purchase_id=purchase_id)
    )
    if changed.rowcount != 1:
        return False
    queue(conn, name, deliveries, test=False, now=now)
    return True


def rearm(conn: Connection, name: str, value: str, now: datetime) -> bool:
    changed = conn.execute(
        update(A)
        .where(A.c.name == name, A.c.state == "fired")
        .values(state="armed", changed_at=now, value=value, purchase_id=None)
    )
    return changed.rowcount == 1


def queue(
    conn: Connection,
    name: str,
    deliveries: list[tuple[dict[str, str], dict[str, Any]]],
    *,
    test: bool,
    now: datetime,
) -> list[int]:
    ids = []
    for channel, payload in deliveries:
        result = conn.execute(
            D.insert().values(
                rule=name, channel=json.dumps(channel), test=test, payload=json.dumps(payload),
                state="pending", attempts=0, detail="", created_at=now, updated_at=now,
            )
        )  # fmt: skip
        key = result.inserted_primary_key
        assert key is not None
        ids.append(int(key[0]))
    return ids


def claim(
    conn: Connection,
    holder: str,
    now: datetime,
    stale: timedelta,
    only: list[int] | None = None,
) -> list[DeliveryRecord]:
    """Claim every pending delivery (and any claim older than `stale`: its holder died),
    or those of `only`."""
    open_ = or_(D.c.state == "pending", (D.c.state == "sending") & (D.c.updated_at < now - stale))
    query = select(D.c.id).where(open_).order_by(D.c.id)
    if only is not None:
        query = query.where(D.c.id.in_(only))
    ids = list(conn.execute(query).scalars())
    claimed = []
    for id_ in ids:
        changed = conn.execute(
            update(D)
            .where(D.c.id == id_, open_)
            .values(state="sending", claimed_by=holder, updated_at=now)
        )
        if changed.rowcount == 1:
            claimed.append(id_)
    if not claimed:
        return []
    rows = conn.execute(select(D).where(D.c.id.in_(claimed)).order_by(D.c.id))
    return [_delivery(r) for r in rows]


def finish(
    conn: Connection, id_: int, holder: str, state: str, attempts: int, detail: str, now: datetime
) -> None:
    conn.execute(
        update(D)
        .where(D.c.id == id_, D.c.claimed_by == holder)
        .values(state=state, attempts=attempts, detail=detail[:2000], updated_at=now)
    )


def deliveries(conn: Connection, limit: int) -> list[DeliveryRecord]:
    rows = conn.execute(select(D).order_by(D.c.id.desc()).limit(limit))
    return [_delivery(r) for r in rows]


def delivery(conn: Connection, id_: int) -> DeliveryRecord | None:
    row = conn.execute(select(D).where(D.c.id == id_)).first()
    return None if row is None else _delivery(row)


def trim(conn: Connection, keep: int = KEEP_DELIVERIES) -> None:
    """Keep the newest `keep` finished deliveries."""
    edge = conn.execute(
        select(D.c.id).order_by(D.c.id.desc()).offset(keep).limit(1)
    ).scalar_one_or_none()
    if edge is not None:
        conn.execute(delete(D).where(D.c.id <= edge, D.c.state.in_(("sent", "failed"))))
