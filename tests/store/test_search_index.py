"""PostgreSQL: a full sync fills its search table unindexed and builds the trigram index once,
before the generation is swapped in; a search of the finished mirror uses that index."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tests.store.conftest import DOMAIN, Clock, tx
from tests.support.pgcluster import Cluster
from tokenusage.store import Store, search
from tokenusage.store import sync as sync_module
from tokenusage.usage.filters import parse_filters

pytestmark = pytest.mark.postgres


def indexes(store: Store, generation: int) -> list[str]:
    with store._db.read() as conn:
        return list(
            conn.execute(
                text("SELECT indexname FROM pg_indexes WHERE tablename = :t ORDER BY 1"),
                {"t": search.name(generation)},
            ).scalars()
        )


def plan(store: Store, generation: int, q: str) -> str:
    with store._db.read() as conn:
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        found = conn.execute(
            text(
                f"EXPLAIN SELECT seq FROM {search.name(generation)} "  # noqa: S608
                "WHERE body ILIKE :p"
            ),
            {"p": f"%{q}%"},
        ).scalars()
        return "\n".join(found)


def test_the_trigram_index_is_built_at_the_end_of_a_full_sync(
    pg_cluster: Cluster, clock: Clock
) -> None:
    with Store.open(pg_cluster.create_database(), clock=clock) as store:
        rows = [tx(i, description=f"Thumbnail batch {i}") for i in range(1, 400)]
        builder = sync_module.begin(store._db, DOMAIN, clock, "UTC")
        for k in range(0, len(rows), 100):
            builder.add_page(sorted(rows[k : k + 100], key=lambda t: -t.id))
        table = search.name(builder.generation)
        assert indexes(store, builder.generation) == [f"{table}_pkey"]
        builder.finish(total=len(rows))
        assert indexes(store, builder.generation) == [f"{table}_pkey", f"{table}_trgm"]
        assert f"{table}_trgm" in plan(store, builder.generation, "batch 12")
        view = store.read_view(DOMAIN, "", 300, lambda _: 1, filters=parse_filters(q="BATCH 12"))
        assert view.matched is not None
        assert sorted(r.id for r in view.rows) == [12, *range(120, 130)]
        # An incremental append goes into the indexed table, row by row.
        store.append_newer(DOMAIN, [tx(400, description="special NEEDLE run")])
        view = store.read_view(DOMAIN, "", 300, lambda _: 1, filters=parse_filters(q="needle"))
        assert [r.id for r in view.rows] == [400]


def test_a_search_table_built_from_stored_rows_is_indexed(
    pg_cluster: Cluster, clock: Clock
) -> None:
    from sqlalchemy import select

    from tokenusage.store.schema import mirror_features

    url = pg_cluster.create_database()
    rows = [tx(i, description=f"Thumbnail batch {i}") for i in range(1, 120)]
    with Store.open(url, clock=clock) as store:
        with store.full_sync(DOMAIN) as sync:
            sync.add_page(sorted(rows, key=lambda t: -t.id))
            sync.finish(total=len(rows))
        with store._db.write() as conn:
            (generation,) = conn.execute(select(mirror_features.c.generation).distinct()).one()
            search.drop(conn, generation)
            conn.execute(mirror_features.delete().where(mirror_features.c.feature == "search"))
    with Store.open(url, clock=clock) as store:
        view = store.read_view(DOMAIN, "", 300, lambda _: 1, filters=parse_filters(q="batch 11"))
        assert sorted(r.id for r in view.rows) == [11, *range(110, 120)]
        table = search.name(generation)
        assert indexes(store, generation) == [f"{table}_pkey", f"{table}_trgm"]


def test_the_index_build_holds_no_lock_other_writers_of_the_mirror_wait_for(
    pg_cluster: Cluster, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An incremental sync or Clear Cache locks the licence's generations (FOR UPDATE); a
    build of minutes must not hold one of them."""
    with Store.open(pg_cluster.create_database(), clock=clock) as store:
        builder = sync_module.begin(store._db, DOMAIN, clock, "UTC")
        builder.add_page([tx(i) for i in range(50, 0, -1)])
        seal = sync_module.derived.seal
        locked: list[bool] = []

        def probing_seal(conn: Any, generation: int) -> None:
            seal(conn, generation)
            with store._db.engine.connect() as other, other.begin():
                other.exec_driver_sql("SET LOCAL lock_timeout = '200ms'")
                try:
                    other.execute(
                        text("SELECT 1 FROM mirror_generations WHERE generation = :g FOR UPDATE"),
                        {"g": generation},
                    ).all()
                    locked.append(False)
                except OperationalError:
                    locked.append(True)

        monkeypatch.setattr(sync_module.derived, "seal", probing_seal)
        builder.finish(total=50)
        assert locked == [False], "the generation's row was locked during the index build"
        assert store.mirror_status(DOMAIN).rows == 50
