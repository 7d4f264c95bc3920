"""What an alert rule watches, when it fires and when it re-arms: pure logic, no I/O.

A rule fires when its condition becomes true, and not again while it stays true. It re-arms
only once the condition has been false by a margin (10%): the balance back above the
threshold + 10%, the day's spend under the threshold - 10% (so a new day re-arms it), a
sync younger than the limit - 10%. A purchase that lifts a "below" value back over the
threshold re-arms it at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Literal

Kind = Literal["balance_below", "runway_below_days", "daily_spend_above", "stale_minutes"]
KINDS: dict[Kind, Literal["below", "above"]] = {
    "balance_below": "below",
    "runway_below_days": "below",
    "daily_spend_above": "above",
    "stale_minutes": "above",
}
WHOLE = ("runway_below_days", "stale_minutes")  # thresholds in whole days / minutes
MARGIN = Decimal("1.10")
INFINITE = Decimal("Infinity")
MAX_NAME = 150
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@ -]*")
_EMAIL = re.compile(r"[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+")


class AlertError(ValueError):
    """A rule that cannot be made; the message says why."""


@dataclass(frozen=True)
class Reading:
    """What one check sees, after its sync."""

    now: datetime
    balance: Decimal | None
    runway_days: int | None
    runway_known: bool  # False: no forecast at all (no balance); with None days: no spend
    spend_today: Decimal | None
    stale_minutes: Decimal | None  # since the last successful sync; None: never synced
    newest_purchase_id: int | None

    def value(self, kind: str) -> Decimal | None:
        """The rule's value now; None when it cannot be known (no decision is made)."""
        if kind == "balance_below":
            return self.balance
        if kind == "runway_below_days":
            if not self.runway_known:
                return None
            return INFINITE if self.runway_days is None else Decimal(self.runway_days)
        if kind == "daily_spend_above":
            return self.spend_today
        if kind == "stale_minutes":
            return INFINITE if self.stale_minutes is None else self.stale_minutes
        raise ValueError(kind)


def condition(kind: str, value: Decimal, threshold: Decimal) -> bool:
    return value < threshold if KINDS[kind] == "below" else value > threshold  # type: ignore[index]


def rearms(kind: str, value: Decimal, threshold: Decimal, purchased: bool) -> bool:
    """Whether a fired rule re-arms at `value` (`purchased`: a purchase arrived since)."""
    if KINDS[kind] == "below":  # type: ignore[index]
        return value >= threshold * MARGIN or (purchased and value >= threshold)
    return value <= threshold / MARGIN


@dataclass(frozen=True)
class Channel:
    type: Literal["email", "webhook"]
    target: str

    def as_json(self) -> dict[str, str]:
        return {"type": self.type, "to" if self.type == "email" else "url": self.target}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Channel:
        if data.get("type") == "email":
            return cls("email", data["to"])
        return cls("webhook", data["url"])

    def __str__(self) -> str:
        return f"{self.type}:{self.target}"


def check_name(name: str) -> str:
    name = name.strip()
    if not _NAME.fullmatch(name) or len(name) > MAX_NAME:
        raise AlertError(
            "an alert name is 1 to 150 letters, digits, spaces and . _ @ - "
            "(starting with a letter or digit)"
        )
    return name


def parse_threshold(kind: str, text: str) -> Decimal:
    if kind not in KINDS:
        raise AlertError(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")
    try:
        value = Decimal(text.strip().lstrip("$"))
    except InvalidOperation:
        raise AlertError(f"{text!r} is not a number") from None
    if not value.is_finite() or value < 0 or value > Decimal("1e12"):
        raise AlertError("the threshold is a number from 0 to 10^12")
    if kind in WHOLE and value != value.to_integral_value():
        raise AlertError("runway days and stale minutes are whole numbers")
    if kind in WHOLE and value < 1:
        raise AlertError("runway days and stale minutes are at least 1")
    return value


def parse_channels(emails: list[str], webhooks: list[str]) -> list[Channel]:
    channels: list[Channel] = []
    for raw in emails:
        address = raw.strip()
        if not _EMAIL.fullmatch(address) or len(address) > 254:
            raise AlertError(f"{address!r} is not an e-mail address")
        channels.append(Channel("email", address))
    for raw in webhooks:
        url = raw.strip()
        if not url.startswith(("http://", "https://")) or len(url) > 2000 or " " in url:
            raise AlertError(f"{url!r} is not an http(s) URL")
        channels.append(Channel("webhook", url))
    if not channels:
        raise AlertError("an alert needs at least one --email or --webhook")
    return channels
