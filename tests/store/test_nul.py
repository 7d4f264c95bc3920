"""NUL in upstream text: PostgreSQL text cannot hold it, so both engines store U+FFFD instead."""

from __future__ import annotations

from tests.store.conftest import DOMAIN, full_sync, tx
from tokenusage.store import Store

NUL_SERVICE = "chat\x00via openai"
NUL_TEXT = "\x00call (gpt-4o)\x00 end"


def test_full_sync_and_append_replace_nul_the_same_way_on_both_engines(store: Store) -> None:
    with store.full_sync(DOMAIN) as sync:
        sync.add_page([tx(2, service_type=NUL_SERVICE, description=NUL_TEXT), tx(1)])
        sync.finish(total=2)
    added = store.append_newer(DOMAIN, [tx(3, service_type="\x00", description="a\x00\x00b")])

    assert added == 1
    status, rows = store.page_with_status(DOMAIN, 10, lambda _rows: 1)
    assert status.rows == 3
    assert [(r.id, r.service_type, r.description) for r in rows] == [
        (3, "\ufffd", "a\ufffd\ufffdb"),
        (2, "chat\ufffdvia openai", "\ufffdcall (gpt-4o)\ufffd end"),
        (1, "chat via openai", "call 1 (gpt-4o)"),
    ]
    exported = [rec for batch in store.iter_export(DOMAIN) for rec in batch]
    assert [(r[2], r[6]) for r in exported] == [(r.service_type, r.description) for r in rows]


def test_a_later_sync_after_nul_rows_still_succeeds(store: Store) -> None:
    full_sync(store, DOMAIN, [1], page_size=1)
    assert store.append_newer(DOMAIN, [tx(2, description="\x00")]) == 1
    assert store.append_newer(DOMAIN, [tx(3)]) == 1
    with store.full_sync(DOMAIN) as sync:
        sync.add_page([tx(3), tx(2, description="\x00"), tx(1)])
        sync.finish(total=3)
    assert store.mirror_status(DOMAIN).rows == 3
