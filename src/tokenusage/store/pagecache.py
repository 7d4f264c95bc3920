"""Pages of the mirror kept in process memory.

The rows between two `seq` values of one generation never change: syncs only append above
`max_seq`, and a generation is replaced whole, never edited. So a page read once can be served
from memory until it is evicted, and a warm page view costs a few small status queries instead
of building 300 rows again. The key includes the generation's start time because SQLite may
hand a deleted generation's number to the next one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from tokenusage.store.records import MirrorRow

DEFAULT_PAGES = 64


class PageCache:
    """A small thread-safe LRU of page rows; the lists handed out must not be modified."""

    def __init__(self, size: int = DEFAULT_PAGES) -> None:
        self.size = size
        self._pages: OrderedDict[Hashable, list[MirrorRow]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], list[MirrorRow]]) -> list[MirrorRow]:
        with self._lock:
            rows = self._pages.get(key)
            if rows is not None:
                self._pages.move_to_end(key)
                return rows
        rows = load()
        if self.size > 0:
            with self._lock:
                self._pages[key] = rows
                while len(self._pages) > self.size:
                    self._pages.popitem(last=False)
        return rows

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
