"""The page cache: least recently used pages go first; size 0 caches nothing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tokenusage.store.pagecache import PageCache
from tokenusage.store.records import MirrorRow


def loader(loads: list[str], key: str) -> list[MirrorRow]:
    loads.append(key)
    return []


def test_least_recently_used_page_is_evicted() -> None:
    cache, loads = PageCache(size=2), []
    for key in ("a", "b", "a", "c", "a", "b"):
        cache.get(key, lambda key=key: loader(loads, key))
    assert loads == ["a", "b", "c", "b"]  # "a" was used after "b", so "b" went for "c"
    assert len(cache) == 2
    cache.clear()
    assert len(cache) == 0


def test_size_zero_always_loads() -> None:
    cache, loads = PageCache(size=0), []
    for _ in range(3):
        cache.get("a", lambda: loader(loads, "a"))
    assert loads == ["a", "a", "a"]
    assert len(cache) == 0


def test_cached_rows_are_the_same_object_across_threads() -> None:
    cache = PageCache(size=8)
    first = cache.get("k", list)
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda _: cache.get("k", list), range(200)))
    assert all(rows is first for rows in got)
