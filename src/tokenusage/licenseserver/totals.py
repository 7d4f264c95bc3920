"""Each licence's totals over its ledger entries, kept in the transaction of every ledger write.

`user/stats` is computed from the ledger: `balance` is the sum of all amounts. Summing a
10M-row ledger on every request takes seconds, so every write adds what it wrote to the licence's
row of `ledger_totals` before it commits, and readers look one row up. `recount` is the full
recomputation those rows must always equal (the tests compare them after every kind of write).
Entries a version without totals wrote are above the row's `last_id`; `catch_up` adds them when
the ledger is opened, and creates the rows of a ledger file that has none yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, case, func, insert, select, update

from tokenusage.licenseserver.schema import ledger, ledger_totals, licences, units_str

SUMS = ("entries", "balance_units", "used_units", "tokens", "api_calls", "images")


@dataclass
class Totals:
    entries: int = 0
    balance_units: int = 0
    used_units: int = 0  # the sum of usage amounts: zero or negative
    tokens: int = 0
    api_calls: int = 0
    images: int = 0
    last_id: int = 0

    def count(self, type_: str, amount_units: int, tokens: int, images: int) -> None:
        self.entries += 1
        self.balance_units += amount_units
        self.tokens += tokens
        self.images += images
        if type_ == "usage":
            self.used_units += amount_units
            self.api_calls += 1

    def stats(self) -> dict[str, Any]:
        """The `user/stats` payload."""
        return {
            "balance": units_str(self.balance_units),
            "credits_used": units_str(-self.used_units),
            "tokens_used": self.tokens,
            "api_calls": self.api_calls,
            "images_processed": self.images,
        }


def recount(conn: Connection, licence_id: int, after_id: int = 0) -> Totals:
    """The totals of the licence's entries with ids above `after_id`, summed from the ledger."""
    usage = ledger.c.type == "usage"
    tokens = ledger.c.input_tokens + ledger.c.completion_tokens + ledger.c.cached_tokens
    query = select(
        func.count(),
        func.coalesce(func.sum(ledger.c.amount_units), 0),
        func.coalesce(func.sum(ledger.c.amount_units).filter(usage), 0),
        func.coalesce(func.sum(tokens), 0),
        func.count().filter(usage),
        func.coalesce(func.sum(ledger.c.images), 0),
        func.coalesce(func.max(ledger.c.id), after_id),
    ).where(ledger.c.licence_id == licence_id, ledger.c.id > after_id)
    # PostgreSQL sums bigints as NUMERIC: back to int, exactly.
    return Totals(*(int(v) for v in conn.execute(query).one()))


def read(conn: Connection, licence_id: int, *, lock: bool = False) -> Totals | None:
    query = select(*(ledger_totals.c[f] for f in (*SUMS, "last_id"))).where(
        ledger_totals.c.licence_id == licence_id
    )
    row = conn.execute(query.with_for_update() if lock else query).first()
    return None if row is None else Totals(*(int(v) for v in row))


def current(conn: Connection, licence_id: int) -> Totals:
    """The licence's totals; recounted if it has no row yet (a licence issued by an older
    version since this ledger was last opened)."""
    found = read(conn, licence_id)
    return found if found is not None else recount(conn, licence_id)


def add(conn: Connection, licence_id: int, delta: Totals) -> None:
    """Add entries this transaction wrote (`delta`, `last_id` their newest id) to the row."""
    t = ledger_totals.c
    values: dict[str, Any] = {f: t[f] + getattr(delta, f) for f in SUMS}
    values["last_id"] = case((t.last_id < delta.last_id, delta.last_id), else_=t.last_id)
    done = conn.execute(update(ledger_totals).where(t.licence_id == licence_id).values(values))
    if done.rowcount == 0:  # no row yet: the whole ledger, this transaction's entries included
        conn.execute(
            insert(ledger_totals).values(licence_id=licence_id, **asdict(recount(conn, licence_id)))
        )


def newest_id(conn: Connection, licence_id: int) -> int:
    """The licence's newest entry id: one probe of the (licence_id, id) index."""
    query = select(func.max(ledger.c.id)).where(ledger.c.licence_id == licence_id)
    return int(conn.execute(query).scalar_one() or 0)


def add_rows(conn: Connection, rows: Iterable[tuple[Any, ...]]) -> None:
    """Add entry rows just inserted in this transaction (`entries.COLUMNS` order) to the totals
    of their licences."""
    deltas: dict[int, Totals] = {}
    for licence_id, _at, type_, _service, units, inputs, completions, cached, images, _ in rows:
        delta = deltas.get(licence_id)
        if delta is None:
            delta = deltas[licence_id] = Totals()
        delta.count(type_, units, inputs + completions + cached, images)
    for licence_id in sorted(deltas):  # one lock order for every writer
        delta = deltas[licence_id]
        delta.last_id = newest_id(conn, licence_id)
        add(conn, licence_id, delta)


def catch_up(conn: Connection) -> int:
    """Bring every licence's row up to its ledger; returns the entries added. Costs one index
    probe per licence when nothing is missing, so it runs whenever the ledger is opened."""
    added = 0
    for licence_id in conn.execute(select(licences.c.id).order_by(licences.c.id)).scalars():
        found = read(conn, licence_id, lock=True)
        if found is None:
            whole = recount(conn, licence_id)
            conn.execute(insert(ledger_totals).values(licence_id=licence_id, **asdict(whole)))
            added += whole.entries
            continue
        missing = recount(conn, licence_id, after_id=found.last_id)
        if missing.entries:
            add(conn, licence_id, missing)
            added += missing.entries
    return added
