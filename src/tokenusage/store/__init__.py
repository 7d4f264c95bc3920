"""The dashboard's local SQL store: pricing cache, snapshots, transaction mirror, admins.

SQLite file by default, PostgreSQL by URL; see `core.Store`.
"""

from tokenusage.store.core import Store
from tokenusage.store.records import (
    Cached,
    CacheStatus,
    MirrorRow,
    MirrorStatus,
    PageAdded,
    StoreError,
    SyncSuperseded,
    licence_identity,
)
from tokenusage.store.sessions import SessionRecord
from tokenusage.store.sync import FullSync
from tokenusage.store.viewread import StoredView

__all__ = [
    "CacheStatus",
    "Cached",
    "FullSync",
    "MirrorRow",
    "MirrorStatus",
    "PageAdded",
    "SessionRecord",
    "Store",
    "StoreError",
    "StoredView",
    "SyncSuperseded",
    "licence_identity",
]
