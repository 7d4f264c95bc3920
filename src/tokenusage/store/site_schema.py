"""The tables of the site itself, shared by every replica: sign-in sessions, the sign-in
throttle, leases, the JSON API's tokens, and the alert rules with their deliveries. They join
the store's `metadata` (`columns.py`), so `schema.create_schema` creates them with the others."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from tokenusage.store.columns import AUTO_ID, UtcDateTime, metadata

# -- shared by every replica: sign-ins, the sign-in throttle, leases -------------------------

web_sessions = Table(
    "web_sessions",
    metadata,
    # SHA-256 of the token in the signed cookie: a copy of the store signs nobody in.
    Column("id", String(64), primary_key=True),
    Column("admin", String(150), nullable=False),
    # Fingerprint of the admin's password hash at sign-in: a new password ends the session.
    Column("seal", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("seen_at", UtcDateTime, nullable=False),
    Index("ix_web_sessions_admin", "admin"),
    Index("ix_web_sessions_seen_at", "seen_at"),
)

signin_throttle = Table(
    "signin_throttle",
    metadata,
    # SHA-256 of (username, client address).
    Column("key", String(64), primary_key=True),
    # JSON list of the recent failures' times (Unix seconds), oldest first.
    Column("failures", Text, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index("ix_signin_throttle_expires_at", "expires_at"),
)

leases = Table(
    "leases",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

# -- the read-only JSON API and /metrics -----------------------------------------------------

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("name", String(150), primary_key=True),
    # SHA-256 of the bearer token: the token itself is shown once and never stored.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_used_at", UtcDateTime),
)

# -- alerts: rules with their fired/armed state, and every delivery -------------------------

alert_rules = Table(
    "alert_rules",
    metadata,
    Column("name", String(150), primary_key=True),
    # balance_below | runway_below_days | daily_spend_above | stale_minutes
    Column("kind", String(32), nullable=False),
    Column("threshold", Text, nullable=False),  # exact decimal text
    Column("channels", Text, nullable=False),  # JSON list of {"type": "email"|"webhook", ...}
    Column("enabled", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # armed: fires when its condition becomes true; fired: waits to re-arm (see service.alerts)
    Column("state", String(16), nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
    Column("value", Text),  # the value that fired or re-armed it
    Column("purchase_id", BigInteger),  # the newest purchase when it fired
    CheckConstraint("state IN ('armed', 'fired')", name="ck_alert_rules_state"),
)

alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("id", AUTO_ID, primary_key=True, autoincrement=True),
    Column("rule", String(150), nullable=False),
    Column("channel", Text, nullable=False),  # JSON {"type": ..., "to"/"url": ...}
    Column("test", Boolean, nullable=False),
    Column("payload", Text, nullable=False),  # JSON: what the message says
    # pending -> sending (claimed by one checker) -> sent | failed
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("detail", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("claimed_by", String(200)),
    Index("ix_alert_deliveries_state", "state"),
    Index("ix_alert_deliveries_created_at", "created_at"),
)
