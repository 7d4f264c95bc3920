"""What is derived from a generation's rows, and kept in step with them in every write.

A generation's features (`mirror_features`) say what is kept: the day totals of each
registered business timezone ("zone:<name>", see `days.py`) and the search table ("search",
see `search.py`). Every write of rows (`record`) updates them in the same transaction; a new
full sync inherits the current generation's features; a feature asked for that a generation
lacks (a new timezone setting, a store made by an older version) is built once (`ensure`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, delete, select

from tokenusage.licenseapi.models import Transaction
from tokenusage.store import days, hours, search
from tokenusage.store.schema import mirror_days as D
from tokenusage.store.schema import mirror_features as F

SEARCH = "search"
HOURS = "hours"  # hour totals of usage and the service list (zone-independent)
ALWAYS = frozenset({SEARCH, HOURS})


def zone_feature(zone: str) -> str:
    return f"zone:{zone}"


def features(conn: Connection, generation: int) -> set[str]:
    return set(conn.execute(select(F.c.feature).where(F.c.generation == generation)).scalars())


def register(conn: Connection, generation: int, wanted: Iterable[str]) -> None:
    have = features(conn, generation)
    new = sorted(set(wanted) - have)
    if new:
        conn.execute(F.insert(), [{"generation": generation, "feature": f} for f in new])
    if SEARCH in new:
        search.create(conn, generation)


def record(conn: Connection, generation: int, numbered: Sequence[tuple[int, Transaction]]) -> None:
    """Fold newly stored `(seq, transaction)` rows into every feature of the generation."""
    if not numbered:
        return
    have = features(conn, generation)
    zones = [f.removeprefix("zone:") for f in have if f.startswith("zone:")]
    for zone in zones:
        days.add(conn, generation, zone, _day_rows(numbered))
    if HOURS in have:
        hours.add(
            conn, generation, ((s, c, sv, t, a) for s, c, sv, t, a, _, _ in _day_rows(numbered))
        )
    if SEARCH in have:
        search.insert(
            conn,
            generation,
            ((seq, tx.description, tx.service_type) for seq, tx in numbered),
        )


def _day_rows(numbered: Sequence[tuple[int, Transaction]]) -> Iterable[days.DayRow]:
    for seq, tx in numbered:
        service = tx.service_type
        if "\x00" in service:  # stored as `storable_text` writes it
            service = service.replace("\x00", "\ufffd")
        yield seq, tx.created_at, service, tx.type, tx.amount, tx.tokens_used, tx.images_processed


def ensure(conn: Connection, generation: int, min_seq: int, max_seq: int, wanted: str) -> None:
    """Build `wanted` for the generation if it does not have it yet (caller holds the lock)."""
    if wanted in features(conn, generation):
        return
    if wanted == SEARCH:
        search.build(conn, generation, min_seq, max_seq)
    elif wanted == HOURS:
        hours.build(conn, generation, min_seq, max_seq)
    else:
        days.build(conn, generation, wanted.removeprefix("zone:"), min_seq, max_seq)
    conn.execute(F.insert().values(generation=generation, feature=wanted))


def forget(conn: Connection, generation: int) -> None:
    """Remove everything derived from the generation (before its rows and its row go)."""
    search.drop(conn, generation)
    hours.forget(conn, generation)
    conn.execute(delete(D).where(D.c.generation == generation))
    conn.execute(delete(F).where(F.c.generation == generation))
