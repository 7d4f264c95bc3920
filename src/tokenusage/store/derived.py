"""What is derived from a generation's rows, and kept in step with them in every write.

A generation's features (`mirror_features`) say what is kept: the day totals of each
registered business timezone ("zone:<name>", see `days.py`), their running totals
("running:<name>", see `running.py`) and the search table ("search", see `search.py`).
Every write of rows (`record`) updates them in the same transaction; a new full sync
inherits the current generation's features, fills them in bulk, builds its PostgreSQL
search index once (`seal`) and its running totals as it is swapped in (`complete`); a
feature asked for that a generation lacks (a new timezone setting, a store made by an older
version) is built once (`ensure`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from sqlalchemy import Connection, delete, select

from tokenusage.licenseapi.models import Transaction
from tokenusage.store import days, hours, running, search
from tokenusage.store.schema import mirror_days as D
from tokenusage.store.schema import mirror_features as F
from tokenusage.store.schema import mirror_rows as R

SEARCH = "search"
HOURS = "hours"  # hour totals of usage and the service list (zone-independent)
ALWAYS = frozenset({SEARCH, HOURS})
BUILD_CHUNK = 50_000  # rows read at a time when a feature is built from stored rows


def zone_feature(zone: str) -> str:
    return f"zone:{zone}"


def running_feature(zone: str) -> str:
    return f"running:{zone}"


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
    """Build the PostgreSQL search index of what `record` filled in bulk (long: in a
    transaction of its own, which holds no lock on the generation's row)."""
    if SEARCH in features(conn, generation):
        search.index(conn, generation)


def complete(conn: Connection, generation: int) -> None:
    """Build the running totals of what `record` filled in bulk (a fraction of a second at
    a million rows: in the transaction that swaps the generation in)."""
    for feature in sorted(features(conn, generation)):
        if feature.startswith("running:"):
            running.rebuild(conn, generation, feature.removeprefix("running:"))


def record(
    conn: Connection, generation: int, numbered: Sequence[tuple[int, Transaction]], *, live: bool
) -> None:
    """Fold newly stored `(seq, transaction)` rows into every feature of the generation.
    `live`: it is read already (an append), so its running totals follow now; a full sync's
    are built by `complete`."""
    if numbered:
        rows = [_row(s, tx) for s, tx in numbered]
        _fold(conn, generation, features(conn, generation), rows, live=live)


def _row(seq: int, tx: Transaction) -> days.DayRow:
    service = tx.service_type
    if "\x00" in service:  # stored as `storable_text` writes it
        service = service.replace("\x00", "\ufffd")
    amount, tokens, images = tx.amount, tx.tokens_used, tx.images_processed
    return seq, tx.created_at, service, tx.type, amount, tokens, images, tx.description


def _fold(
    conn: Connection, generation: int, wanted: set[str], rows: list[days.DayRow], *, live: bool
) -> None:
    for feature in sorted(wanted):
        if feature.startswith("zone:"):
            zone = feature.removeprefix("zone:")
            since = days.add(conn, generation, zone, rows)
            if live and since is not None and running_feature(zone) in wanted:
                running.rebuild(conn, generation, zone, since)
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
    elif wanted.startswith("running:"):
        zone = wanted.removeprefix("running:")
        ensure(conn, generation, min_seq, max_seq, zone_feature(zone))
        running.rebuild(conn, generation, zone)
        conn.execute(F.insert().values(generation=generation, feature=wanted))
        return
    else:
        zone = wanted.removeprefix("zone:")
        conn.execute(delete(D).where(D.c.generation == generation, D.c.zone == zone))
    for lo in range(min_seq, max_seq + 1, BUILD_CHUNK):
        chunk = _stored(conn, generation, lo, lo + BUILD_CHUNK - 1)
        _fold(conn, generation, {wanted}, chunk, live=False)
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
    running.forget(conn, generation)
    conn.execute(delete(D).where(D.c.generation == generation))
    conn.execute(delete(F).where(F.c.generation == generation))
