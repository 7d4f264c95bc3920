"""The store's tables (the site's own, shared by every replica, are in `site_schema.py`).
Created on start, idempotently; `store_meta` records the schema version.

The transaction mirror is split in two tables. `mirror_generations` holds one row per full
sync (the domain it belongs to, its state and its counters); `mirror_rows` holds the rows keyed
by (generation, seq). Generation numbers are unique across domains, so rows need no domain
column: two domains can never share a generation, and the keys stay short on a 1M-row ledger.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Connection,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
    text,
)

from tokenusage.store import site_schema  # noqa: F401  (the site's tables join `metadata`)
from tokenusage.store.columns import AUTO_ID, UtcDateTime, metadata
from tokenusage.store.records import StoreError

# 2: running totals (`mirror_running`). A version that does not keep them would copy their
# feature into a new generation without building them, so it must not write this store.
SCHEMA_VERSION = 2

_CURRENT = text("state = 'current'")

store_meta = Table(
    "store_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

pricing_cache = Table(
    "pricing_cache",
    metadata,
    Column("cache_key", Text, primary_key=True),
    Column("payload", Text, nullable=False),
    Column("fetched_at", UtcDateTime, nullable=False),
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("domain_hash", String(32), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("payload", Text, nullable=False),
    Column("fetched_at", UtcDateTime, nullable=False),
)

mirror_generations = Table(
    "mirror_generations",
    metadata,
    Column("generation", AUTO_ID, primary_key=True, autoincrement=True),
    Column("domain_hash", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    # Rows occupy seq in [min_seq, max_seq]; an empty generation has min_seq = max_seq + 1.
    Column("min_seq", BigInteger, nullable=False),
    Column("max_seq", BigInteger, nullable=False),
    Column("newest_id", BigInteger),
    Column("upstream_total", BigInteger),
    Column("limited", Boolean, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("touched_at", UtcDateTime, nullable=False),
    Column("full_synced_at", UtcDateTime),
    Column("synced_at", UtcDateTime),
    CheckConstraint("state IN ('building', 'current', 'retired')", name="ck_generation_state"),
    Index("ix_mirror_generations_domain", "domain_hash", "state"),
    Index(
        "uq_mirror_generations_current",
        "domain_hash",
        unique=True,
        sqlite_where=_CURRENT,
        postgresql_where=_CURRENT,
    ),
)

mirror_rows = Table(
    "mirror_rows",
    metadata,
    Column(
        "generation",
        BigInteger,
        ForeignKey("mirror_generations.generation", name="fk_mirror_rows_generation"),
        primary_key=True,
    ),
    Column("seq", BigInteger, primary_key=True),
    Column("id", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("type", String(16), nullable=False),
    Column("service_type", Text, nullable=False),
    # Exact decimal text: never a float, any precision the server sends.
    Column("amount", Text, nullable=False),
    Column("tokens_used", BigInteger, nullable=False),
    Column("images_processed", BigInteger, nullable=False),
    Column("description", Text, nullable=False),
    Column("input_tokens", BigInteger),
    Column("completion_tokens", BigInteger),
    Column("cached_tokens", BigInteger),
    UniqueConstraint("generation", "id", name="uq_mirror_rows_generation_id"),
    # Clustered on (generation, seq): a page is one contiguous range of the B-tree.
    sqlite_with_rowid=False,
)

# Per business-timezone day, service and type of a generation: the count and exact sums of its
# rows, and the seq range they occupy. Kept by the sync in the same transaction as the rows, for
# every zone registered in `mirror_features` ("zone:<IANA name>"), so filtered counts and the
# running totals below cost O(days) at any ledger size.
mirror_days = Table(
    "mirror_days",
    metadata,
    Column(
        "generation",
        BigInteger,
        ForeignKey("mirror_generations.generation", name="fk_mirror_days_generation"),
        primary_key=True,
    ),
    Column("zone", String(64), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("service_type", Text, primary_key=True),
    Column("type", String(16), primary_key=True),
    Column("count", BigInteger, nullable=False),
    Column("amount", Text, nullable=False),  # exact decimal text
    Column("tokens", BigInteger, nullable=False),
    Column("images", BigInteger, nullable=False),
    Column("min_seq", BigInteger, nullable=False),
    Column("max_seq", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

# Per business-timezone day with rows, for every zone registered as "running:<IANA name>":
# the running totals of the generation through the end of that day, per service and type
# (JSON, see `running.py`). A range's totals are then the difference of two of them, so
# charts, breakdowns and month sums cost the same whatever the ledger's size or density.
mirror_running = Table(
    "mirror_running",
    metadata,
    Column(
        "generation",
        BigInteger,
        ForeignKey("mirror_generations.generation", name="fk_mirror_running_generation"),
        primary_key=True,
    ),
    Column("zone", String(64), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("totals", Text, nullable=False),
    sqlite_with_rowid=False,
)

# Per UTC hour of a generation: the spend (minus the usage amounts, exact text) and the seq
# range of its usage rows. The runway's rolling windows read whole hours here, and rows only
# for the two partial hours at their ends: O(hours), in any timezone.
mirror_hours = Table(
    "mirror_hours",
    metadata,
    Column(
        "generation",
        BigInteger,
        ForeignKey("mirror_generations.generation", name="fk_mirror_hours_generation"),
        primary_key=True,
    ),
    Column("hour", UtcDateTime, primary_key=True),
    Column("spend", Text, nullable=False),
    Column("min_seq", BigInteger, nullable=False),
    Column("max_seq", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

# Every service a generation's rows name (for the filter), kept by the same writes.
mirror_services = Table(
    "mirror_services",
    metadata,
    Column(
        "generation",
        BigInteger,
        ForeignKey("mirror_generations.generation", name="fk_mirror_services_generation"),
        primary_key=True,
    ),
    Column("service_type", Text, primary_key=True),
)

# What is derived from a generation's rows and kept up to date with them: "zone:<name>" (its
# days in `mirror_days`), "running:<name>" (`mirror_running`), "hours" (`mirror_hours` and
# `mirror_services`) and "search" (its text search table, see `search.py`).
mirror_features = Table(
    "mirror_features",
    metadata,
    Column(
        "generation",
        BigInteger,
        ForeignKey("mirror_generations.generation", name="fk_mirror_features_generation"),
        primary_key=True,
    ),
    Column("feature", String(80), primary_key=True),
)

admins = Table(
    "admins",
    metadata,
    Column("name", String(150), primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)


def create_schema(conn: Connection) -> None:
    """Create missing tables; refuse a store written by a newer schema rather than corrupt it."""
    metadata.create_all(conn, checkfirst=True)
    found = conn.execute(
        select(store_meta.c.value).where(store_meta.c.key == "schema_version")
    ).scalar_one_or_none()
    if found is None:
        conn.execute(store_meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
    elif int(found) < SCHEMA_VERSION:  # its tables were just added; older versions now refuse
        conn.execute(
            store_meta.update()
            .where(store_meta.c.key == "schema_version")
            .values(value=str(SCHEMA_VERSION))
        )
    elif int(found) > SCHEMA_VERSION:
        raise StoreError(
            f"local store unavailable: it was written by a newer tokenusage "
            f"(schema {found}, this version knows {SCHEMA_VERSION})"
        )
