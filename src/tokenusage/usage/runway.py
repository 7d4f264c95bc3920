"""When the credit runs out: burn rates over rolling windows and the forecast from them.

The burn rate of a window is the spend (minus the sum of usage amounts) in the 7 or 30
rolling 24-hour days ending now, divided by 7 or 30. The forecast uses the 7-day rate, which
follows today's usage; when nothing was spent in the last 7 days it falls back to the 30-day
rate, and says so (`basis`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Literal

Basis = Literal["7d", "30d"]
# ok: a forecast; exhausted: the balance is zero or below; idle: nothing spent in 30 days
State = Literal["ok", "exhausted", "idle"]
WINDOWS = {"7d": 7, "30d": 30}
# A forecast further out than this is "more than 10 years": no date worth printing.
HORIZON_DAYS = 3650


@dataclass(frozen=True)
class Runway:
    balance: Decimal
    burn_7d: Decimal  # credits per day
    burn_30d: Decimal
    basis: Basis
    state: State
    days_left: int | None
    runs_out_on: date | None
    last_spend_on: date | None  # business day of the newest usage entry, if any is known

    @property
    def burn(self) -> Decimal:
        return self.burn_7d if self.basis == "7d" else self.burn_30d

    def as_json(self) -> dict[str, object]:
        return {
            "burn_7d": format(self.burn_7d, "f"),
            "burn_30d": format(self.burn_30d, "f"),
            "basis": self.basis,
            "days_left": self.days_left,
            "runs_out_on": None if self.runs_out_on is None else self.runs_out_on.isoformat(),
        }


def window_start(now: datetime, basis: Basis) -> datetime:
    """The window is (now - N days, now]."""
    return now - timedelta(days=WINDOWS[basis])


def forecast(
    balance: Decimal,
    spend_7d: Decimal,
    spend_30d: Decimal,
    now: datetime,
    tz: tzinfo,
    last_spend_on: date | None = None,
) -> Runway:
    """The runway from the spend of the two windows ending at `now` (aware)."""
    burn_7d = spend_7d / 7
    burn_30d = spend_30d / 30
    basis: Basis = "7d" if burn_7d > 0 or burn_30d <= 0 else "30d"
    burn = burn_7d if basis == "7d" else burn_30d
    if balance <= 0:
        return Runway(balance, burn_7d, burn_30d, basis, "exhausted", 0, None, last_spend_on)
    if burn <= 0:
        return Runway(balance, burn_7d, burn_30d, basis, "idle", None, None, last_spend_on)
    lasts = balance / burn  # days, exact
    days_left = math.floor(lasts)
    if days_left > HORIZON_DAYS:
        return Runway(balance, burn_7d, burn_30d, basis, "ok", days_left, None, last_spend_on)
    seconds = lasts * 86400
    end = now + timedelta(seconds=float(seconds))
    return Runway(
        balance, burn_7d, burn_30d, basis, "ok", days_left, end.astimezone(tz).date(), last_spend_on
    )


@dataclass(frozen=True)
class SpendSoFar:
    """Spend today, this month to date, and the same days of last month (business days)."""

    today: Decimal
    month_to_date: Decimal
    previous_month_same_days: Decimal
    day: date

    def as_json(self) -> dict[str, str]:
        return {
            "today": format(self.today + 0, "f"),
            "month_to_date": format(self.month_to_date + 0, "f"),
            "previous_month_same_days": format(self.previous_month_same_days + 0, "f"),
        }


def month_ranges(today: date) -> tuple[tuple[date, date], tuple[date, date]]:
    """This month's days 1..today, and last month's days 1..same day (cut at its last day)."""
    first = today.replace(day=1)
    prev_last = first - timedelta(days=1)
    prev_first = prev_last.replace(day=1)
    same = prev_first.replace(day=min(today.day, prev_last.day))
    return (first, today), (prev_first, same)
