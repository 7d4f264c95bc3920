"""`Store`: the dashboard's local SQL store behind one small synchronous, thread-safe API.

Synchronous because SQLAlchemy Core is; the async service calls it from worker threads
(`anyio.to_thread.run_sync`), and the engine's pool makes that safe. Every public method
raises `StoreError` (never a SQLAlchemy exception) when the store is corrupt or unreachable.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Any

from tokenusage.licenseapi.models import Transaction
from tokenusage.store import (
    days,
    derived,
    export,
    filtered,
    mirror,
    search,
    sync,
    viewread,
)
from tokenusage.store.documents import CachedDocuments
from tokenusage.store.engine import Database
from tokenusage.store.insights import InsightQuery
from tokenusage.store.pagecache import Memo, PageCache
from tokenusage.store.records import (
    MirrorRow,
    MirrorStatus,
    StoreError,
)
from tokenusage.store.schema import create_schema
from tokenusage.store.shared import SharedState
from tokenusage.store.sync import ABANDONED_AFTER, FullSync
from tokenusage.store.viewread import StoredView, ViewQuery
from tokenusage.usage.buckets import DayTotal
from tokenusage.usage.export import ExportRecord
from tokenusage.usage.filters import Filters


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Store(SharedState, CachedDocuments):
    """Pricing cache, last-good snapshots (`CachedDocuments`), the transaction mirror, and
    what every replica shares (`SharedState`).

    `Store(url)` connects lazily; `Store.open(url)` also creates the schema and removes what
    crashed full syncs left behind. `clock` exists so tests can pin "now". `zone` is the
    business timezone whose day totals the mirror keeps (insights, date filters).
    """

    def __init__(
        self, url: str, *, clock: Callable[[], datetime] = _utcnow, zone: str = "UTC"
    ) -> None:
        self._db = Database(url)
        self._clock = clock
        self.zone = zone
        self.pages = PageCache()  # rows of pages read lately (see `pagecache`)
        self.memo: Memo[Any] = Memo(256)  # filtered counts and insights, by generation size
        self._features: set[tuple[Any, ...]] = set()  # (generation, started_at, feature) seen

    @classmethod
    def open(cls, url: str, *, clock: Callable[[], datetime] = _utcnow, zone: str = "UTC") -> Store:
        store = cls(url, clock=clock, zone=zone)
        try:
            store.create_schema()
            store.discard_abandoned()
        except BaseException:
            store.close()
            raise
        return store

    def create_schema(self) -> None:
        with self._db.write() as conn:
            create_schema(conn)
            search.enable_trgm(conn)

    @property
    def search_indexed(self) -> bool:
        """Text search uses an index (false on PostgreSQL without the pg_trgm extension)."""
        with self._db.read() as conn:
            return search.trgm_available(conn)

    def close(self) -> None:
        self._db.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def writes(self) -> int:
        """How many write transactions this process has made: a memo of what was read is
        still current while this has not moved (other processes' writes are not counted)."""
        return self._db.writes

    def location(self) -> str:
        """The SQLite file path, or the PostgreSQL URL with the password masked."""
        return self._db.location

    @property
    def backend(self) -> str:
        return "sqlite" if self._db.is_sqlite else self._db.url.get_backend_name()

    # -- transaction mirror ----------------------------------------------------------------

    @contextmanager
    def full_sync(self, domain_hash: str) -> Iterator[FullSync]:
        """`with store.full_sync(h) as s: s.add_page(...); …; s.finish(total=…, limited=…)`.

        Leaving the block by an exception, or without `finish()`, discards the new rows and
        leaves the previous mirror current and whole.
        """
        builder = sync.begin(self._db, domain_hash, self._clock, self.zone)
        try:
            yield builder
        except BaseException:
            # If even this fails the rows stay invisible; the next sync or start-up removes them.
            with suppress(StoreError):
                builder.discard()
            raise
        builder.discard()

    def append_newer(
        self, domain_hash: str, transactions: Iterable[Transaction], *, total: int | None = None
    ) -> int:
        """Incremental sync: store rows newer than `newest_id()` in one transaction.

        Returns how many were added. Also records the sync time (even when nothing was new)
        and, when given, the server's new `total`. Does nothing on an empty mirror.
        """
        with self._db.write() as conn:
            return mirror.append_newer(conn, domain_hash, transactions, total, self._clock())

    def newest_id(self, domain_hash: str) -> int | None:
        with self._db.read() as conn:
            gen = mirror.current(conn, domain_hash)
            return None if gen is None else gen.newest_id

    def page_with_status(
        self, domain_hash: str, per_page: int, page_for: Callable[[int], int]
    ) -> tuple[MirrorStatus, list[MirrorRow]]:
        """The mirror's status and, from the same snapshot, page `page_for(status.rows)`."""
        with self._db.read() as conn:
            return mirror.page_with_status(conn, domain_hash, per_page, page_for, self.pages)

    def read_view(
        self,
        domain_hash: str,
        pricing_key: str,
        per_page: int,
        page_for: Callable[[int], int],
        *,
        filters: Filters | None = None,
        insights: InsightQuery | None = None,
    ) -> StoredView:
        """What a page view shows, from one snapshot: pricing, account and statistics with
        their fetch times, the mirror's status and page `page_for(total)` of the rows that
        match `filters` (the whole history without), with `insights` when asked for.

        Day totals or a search table the mirror does not have yet (a new timezone, a store
        from an older version) are built first, once."""
        query = ViewQuery(per_page, page_for, self.zone, filters, insights)
        with self._db.read() as conn:
            view = viewread.read_view(
                conn, domain_hash, pricing_key, query, self.pages, self.memo, self._features
            )
        if not view.missing:
            return view
        self._build(domain_hash, view.missing)
        with self._db.read() as conn:
            return viewread.read_view(
                conn, domain_hash, pricing_key, query, self.pages, self.memo, self._features
            )

    def _build(self, domain_hash: str, features: Iterable[str]) -> None:
        with self._db.write() as conn:
            gen = next(
                (g for g in mirror.lock_domain(conn, domain_hash) if g.state == "current"), None
            )
            if gen is not None:
                for feature in sorted(features):
                    derived.ensure(conn, gen.generation, gen.min_seq, gen.max_seq, feature)

    def usage_days(
        self, domain_hash: str, first: date | None, last: date | None
    ) -> list[DayTotal] | None:
        """Day totals of the current mirror in the store's zone over [first, last] (open ends
        allowed); None without a mirror."""
        feature = derived.zone_feature(self.zone)
        for attempt in (1, 2):
            with self._db.read() as conn:
                gen = mirror.current(conn, domain_hash)
                if gen is None:
                    return None
                if feature in derived.features(conn, gen.generation) or attempt == 2:
                    return days.read(conn, gen.generation, self.zone, first, last)
            self._build(domain_hash, [feature])
        return None

    def iter_export(
        self, domain_hash: str, batch: int = 5000, filters: Filters | None = None
    ) -> Generator[list[ExportRecord], None, None]:
        """Every row (matching `filters`) newest first as CSV export records
        (`usage.export.ExportRecord`), in lists of up to `batch`, inside one read snapshot: a
        long export stays consistent while a full sync replaces the generation; close the
        generator to release it early."""
        if filters is None or not filters.active:
            with self._db.translate():
                yield from export.iter_records(self._db, domain_hash, batch)
            return
        self.read_view(domain_hash, "", 1, lambda _: 1, filters=filters)  # builds what it needs
        with self._db.translate(), self._db.read() as conn:
            gen = mirror.current(conn, domain_hash)
            if gen is not None:
                yield from filtered.iter_export(conn, gen.generation, self.zone, filters, batch)

    def mirror_version(self, domain_hash: str) -> tuple[int, datetime, int] | None:
        """(generation, started_at, max_seq) of the current mirror, None without one: rows
        older than a given id stay as they are while the first two do (appends are newer)."""
        with self._db.read() as conn:
            gen = mirror.current(conn, domain_hash)
            return None if gen is None else (gen.generation, gen.started_at, gen.max_seq)

    def transactions_before(
        self, domain_hash: str, filters: Filters, before_id: int | None, limit: int
    ) -> tuple[tuple[int, datetime, int], list[MirrorRow]] | None:
        """Up to `limit` rows matching `filters` older than transaction `before_id` (the
        newest without), newest first, with the `mirror_version` they come from; None without
        a mirror. See `filtered.before`."""
        if filters.active:
            self.read_view(domain_hash, "", 1, lambda _: 1, filters=filters)  # builds what it needs
        with self._db.read() as conn:
            gen = mirror.current(conn, domain_hash)
            if gen is None:
                return None
            rows = filtered.before(
                conn, gen.generation, self.zone, filters, mirror.ROW_COLUMNS, before_id, limit
            )
            version = (gen.generation, gen.started_at, gen.max_seq)
            return version, [mirror.mirror_row(r) for r in rows]

    def newest_purchase_id(self, domain_hash: str) -> int | None:
        """The id of the newest purchase in the mirror (from the day totals, O(days))."""
        self.usage_days(domain_hash, None, None)  # builds the day totals once if missing
        with self._db.read() as conn:
            gen = mirror.current(conn, domain_hash)
            if gen is None:
                return None
            return days.newest_of_type(conn, gen.generation, self.zone, "purchase")

    def mirror_status(self, domain_hash: str) -> MirrorStatus:
        with self._db.read() as conn:
            return mirror.status(conn, domain_hash)

    def clear_transactions(self, domain_hash: str) -> int:
        """Remove the domain's mirror (a full sync in progress is superseded); rows removed."""
        return mirror.clear(self._db, domain_hash, self._clock())

    def discard_abandoned(self, max_idle: timedelta = ABANDONED_AFTER) -> int:
        """Remove rows of full syncs whose process died; returns rows removed."""
        return sync.discard_abandoned(self._db, self._clock(), max_idle)

    # -- everything ------------------------------------------------------------------------

    def clear_all(self) -> dict[str, int]:
        """Empty every cache of every domain (admins are kept); counts of what was removed."""
        with self._db.read() as conn:
            domains = mirror.domains(conn)
        removed = sum(self.clear_transactions(d) for d in domains)
        return {
            "pricing": self.clear_pricing(),
            "snapshots": self.clear_snapshots(),
            "transactions": removed,
        }
