"""A deterministic, realistic demo ledger.

Same seed and end time, same ledger. Usage follows a daily and weekly rhythm, is charged at the
price in force, and names real providers and models so the dashboard's branding has work to do.
Purchases top the balance up whenever it runs low, so it stays mostly positive.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tokenusage.licenseserver.ledger import Ledger, usage_cost
from tokenusage.licenseserver.schema import UNITS_PER_DOLLAR, to_units

DEMO_KEY = "CTZ-DEMO-4F2A-9B7C-1D3E-8A6F"
DEMO_DOMAIN = "demo.example.com"
DEMO_EMAIL = "admin@demo.example.com"

LLM_SERVICES = (
    (
        "Title generation via openai (gpt-4o-mini)",
        "Rewrote title for gallery #{n} using gpt-4o-mini",
    ),
    (
        "Tag enrichment via anthropic (claude-3-5-sonnet)",
        "Tagged {k} scenes for video {n} with claude-3-5-sonnet",
    ),
    ("Description writer via xai (grok-2)", "Wrote SEO description for set {n} with grok-2"),
    (
        "Translation via google (gemini-1.5-pro)",
        "Translated metadata of item {n} to 6 languages via gemini-1.5-pro",
    ),
    ("Moderation review", "Checked {k} comments on page {n} with o3-mini"),
    ("Chat assistant", "Support chat session {n} answered by gpt-4o"),
    ("Data enrichment via openai (o1-mini)", "Enriched performer profile {n} (o1-mini reasoning)"),
)
IMAGE_SERVICES = (
    ("Image processing", "Thumbnail analysis batch #{n}: {k} images"),
    ("Image search", "Reverse image search for upload {n} ({k} frames)"),
    ("Face detection via google (gemini-1.5-flash)", "Detected faces in {k} thumbnails of set {n}"),
)
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 11, 12, 11, 12, 12, 11, 10, 9, 8, 7, 6, 4, 3, 2]
WEEKDAY_WEIGHTS = [10, 10, 10, 10, 9, 5, 4]
TOP_UP_BELOW = Decimal("4.00")
TOP_UPS = (Decimal("25.00"), Decimal("50.00"), Decimal("100.00"))


@dataclass(frozen=True)
class DemoLicence:
    key: str
    domain: str
    email: str
    transactions: int


def _timestamps(rng: random.Random, n: int, end: datetime) -> list[datetime]:
    days = max(30, min(730, n // 250))
    start = (end - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    day_weights = [WEEKDAY_WEIGHTS[(start + timedelta(days=d)).weekday()] for d in range(days)]
    picked_days = rng.choices(range(days), weights=day_weights, k=n)
    picked_hours = rng.choices(range(24), weights=HOUR_WEIGHTS, k=n)
    stamps = [
        start + timedelta(days=d, hours=h, seconds=rng.randrange(3600))
        for d, h in zip(picked_days, picked_hours, strict=True)
    ]
    stamps.sort()
    return [s for s in stamps if s < end] or [end - timedelta(seconds=1)]


def _usage(rng: random.Random, prices: dict[str, Any]) -> dict[str, Any]:
    n = rng.randrange(1000, 99999)
    if rng.random() < 0.35:
        service, text = rng.choice(IMAGE_SERVICES)
        k = rng.choice((1, 4, 12, 40, 120, 480))
        counts = {"images": k, "input_tokens": 0, "completion_tokens": 0, "cached_tokens": 0}
    else:
        service, text = rng.choice(LLM_SERVICES)
        k = rng.randrange(2, 60)
        counts = {
            "images": 0,
            "input_tokens": rng.randrange(150, 9000),
            "completion_tokens": rng.randrange(40, 2500),
            "cached_tokens": rng.choice((0, 0, 512, 1024, 4096)),
        }
    cost = usage_cost(
        prices,
        counts["input_tokens"],
        counts["completion_tokens"],
        counts["cached_tokens"],
        counts["images"],
    )
    return {
        "type": "usage",
        "service_type": service,
        "amount_units": -to_units(cost),
        "description": text.format(n=n, k=k),
        **counts,
    }


def _credit(kind: str, amount: Decimal, description: str) -> dict[str, Any]:
    return {
        "type": kind,
        "service_type": "Credits" if kind == "purchase" else "Refund",
        "amount_units": to_units(amount),
        "description": description,
        "images": 0,
        "input_tokens": 0,
        "completion_tokens": 0,
        "cached_tokens": 0,
    }


def seed_demo(
    ledger: Ledger,
    transactions: int,
    seed: int = 1,
    balance: Decimal | None = None,
    end: datetime | None = None,
    key: str = DEMO_KEY,
    domain: str = DEMO_DOMAIN,
    email: str = DEMO_EMAIL,
    batch: int = 50_000,
) -> DemoLicence:
    """Issue the demo licence and write `transactions` entries ending at `end` (default: now).

    With `balance`, the last entry is a final bulk job or top-up that lands exactly on it, so a
    demo can end below the $1.00 warning line.
    """
    if transactions < 2:
        raise ValueError("a demo ledger needs at least 2 transactions")
    rng = random.Random(seed)
    end = (end or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    stamps = _timestamps(rng, transactions - 1, end)
    prices = ledger.current_pricing(at=stamps[0])
    lic = ledger.issue_licence(
        key, domain, email, "Pro", member_since=stamps[0] - timedelta(days=3)
    )
    running = 0
    threshold = to_units(TOP_UP_BELOW)
    rows: list[dict[str, Any]] = []
    for i, when in enumerate(stamps):
        if i == 0 or running < threshold:
            amount = TOP_UPS[0] if i == 0 else rng.choice(TOP_UPS)
            entry = _credit("purchase", amount, f"Credit purchase, invoice INV-{seed}-{i:07d}")
        elif rng.random() < 0.004:
            amount = Decimal(rng.randrange(10, 500)) / 100
            entry = _credit(
                "refund", amount, f"Refund for failed batch #{rng.randrange(1000, 99999)}"
            )
        else:
            entry = _usage(rng, prices)
        running += entry["amount_units"]
        rows.append({"licence_id": lic.id, "created_at": when, **entry})
        if len(rows) >= batch:
            ledger.add_entries(rows)
            rows = []
    target = running if balance is None else to_units(balance)
    gap = target - running
    final_at = max(stamps[-1] + timedelta(seconds=1), end - timedelta(minutes=5))
    if gap < 0:
        images = max(
            1, -gap * 10_000 // max(1, to_units(Decimal(prices["image_processing_per_10k"])))
        )
        entry = {
            "type": "usage",
            "service_type": "Image processing",
            "amount_units": gap,
            "description": f"Bulk backlog processing: {images} images",
            "images": images,
            "input_tokens": 0,
            "completion_tokens": 0,
            "cached_tokens": 0,
        }
    else:
        top_up = Decimal(gap) / UNITS_PER_DOLLAR if gap else Decimal("0.01")
        entry = _credit("purchase", top_up, f"Credit purchase, invoice INV-{seed}-final")
    rows.append({"licence_id": lic.id, "created_at": final_at, **entry})
    ledger.add_entries(rows)
    return DemoLicence(key, domain, email, len(stamps) + 1)
