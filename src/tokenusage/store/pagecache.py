"""Pages of the mirror kept in process memory.

The rows between two `seq` values of one generation never change: syncs only append above
`max_seq`, and a generation is replaced whole, never edited. So a page read once can be served
from memory until it is evicted, and a warm page view costs a few small status queries instead
of building 300 rows again. The key includes the generation's start time because SQLite may
hand a deleted generation's number to the next one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from cachetools import LRUCache

from tokenusage.store.records import MirrorRow

DEFAULT_PAGES = 64
V = TypeVar("V")


class Memo(Generic[V]):
    """A small thread-safe LRU of values read from a generation; values must not be modified.

    The lock is not held while a page loads, so a slow read never blocks other pages; two
    threads missing the same page both read it and the last one stays.
    """

    def __init__(self, size: int = DEFAULT_PAGES) -> None:
        self.size = size
        self._pages: LRUCache[Hashable, V] | None = LRUCache(maxsize=size) if size > 0 else None
        self._lock = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], V]) -> V:
        if self._pages is None:
            return load()
        with self._lock:
            rows = self._pages.get(key)
        if rows is None:
            rows = load()
            with self._lock:
                self._pages[key] = rows
        return rows

    def __len__(self) -> int:
        with self._lock:
            return 0 if self._pages is None else len(self._pages)

    def clear(self) -> None:
        if self._pages is not None:
            with self._lock:
                self._pages.clear()


class PageCache(Memo[list[MirrorRow]]):
    """Rows of pages read lately."""
