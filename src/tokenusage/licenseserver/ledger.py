"""The ledger: licences, entries and prices, and the queries behind each endpoint.

Every write of entries adds them to the licence's totals in the same transaction (`totals.py`),
so `user/stats` and a history page's `total` are one row lookup at any ledger size, and still
equal a recomputation over the entries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, insert, select

from tokenusage.licenseapi.models import MAX_HISTORY_LIMIT, iso_utc
from tokenusage.licenseserver import entries, totals
from tokenusage.licenseserver.entries import EntryRow, storable_text
from tokenusage.licenseserver.licences import (
    LedgerError,
    Licence,
    check_credentials,
    licence_of,
    utc,
)
from tokenusage.licenseserver.prices import (
    DEFAULT_PRICES,
    PRICE_FIELDS,
    price_row,
    usage_cost,
)
from tokenusage.licenseserver.schema import (
    from_units,
    ledger,
    ledger_totals,
    licences,
    metadata,
    pricing,
    to_units,
    units_str,
)
from tokenusage.store.engine import for_writes

STATUSES = ("active", "suspended", "expired")
ENTRY_TYPES = ("usage", "purchase", "refund")


class Ledger:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Writes that read first (a key check, the price history) must not fail on SQLite
        # when they take the write lock: they begin IMMEDIATE and queue instead.
        self._writer = for_writes(engine)

    def create_schema(self) -> None:
        """Idempotent: creates missing tables, puts the default prices in force on an empty
        price history, and brings the totals up to the ledger (all of it, the first time a
        ledger written by a version without totals is opened)."""
        metadata.create_all(self.engine)
        with self._writer.begin() as conn:
            if conn.execute(select(func.count()).select_from(pricing)).scalar_one() == 0:
                epoch = datetime(2024, 1, 1, tzinfo=UTC)
                conn.execute(insert(pricing).values(price_row(DEFAULT_PRICES, epoch)))
            totals.catch_up(conn)

    # -- licences ---------------------------------------------------------------------------
    def issue_licence(
        self,
        key: str,
        domain: str,
        email: str,
        license_type: str = "Pro",
        member_since: datetime | None = None,
        status: str = "active",
    ) -> Licence:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        if not key or not domain or not email:
            raise ValueError("key, domain and email are required")
        since = member_since or datetime.now(UTC)
        with self._writer.begin() as conn:
            if conn.execute(select(licences.c.id).where(licences.c.key == key)).first():
                raise ValueError("a licence with this key exists already")
            row_id = conn.execute(
                insert(licences)
                .values(
                    key=key,
                    domain=domain,
                    email=email,
                    license_type=license_type,
                    member_since=since,
                    status=status,
                )
                .returning(licences.c.id)
            ).scalar_one()
            conn.execute(insert(ledger_totals).values(licence_id=row_id, **vars(totals.Totals())))
        return Licence(row_id, key, domain, email, license_type, utc(since), status)

    def set_status(self, key: str, status: str) -> None:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        with self._writer.begin() as conn:
            done = conn.execute(
                licences.update().where(licences.c.key == key).values(status=status)
            )
            if done.rowcount == 0:
                raise ValueError("no licence with this key")

    def find_licence(self, key: str) -> Licence | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(licences).where(licences.c.key == key)).first()
        return None if row is None else licence_of(row)

    def authenticate(self, key: str, domain: str, email: str) -> Licence:
        """The licence for these credentials, or a `LedgerError` saying which check failed."""
        for name, value in (("license_key", key), ("domain", domain), ("email", email)):
            if not value:
                raise LedgerError(400, f"Missing required parameter: {name}")
        lic = None if "\x00" in key else self.find_licence(key)  # PostgreSQL refuses NUL
        return check_credentials(lic, domain, email)

    # -- prices -----------------------------------------------------------------------------
    def set_pricing(
        self, prices: dict[str, Decimal], effective_from: datetime | None = None
    ) -> None:
        missing = [f for f in PRICE_FIELDS if f not in prices]
        if missing:
            raise ValueError(f"missing prices: {', '.join(missing)}")
        when = effective_from or datetime.now(UTC)
        with self._writer.begin() as conn:
            conn.execute(insert(pricing).values(price_row(prices, when)))

    def current_pricing(self, at: datetime | None = None) -> dict[str, Any]:
        when = at or datetime.now(UTC)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(pricing)
                .where(pricing.c.effective_from <= when)
                .order_by(pricing.c.effective_from.desc(), pricing.c.id.desc())
                .limit(1)
            ).first()
        if row is None:
            raise LedgerError(503, "No pricing in force")
        payload: dict[str, Any] = {"currency": row.currency}
        for field in PRICE_FIELDS:
            payload[field] = units_str(getattr(row, f"{field}_units"))
        payload["effective_from"] = iso_utc(utc(row.effective_from))
        return payload

    # -- entries ----------------------------------------------------------------------------
    def add_entry(
        self,
        licence_id: int,
        type_: str,
        amount: Decimal,
        *,
        service_type: str = "",
        description: str = "",
        input_tokens: int = 0,
        completion_tokens: int = 0,
        cached_tokens: int = 0,
        images: int = 0,
        created_at: datetime | None = None,
    ) -> int:
        if type_ not in ENTRY_TYPES:
            raise ValueError(f"type must be one of {', '.join(ENTRY_TYPES)}")
        if (type_ == "usage") != (amount < 0) and amount != 0:
            raise ValueError("usage amounts are negative; purchases and refunds positive")
        row: EntryRow = (
            licence_id,
            created_at or datetime.now(UTC),
            type_,
            storable_text(service_type),
            to_units(amount),
            input_tokens,
            completion_tokens,
            cached_tokens,
            images,
            storable_text(description),
        )
        with self._writer.begin() as conn:
            entry_id = int(
                conn.execute(
                    insert(ledger)
                    .values(dict(zip(entries.COLUMNS, row, strict=True)))
                    .returning(ledger.c.id)
                ).scalar_one()
            )
            delta = totals.Totals(last_id=entry_id)
            delta.count(type_, row[4], input_tokens + completion_tokens + cached_tokens, images)
            totals.add(conn, licence_id, delta)
        return entry_id

    def add_entries(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Bulk insert of rows (column names of the `ledger` table), in one transaction."""
        self.add_entry_rows([entries.as_row(row) for row in rows])

    def add_entry_rows(self, rows: Sequence[EntryRow]) -> None:
        """Bulk insert of entry tuples (`entries.COLUMNS` order, text storable), in one
        transaction with their totals: the seeding path."""
        if not rows:
            return
        with self._writer.begin() as conn:
            entries.insert_rows(conn, rows)
            totals.add_rows(conn, rows)

    def charge(
        self,
        licence_id: int,
        *,
        service_type: str,
        description: str = "",
        input_tokens: int = 0,
        completion_tokens: int = 0,
        cached_tokens: int = 0,
        images: int = 0,
    ) -> tuple[int, Decimal]:
        """Record usage charged at the price in force; returns (entry id, amount)."""
        cost = usage_cost(
            self.current_pricing(), input_tokens, completion_tokens, cached_tokens, images
        )
        entry_id = self.add_entry(
            licence_id,
            "usage",
            -cost,
            service_type=service_type,
            description=description,
            input_tokens=input_tokens,
            completion_tokens=completion_tokens,
            cached_tokens=cached_tokens,
            images=images,
        )
        return entry_id, -cost

    def stats(self, licence_id: int) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return totals.current(conn, licence_id).stats()

    def recount(self, licence_id: int) -> dict[str, Any]:
        """`stats` summed over every entry: what the maintained totals must equal."""
        with self.engine.connect() as conn:
            return totals.recount(conn, licence_id).stats()

    def history(
        self,
        licence_id: int,
        limit: int = MAX_HISTORY_LIMIT,
        before_id: int | None = None,
        after_id: int | None = None,
    ) -> dict[str, Any]:
        """Newest first. With `after_id`, the `limit` oldest entries newer than it, so a client
        can page forward without gaps; with `before_id`, the `limit` newest entries older."""
        if before_id is not None and after_id is not None:
            raise LedgerError(400, "before_id and after_id cannot be used together")
        sqlite = self.engine.dialect.name == "sqlite"
        query = entries.page_query(licence_id, limit, before_id, after_id, sqlite)
        with self.engine.connect() as conn:
            # The total first: rows committed in between make the page longer, never short.
            total = totals.current(conn, licence_id).entries
            rows = list(conn.execute(query).all())
        if after_id is not None:
            rows.reverse()
        return {"total": total, "transactions": [entries.payload(r) for r in rows]}


__all__ = [
    "DEFAULT_PRICES",
    "PRICE_FIELDS",
    "Ledger",
    "LedgerError",
    "Licence",
    "from_units",
    "usage_cost",
]
