"""Any sequence of full syncs (finished or aborted) and appends keeps every mirror readable:
seq contiguous, every id exactly once, pages newest first, nothing left of old generations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.store.conftest import all_ids, stored_rows, txs
from tests.store.conftest import count as mirrored
from tokenusage.store import Store

ids = st.integers(min_value=1, max_value=400)
page = st.lists(ids, max_size=12)


@dataclass(frozen=True)
class FullSyncOp:
    pages: list[list[int]]
    abort: bool


@dataclass(frozen=True)
class AppendOp:
    batch: list[int]


operations = st.lists(
    st.one_of(
        st.builds(FullSyncOp, st.lists(page, max_size=4), st.booleans()),
        st.builds(AppendOp, st.lists(ids, max_size=12)),
    ),
    min_size=1,
    max_size=6,
)


class Abort(Exception):
    pass


@dataclass
class Model:
    """The expected mirror, newest first; None until a full sync has finished."""

    rows: list[int] | None = None

    def full(self, pages: list[list[int]]) -> None:
        seen: set[int] = set()
        rows: list[int] = []
        for p in pages:
            new = [i for i in sorted(set(p), reverse=True) if i not in seen]
            rows += new
            seen.update(new)
        self.rows = rows

    def append(self, batch: list[int]) -> int:
        if self.rows is None:
            return 0
        newest = max(self.rows, default=None)
        new = sorted({i for i in batch if newest is None or i > newest})
        self.rows = new[::-1] + self.rows
        return len(new)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations, per_page=st.integers(min_value=1, max_value=7))
def test_any_history_of_syncs_keeps_the_mirror_consistent(
    store: Store, ops: list[FullSyncOp | AppendOp], per_page: int
) -> None:
    domain = uuid.uuid4().hex  # one store for all examples; each gets its own domain
    model = Model()
    for op in ops:
        if isinstance(op, AppendOp):
            assert store.append_newer(domain, txs(op.batch)) == model.append(op.batch)
            continue
        try:
            with store.full_sync(domain) as sync:
                for p in op.pages:
                    sync.add_page(txs(p))
                if op.abort:
                    raise Abort
                sync.finish(total=None)
        except Abort:
            pass
        else:
            model.full(op.pages)

    expected = model.rows or []
    assert mirrored(store, domain) == len(expected)
    assert all_ids(store, domain, per_page) == expected
    exported = list(store.iter_export(domain, batch=per_page))
    assert [len(b) for b in exported[:-1]] == [per_page] * (len(exported) - 1)
    assert sum(len(b) for b in exported) == len(expected)
    count, low, high = stored_rows(store, domain)
    assert count == len(expected)
    if expected:
        assert high is not None and low is not None and high - low + 1 == count
    assert store.mirror_status(domain).present == (model.rows is not None)
