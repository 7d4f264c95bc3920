"""A history page at any depth is one range of an index on both engines: no scan of the
ledger, no sort, and the page's id bound is where the index range starts, so a page deep in a
10M-row ledger costs what the newest page costs.

On a ledger this small PostgreSQL rightly prefers reading everything and sorting; the plan it
would take at scale is the one left when sequential scans, bitmap scans and sorts are priced
out, and it must exist."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, text

from tokenusage.licenseserver.entries import page_query
from tokenusage.licenseserver.ledger import Ledger
from tokenusage.store.engine import make_engine

PAGES = {
    "newest": {"before_id": None, "after_id": None},
    "deep before_id": {"before_id": 1_500, "after_id": None},
    "after_id": {"before_id": None, "after_id": 700},
}


@pytest.fixture
def ledger(db_url: str) -> Iterator[Ledger]:
    engine = make_engine(db_url)
    led = Ledger(engine)
    led.create_schema()
    # Three licences with interleaved entries: a page must not wade through the others'.
    ids = [led.issue_licence(f"K-PLAN-{n}", "a.example", "a@a.example").id for n in range(3)]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    led.add_entry_rows(
        [
            (ids[i % 3], start + timedelta(seconds=i), "usage", "s", -1, 1, 0, 0, 0, "d")
            for i in range(6_000)
        ]
    )
    with led.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    yield led
    engine.dispose()


def plan(conn: Connection, sql: str) -> str:
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
        return "\n".join(str(r[-1]) for r in rows)
    for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
        conn.exec_driver_sql(f"SET LOCAL {setting} = off")
    return "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {sql}").all())


@pytest.mark.parametrize("which", list(PAGES))
def test_a_page_is_one_index_range_without_sort(ledger: Ledger, which: str) -> None:
    sqlite = ledger.engine.dialect.name == "sqlite"
    query = page_query(2, 10_000, sqlite=sqlite, **PAGES[which])
    sql = str(query.compile(ledger.engine, compile_kwargs={"literal_binds": True}))
    bound = {"deep before_id": "id < 1500", "after_id": "id > 700"}.get(which)
    with ledger.engine.begin() as conn:
        found = plan(conn, sql)
    if sqlite:
        assert found.startswith("SEARCH ledger USING INDEX ix_ledger_licence_id (licence_id=?")
        assert bound is None or f"{bound.replace(' ', '')[:3]}?)" in found, found
        assert "TEMP B-TREE" not in found and "SCAN" not in found, found
    else:
        assert "Index Scan" in found and "Sort" not in found and "Seq Scan" not in found, found
        conds = [line for line in found.splitlines() if "Index Cond" in line]
        assert bound is None or any(bound in line for line in conds), found
