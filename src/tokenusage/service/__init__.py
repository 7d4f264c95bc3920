"""The orchestration layer between the pages/CLI and the License API, the store and `usage`.

`DashboardService` is its public facade; `Problem` the one way failures travel outward.
"""

from tokenusage.service.export import CsvChunk
from tokenusage.service.facade import DashboardService
from tokenusage.service.model import CacheInfo, DashboardView, DebugInfo, SyncProgress
from tokenusage.service.problems import ExportRefused, Kind, Problem, Where

__all__ = [
    "CacheInfo",
    "CsvChunk",
    "DashboardService",
    "DashboardView",
    "DebugInfo",
    "ExportRefused",
    "Kind",
    "Problem",
    "SyncProgress",
    "Where",
]
