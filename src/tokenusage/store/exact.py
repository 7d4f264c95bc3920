"""An exact SUM of decimal text in SQL, on both engines.

Amounts are stored as decimal text. PostgreSQL sums them exactly as NUMERIC. SQLite has no
decimal type (its SUM is a float), so each SQLite connection gets `decsum`, an aggregate that
adds the text as `Decimal` and returns the exact text: grouped totals then come back as a few
rows instead of every row they sum.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, String, cast, func
from sqlalchemy.sql import ColumnElement

from tokenusage.usage.buckets import EXACT


class DecimalSum:
    """SQLite aggregate `decsum(text)`: the exact sum, as text ("0" over no rows)."""

    def __init__(self) -> None:
        self.total = Decimal(0)

    def step(self, value: str | None) -> None:
        if value is not None:
            self.total = EXACT.add(self.total, Decimal(value))

    def finalize(self) -> str:
        return format(self.total, "f")


def register(dbapi_connection: Any) -> None:
    dbapi_connection.create_aggregate("decsum", 1, DecimalSum)


def exact_sum(column: Any, dialect: str) -> ColumnElement[Any]:
    """SUM(column) of decimal text, exact, as text (NULL on PostgreSQL over no rows)."""
    if dialect == "sqlite":
        return func.decsum(column)
    return cast(func.sum(cast(column, Numeric)), String)


def decimal(value: object) -> Decimal:
    return Decimal(0) if value is None else Decimal(str(value))
