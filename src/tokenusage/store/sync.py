"""Full sync: rebuild a domain's mirror in a new generation, then switch to it atomically.

A full sync of a large ledger takes many HTTP round trips, so it never holds one database
transaction open: each upstream page is committed into a generation that readers do not see,
and `finish()` makes it current in one short transaction. Until then the previous mirror stays
current and whole; an aborted or crashed sync leaves only invisible rows, removed by the next
full sync of the domain or by `discard_abandoned()` at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update

from tokenusage.licenseapi.models import Transaction
from tokenusage.store import derived, search
from tokenusage.store.engine import Database
from tokenusage.store.mirror import insert_rows, lock_domain, purge_retired, retire
from tokenusage.store.records import PageAdded, StoreError, SyncSuperseded
from tokenusage.store.schema import mirror_generations as G
from tokenusage.store.schema import mirror_rows as R

log = logging.getLogger(__name__)

# A builder touches its generation on every page, so this much silence means its process died.
ABANDONED_AFTER = timedelta(minutes=10)


class FullSync:
    """Feed upstream pages newest first with `add_page`, then `finish`.

    Rows are numbered downwards (first row fetched: seq 0, then -1, …) so the finished
    generation reads newest first by descending seq, and later appends continue upwards.
    """

    def __init__(
        self, db: Database, domain_hash: str, generation: int, clock: Callable[[], datetime]
    ) -> None:
        self._db = db
        self._clock = clock
        self.domain_hash = domain_hash
        self.generation = generation
        self.rows = 0
        self.oldest_id: int | None = None
        self.newest_id: int | None = None
        self.finished = False
        self._closed = False

    def _claim(self, conn: Connection) -> None:
        """Refresh the heartbeat, and fail if a newer sync or a clear retired this generation."""
        claimed = conn.execute(
            update(G)
            .where(G.c.generation == self.generation, G.c.state == "building")
            .values(touched_at=self._clock())
        ).rowcount
        if claimed != 1:
            raise SyncSuperseded(
                "full sync superseded: another full sync or a cache clear replaced it"
            )

    def add_page(self, transactions: Iterable[Transaction]) -> PageAdded:
        """Store one upstream page in one transaction; report rows new vs already present.

        Ids already in this generation (or repeated within the page) are skipped, so a server
        that ignores `before_id` shows up as a page with `added == 0`.
        """
        if self._closed:
            raise RuntimeError("this full sync is already finished or discarded")
        unique: dict[int, Transaction] = {}
        repeated = 0
        for tx in transactions:
            if tx.id in unique:
                repeated += 1
            else:
                unique[tx.id] = tx
        if not unique:
            return PageAdded(added=0, repeated=repeated, oldest_id=None)
        ids = sorted(unique, reverse=True)
        with self._db.write() as conn:
            self._claim(conn)
            # A range probe on (generation, id): empty and cheap for a well-behaved server,
            # and not needed at all for the first page.
            present: set[int] = set()
            if self.rows:
                present.update(
                    conn.execute(
                        select(R.c.id).where(
                            R.c.generation == self.generation, R.c.id.between(ids[-1], ids[0])
                        )
                    ).scalars()
                )
            new = [i for i in ids if i not in present]
            top = -self.rows  # next free seq below the rows already stored
            numbered = [(top - k, unique[i]) for k, i in enumerate(new)]
            insert_rows(conn, self.generation, numbered)
            derived.record(conn, self.generation, numbered, live=False)
            if new:
                newest = new[0] if self.newest_id is None else max(new[0], self.newest_id)
                conn.execute(
                    update(G)
                    .where(G.c.generation == self.generation)
                    .values(min_seq=top - len(new) + 1, newest_id=newest)
                )
        if new:
            self.rows += len(new)
            self.newest_id = newest
        self.oldest_id = ids[-1] if self.oldest_id is None else min(self.oldest_id, ids[-1])
        return PageAdded(added=len(new), repeated=repeated + len(present), oldest_id=ids[-1])

    def finish(self, *, total: int | None = None, limited: bool = False) -> None:
        """Make this generation current and retire the previous one, in one transaction.

        `limited` says the server would not page back further than what was stored ("the
        newest N of TOTAL"); the mirror is then marked incomplete.
        """
        if self._closed:
            raise RuntimeError("this full sync is already finished or discarded")
        if not self._db.is_sqlite:  # SQLite has nothing to build (FTS5 is its own index)
            with self._db.write() as conn:
                self._claim(conn)  # the heartbeat before a long build, and still ours?
            # Without the generation's row: writers that lock the domain (an incremental sync,
            # Clear Cache) do not wait for the index build. The swap below checks again.
            with self._db.write(counted=False) as conn:
                derived.seal(conn, self.generation)
        now = self._clock()
        with self._db.write() as conn:
            gens = lock_domain(conn, self.domain_hash)
            mine = next((g for g in gens if g.generation == self.generation), None)
            if mine is None or mine.state != "building":
                raise SyncSuperseded(
                    "full sync superseded: another full sync or a cache clear replaced it"
                )
            derived.complete(conn, self.generation)
            retire(conn, (g.generation for g in gens if g.state == "current"), now)
            conn.execute(
                update(G)
                .where(G.c.generation == self.generation)
                .values(
                    state="current",
                    upstream_total=total,
                    limited=limited,
                    full_synced_at=now,
                    synced_at=now,
                    touched_at=now,
                )
            )
        self.finished = self._closed = True
        _purge_quietly(self._db, self.domain_hash)
        _analyze(self._db, self.generation)

    def discard(self) -> None:
        """Drop this generation's rows; the current mirror was never touched."""
        if self._closed:
            return
        self._closed = True
        with self._db.write() as conn:
            conn.execute(
                update(G)
                .where(G.c.generation == self.generation, G.c.state == "building")
                .values(state="retired", touched_at=self._clock())
            )
        purge_retired(self._db, self.domain_hash)


def _purge_quietly(db: Database, domain_hash: str) -> None:
    # The switch already committed; leftover rows are invisible and retried later.
    try:
        purge_retired(db, domain_hash)
    except StoreError as exc:
        log.warning("could not remove a retired mirror generation yet: %s", exc)


def _analyze(db: Database, generation: int) -> None:
    """On PostgreSQL, refresh the planner's statistics after a full sync: until autovacuum
    gets to it, a million new rows look like an empty table and reads pick bad plans."""
    if db.is_sqlite:
        return
    try:
        with db.write() as conn:
            for table in ("mirror_rows", "mirror_days", "mirror_hours", search.name(generation)):
                conn.exec_driver_sql(f"ANALYZE {table}")
    except StoreError as exc:
        log.warning("could not refresh the planner's statistics: %s", exc)


def begin(
    db: Database, domain_hash: str, clock: Callable[[], datetime], zone: str | None = None
) -> FullSync:
    """Open a new generation, superseding any other full sync of the domain still building.

    It keeps the current generation's derived features (day totals of every registered
    timezone, search), plus `zone`'s day totals.
    """
    now = clock()
    with db.write() as conn:
        gens = lock_domain(conn, domain_hash)
        retire(conn, (g.generation for g in gens if g.state == "building"), now)
        wanted = set(derived.ALWAYS)
        if zone:
            wanted |= {derived.zone_feature(zone), derived.running_feature(zone)}
        for g in gens:
            if g.state == "current":
                wanted |= derived.features(conn, g.generation)
        generation = conn.execute(
            G.insert()
            .values(
                domain_hash=domain_hash,
                state="building",
                min_seq=1,
                max_seq=0,
                limited=False,
                started_at=now,
                touched_at=now,
            )
            .returning(G.c.generation)
        ).scalar_one()
        derived.register(conn, int(generation), wanted)
    _purge_quietly(db, domain_hash)
    return FullSync(db, domain_hash, int(generation), clock)


def discard_abandoned(db: Database, now: datetime, max_idle: timedelta = ABANDONED_AFTER) -> int:
    """Remove generations whose builder stopped touching them (a crashed or killed process)."""
    with db.write() as conn:
        conn.execute(
            update(G)
            .where(G.c.state == "building", G.c.touched_at < now - max_idle)
            .values(state="retired", touched_at=now)
        )
    return purge_retired(db)
