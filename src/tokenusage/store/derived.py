"""What is derived from a generation's rows, and kept in step with them in every write.

A generation's features (`mirror_features`) say what is kept: the day totals of each
registered business timezone ("zone:<name>", see `days.py`) and the search table ("search",
see `search.py`). Every write of rows (`record`) updates them in the same transaction; a new
full sync inherits the current generation's features, fills its PostgreSQL search table
unindexed and builds that index once (`seal`) before the generation is swapped in; a
feature asked for that a generation lacks (a new timezone setting, a store made by an older
version) is built once (`ensure`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from sqlalchemy import Connection, delete, select

from tokenusage.licenseapi.models import Transaction
from tokenusage.store import days, hours, search
from tokenusage.store.schema import mirror_days as D
from tokenusage.store.schema import mirror_features as F
from tokenusage.store.schema import mirror_rows as R

SEARCH = "search"
HOURS = "hours"  # hour totals of usage and the service list (zone-independent)
ALWAYS = frozenset({SEARCH, HOURS})
BUILD_CHUNK = 50_000  # rows read at a time when a feature is built from stored rows


def zone_feature(zone: str) -> str:
    return f"zone:{zone}"


def features(conn: Connection, generation: int) -> set[str]:
    return set(conn.execute(select(F.c.feature).where(F.c.generation == generation)).scalars())


def register(conn: Connection, generation: int, wanted: Iterable[str]) -> None:
    """Give a new generation its features; `seal` completes them once its rows are in."""
    have = features(conn, generation)
    new = sorted(set(wanted) - have)
    if new:
        conn.execute(F.insert(), [{"generation": generation, "feature": f} for f in new])
    if SEARCH in new:
        search.create(conn, generation, indexed=False)


def seal(conn: Connection, generation: int) -> None:
    """Finish what `record` filled in bulk (the PostgreSQL search index), before the
    generation is read."""
    if SEARCH in features(conn, generation):
        search.index(conn, generation)


def record(conn: Connection, generation: int, numbered: Sequence[tuple[int, Transaction]]) -> None:
    """Fold newly stored `(seq, transaction)` rows into every feature of the generation."""
    if numbered:
        _fold(conn, generation, features(conn, generation), [_row(s, tx) for s, tx in numbered])


def _row(seq: int, tx: Transaction) -> days.DayRow:
    service = tx.service_type
    if "\x00" in service:  # stored as `storable_text` writes it
        service = service.replace("\x00", "\ufffd")
    amount, tokens, images = tx.amount, tx.tokens_used, tx.images_processed
    return seq, tx.created_at, service, tx.type, amount, tokens, images, tx.description


def _fold(conn: Connection, generation: int, wanted: set[str], rows: list[days.DayRow]) -> None:
    for feature in sorted(wanted):
        if feature.startswith("zone:"):
            days.add(conn, generation, feature.removeprefix("zone:"), rows)
        elif feature == HOURS:
            hours.add(conn, generation, rows)
        elif feature == SEARCH:
            search.insert(conn, generation, rows)


def ensure(conn: Connection, generation: int, min_seq: int, max_seq: int, wanted: str) -> None:
    """Build `wanted` for the generation from its stored rows, unless it has it (the caller
    holds the domain's lock)."""
    if wanted in features(conn, generation):
        return
    if wanted == SEARCH:
        search.drop(conn, generation)
        search.create(conn, generation, indexed=False)
    elif wanted == HOURS:
        hours.forget(conn, generation)
    else:
        zone = wanted.removeprefix("zone:")
        conn.execute(delete(D).where(D.c.generation == generation, D.c.zone == zone))
    for lo in range(min_seq, max_seq + 1, BUILD_CHUNK):
        _fold(conn, generation, {wanted}, _stored(conn, generation, lo, lo + BUILD_CHUNK - 1))
    if wanted == SEARCH:
        search.index(conn, generation)
    conn.execute(F.insert().values(generation=generation, feature=wanted))


def _stored(conn: Connection, generation: int, lo: int, hi: int) -> list[days.DayRow]:
    found = conn.execute(
        select(
            R.c.seq,
            R.c.created_at,
            R.c.service_type,
            R.c.type,
            R.c.amount,
            R.c.tokens_used,
            R.c.images_processed,
            R.c.description,
        ).where(R.c.generation == generation, R.c.seq >= lo, R.c.seq <= hi)
    ).all()
    return [(s, c, sv, t, Decimal(a), tk, im, d) for s, c, sv, t, a, tk, im, d in found]


def forget(conn: Connection, generation: int) -> None:
    """Remove everything derived from the generation (before its rows and its row go)."""
    search.drop(conn, generation)
    hours.forget(conn, generation)
    conn.execute(delete(D).where(D.c.generation == generation))
    conn.execute(delete(F).where(F.c.generation == generation))
