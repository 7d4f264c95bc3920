"""The transaction mirror: when it is synced (`policy`) and how (`copier`)."""

from tokenusage.service.history.policy import FULL, INCREMENTAL, FirstPage, HistorySync

__all__ = ["FULL", "INCREMENTAL", "FirstPage", "HistorySync"]
