"""The ledger: licences, entries and prices, and the queries behind each endpoint.

`user/stats` is computed from the entries on every call, so `balance` is by construction the sum
of all amounts: there is no running total that could drift.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Engine, Text, func, insert, select, type_coerce

from tokenusage.licenseapi.models import MAX_HISTORY_LIMIT, iso_utc
from tokenusage.licenseserver.schema import (
    from_units,
    ledger,
    licences,
    metadata,
    pricing,
    to_units,
    units_str,
)
from tokenusage.store.engine import for_writes

DEFAULT_PRICES = {
    "image_processing_per_10k": Decimal("5.00"),
    "input_tokens_per_1m": Decimal("0.50"),
    "completion_tokens_per_1m": Decimal("1.50"),
    "cached_tokens_per_1m": Decimal("0.25"),
}
PRICE_FIELDS = tuple(DEFAULT_PRICES)
STATUSES = ("active", "suspended", "expired")
ENTRY_TYPES = ("usage", "purchase", "refund")


class LedgerError(Exception):
    """A request the ledger refuses; `status` is the HTTP status the API answers with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Licence:
    id: int
    key: str
    domain: str
    email: str
    license_type: str
    member_since: datetime
    status: str


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def storable_text(value: str) -> str:
    """NUL replaced by U+FFFD: PostgreSQL text cannot hold NUL, and both engines must agree."""
    return value.replace("\x00", "\ufffd")


def _same_domain(a: str, b: str) -> bool:
    def norm(d: str) -> str:
        d = d.strip().lower().rstrip(".")
        return d.removeprefix("www.")

    return norm(a) == norm(b)


class Ledger:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Writes that read first (a key check, the price history) must not fail on SQLite
        # when they take the write lock: they begin IMMEDIATE and queue instead.
        self._writer = for_writes(engine)

    def create_schema(self) -> None:
        """Idempotent; also puts the default prices in force on an empty price history."""
        metadata.create_all(self.engine)
        with self._writer.begin() as conn:
            if conn.execute(select(func.count()).select_from(pricing)).scalar_one() == 0:
                epoch = datetime(2024, 1, 1, tzinfo=UTC)
                conn.execute(insert(pricing).values(_price_row(DEFAULT_PRICES, epoch)))

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
        if row is None:
            return None
        return Licence(
            row.id,
            row.key,
            row.domain,
            row.email,
            row.license_type,
            utc(row.member_since),
            row.status,
        )

    def authenticate(self, key: str, domain: str, email: str) -> Licence:
        """The licence for these credentials, or a `LedgerError` saying which check failed."""
        for name, value in (("license_key", key), ("domain", domain), ("email", email)):
            if not value:
                raise LedgerError(400, f"Missing required parameter: {name}")
        lic = None if "\x00" in key else self.find_licence(key)  # PostgreSQL refuses NUL
        if lic is None:
            raise LedgerError(401, "Invalid license key")
        if not _same_domain(lic.domain, domain):
            raise LedgerError(403, f"License is not valid for domain {domain}")
        if lic.email.strip().lower() != email.strip().lower():
            raise LedgerError(403, "Email does not match the license")
        if lic.status == "suspended":
            raise LedgerError(403, "License is suspended")
        if lic.status == "expired":
            raise LedgerError(403, "License has expired")
        return lic

    # -- prices -----------------------------------------------------------------------------
    def set_pricing(
        self, prices: dict[str, Decimal], effective_from: datetime | None = None
    ) -> None:
        missing = [f for f in PRICE_FIELDS if f not in prices]
        if missing:
            raise ValueError(f"missing prices: {', '.join(missing)}")
        when = effective_from or datetime.now(UTC)
        with self._writer.begin() as conn:
            conn.execute(insert(pricing).values(_price_row(prices, when)))

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
        row = {
            "licence_id": licence_id,
            "created_at": created_at or datetime.now(UTC),
            "type": type_,
            "service_type": storable_text(service_type),
            "amount_units": to_units(amount),
            "input_tokens": input_tokens,
            "completion_tokens": completion_tokens,
            "cached_tokens": cached_tokens,
            "images": images,
            "description": storable_text(description),
        }
        with self._writer.begin() as conn:
            return int(conn.execute(insert(ledger).values(row).returning(ledger.c.id)).scalar_one())

    def add_entries(self, rows: Sequence[dict[str, Any]]) -> None:
        """Bulk insert of prepared rows (column names of the `ledger` table), in one transaction."""
        if not rows:
            return
        with self._writer.begin() as conn:
            conn.execute(insert(ledger), [_storable_row(row) for row in rows])

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
        usage = ledger.c.type == "usage"
        tokens = ledger.c.input_tokens + ledger.c.completion_tokens + ledger.c.cached_tokens
        query = select(
            func.coalesce(func.sum(ledger.c.amount_units), 0),
            func.coalesce(func.sum(ledger.c.amount_units).filter(usage), 0),
            func.coalesce(func.sum(tokens), 0),
            func.count().filter(usage),
            func.coalesce(func.sum(ledger.c.images), 0),
        ).where(ledger.c.licence_id == licence_id)
        with self.engine.connect() as conn:
            balance, used, tokens_used, calls, images = conn.execute(query).one()
        return {
            "balance": units_str(int(balance)),
            "credits_used": units_str(-int(used)),
            "tokens_used": int(tokens_used),
            "api_calls": int(calls),
            "images_processed": int(images),
        }

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
        cols = [
            ledger.c.id,
            # SQLite keeps naive UTC text: reading it as text skips a parse and a format per
            # row, a third of a 10,000-row page's time.
            type_coerce(ledger.c.created_at, Text).label("created_at")
            if sqlite
            else ledger.c.created_at,
            ledger.c.type,
            ledger.c.service_type,
            ledger.c.amount_units,
            ledger.c.input_tokens,
            ledger.c.completion_tokens,
            ledger.c.cached_tokens,
            ledger.c.images,
            ledger.c.description,
        ]
        query = select(*cols).where(ledger.c.licence_id == licence_id)
        if after_id is not None:
            query = query.where(ledger.c.id > after_id).order_by(ledger.c.id.asc())
        else:
            if before_id is not None:
                query = query.where(ledger.c.id < before_id)
            query = query.order_by(ledger.c.id.desc())
        count = select(func.count()).select_from(ledger).where(ledger.c.licence_id == licence_id)
        with self.engine.connect() as conn:
            rows = list(conn.execute(query.limit(limit)).all())
            total = conn.execute(count).scalar_one()
        if after_id is not None:
            rows.reverse()
        return {"total": int(total), "transactions": [_entry_payload(r) for r in rows]}


def usage_cost(
    prices: dict[str, Any],
    input_tokens: int,
    completion_tokens: int,
    cached_tokens: int,
    images: int,
) -> Decimal:
    """Exact cost at the given prices, rounded half-up to the ledger's 10^-8 unit."""
    counts = (images, input_tokens, completion_tokens, cached_tokens)
    if any(c < 0 for c in counts):
        raise ValueError("counts cannot be negative")
    cost = (
        Decimal(prices["image_processing_per_10k"]) * images / 10_000
        + Decimal(prices["input_tokens_per_1m"]) * input_tokens / 1_000_000
        + Decimal(prices["completion_tokens_per_1m"]) * completion_tokens / 1_000_000
        + Decimal(prices["cached_tokens_per_1m"]) * cached_tokens / 1_000_000
    )
    return cost.quantize(Decimal("1E-8"), rounding=ROUND_HALF_UP)


def _price_row(prices: dict[str, Decimal], when: datetime) -> dict[str, Any]:
    row: dict[str, Any] = {"effective_from": when, "currency": "USD"}
    for field in PRICE_FIELDS:
        value = Decimal(prices[field])
        if value < 0:
            raise ValueError(f"{field} cannot be negative")
        row[f"{field}_units"] = to_units(value)
    return row


def _storable_row(row: dict[str, Any]) -> dict[str, Any]:
    dirty = [k for k in ("service_type", "description") if "\x00" in row.get(k, "")]
    return {**row, **{k: storable_text(row[k]) for k in dirty}} if dirty else dict(row)


def _iso_text(stamp: str) -> str:
    """`iso_utc` of SQLite's stored DATETIME text (`2026-11-24 13:05:00.000000`, naive UTC)."""
    fraction = stamp[19:]
    if fraction.strip("0") == ".":
        fraction = ""
    return f"{stamp[:10]}T{stamp[11:19]}{fraction}Z"


def _entry_payload(row: Any) -> dict[str, Any]:
    # Unpacked in `history`'s column order: much cheaper per row than access by name.
    id_, stamp, kind, service, units, inputs, completions, cached, images, description = row
    return {
        "id": id_,
        "created_at": _iso_text(stamp) if isinstance(stamp, str) else iso_utc(utc(stamp)),
        "type": kind,
        "service_type": service,
        "amount": units_str(units),
        "tokens_used": inputs + completions + cached,
        "images_processed": images,
        "description": description,
        "input_tokens": inputs,
        "completion_tokens": completions,
        "cached_tokens": cached,
    }


__all__ = ["Ledger", "LedgerError", "Licence", "from_units", "usage_cost"]
