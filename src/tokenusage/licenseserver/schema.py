"""Tables of the reference server's ledger.

Money is stored as integer units of 10^-8 dollars (`*_units`): exact on every engine, and summable
in SQL without NUMERIC quirks on SQLite.

`ledger_totals` holds each licence's sums over its entries, kept in the same transaction as every
ledger write (see `totals.py`), so `user/stats` and a history page's `total` cost one key lookup
at any ledger size instead of a scan.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

UNITS_PER_DOLLAR = 10**8
metadata = MetaData()

licences = Table(
    "licences",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(128), nullable=False, unique=True),
    Column("domain", String(255), nullable=False),
    Column("email", String(255), nullable=False),
    Column("license_type", String(64), nullable=False, default="Pro"),
    Column("member_since", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False, default="active"),
)

ledger = Table(
    "ledger",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("licence_id", Integer, ForeignKey("licences.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("type", String(16), nullable=False),
    Column("service_type", String(255), nullable=False, default=""),
    Column("amount_units", BigInteger, nullable=False),
    Column("input_tokens", BigInteger, nullable=False, default=0),
    Column("completion_tokens", BigInteger, nullable=False, default=0),
    Column("cached_tokens", BigInteger, nullable=False, default=0),
    Column("images", BigInteger, nullable=False, default=0),
    Column("description", Text, nullable=False, default=""),
    Index("ix_ledger_licence_id", "licence_id", "id"),
    sqlite_autoincrement=True,
)

ledger_totals = Table(
    "ledger_totals",
    metadata,
    Column("licence_id", Integer, ForeignKey("licences.id"), primary_key=True),
    Column("entries", BigInteger, nullable=False),
    Column("balance_units", BigInteger, nullable=False),
    Column("used_units", BigInteger, nullable=False),
    Column("tokens", BigInteger, nullable=False),
    Column("api_calls", BigInteger, nullable=False),
    Column("images", BigInteger, nullable=False),
    # The newest entry id counted: entries above it (written by a version of the server that
    # kept no totals) are added when the ledger is next opened.
    Column("last_id", BigInteger, nullable=False),
)

pricing = Table(
    "pricing",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("effective_from", DateTime(timezone=True), nullable=False, index=True),
    Column("currency", String(8), nullable=False, default="USD"),
    Column("image_processing_per_10k_units", BigInteger, nullable=False),
    Column("input_tokens_per_1m_units", BigInteger, nullable=False),
    Column("completion_tokens_per_1m_units", BigInteger, nullable=False),
    Column("cached_tokens_per_1m_units", BigInteger, nullable=False),
)


def to_units(amount: Decimal) -> int:
    """Exact conversion; refuses amounts finer than 10^-8 rather than rounding silently."""
    scaled = amount * UNITS_PER_DOLLAR
    if scaled != scaled.to_integral_value():
        raise ValueError(f"amount {amount} has more than 8 decimal places")
    return int(scaled)


def from_units(units: int) -> Decimal:
    return Decimal(units_str(units))


def units_str(units: int) -> str:
    """Plain decimal text, at least cents (`25.00`, `-0.000015`); fast for 10,000-row pages."""
    whole, frac = divmod(abs(units), UNITS_PER_DOLLAR)
    digits = f"{frac:08d}".rstrip("0").ljust(2, "0")
    return f"{'-' if units < 0 else ''}{whole}.{digits}"
