"""A deterministic, realistic demo ledger.

Same seed and end time, same ledger. Usage follows a daily and weekly rhythm, is charged at the
price in force, and names real providers and models so the dashboard's branding has work to do.
Purchases top the balance up whenever it runs low, so it stays mostly positive.

Entries are generated as tuples in time order and written in batches through the ledger's bulk
path, so 10M entries seed in about two minutes; what grows with the ledger in memory is the
sorted list of entry times (about 80 bytes an entry at the peak: 0.8 GB for 10M).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tokenusage.licenseserver.entries import EntryRow
from tokenusage.licenseserver.ledger import Ledger
from tokenusage.licenseserver.prices import UnitCost
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


def _timestamps(rng: random.Random, n: int, end: datetime) -> tuple[datetime, list[int]]:
    """The start of the period and `n` sorted second offsets from it, all before `end`."""
    days = max(30, min(730, n // 250))
    start = (end - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    day_weights = [WEEKDAY_WEIGHTS[(start + timedelta(days=d)).weekday()] for d in range(days)]
    picked_days = rng.choices(range(days), weights=day_weights, k=n)
    picked_hours = rng.choices(range(24), weights=HOUR_WEIGHTS, k=n)
    offsets = [
        d * 86_400 + h * 3600 + rng.randrange(3600)
        for d, h in zip(picked_days, picked_hours, strict=True)
    ]
    del picked_days, picked_hours
    offsets.sort()
    limit = (end - start) // timedelta(seconds=1)
    while offsets and offsets[-1] >= limit:
        offsets.pop()
    return start, offsets or [limit - 1]


def _usage(rng: random.Random, cost: UnitCost) -> tuple[str, str, int, int, int, int, int, str]:
    """(type, service, amount units, input, completion, cached tokens, images, description)."""
    n = rng.randrange(1000, 99999)
    if rng.random() < 0.35:
        service, text = rng.choice(IMAGE_SERVICES)
        k = rng.choice((1, 4, 12, 40, 120, 480))
        inputs = completions = cached = 0
        images = k
    else:
        service, text = rng.choice(LLM_SERVICES)
        k = rng.randrange(2, 60)
        inputs = rng.randrange(150, 9000)
        completions = rng.randrange(40, 2500)
        cached = rng.choice((0, 0, 512, 1024, 4096))
        images = 0
    units = -cost(inputs, completions, cached, images)
    return ("usage", service, units, inputs, completions, cached, images, text.format(n=n, k=k))


def _credit(
    kind: str, amount: Decimal, description: str
) -> tuple[str, str, int, int, int, int, int, str]:
    service = "Credits" if kind == "purchase" else "Refund"
    return (kind, service, to_units(amount), 0, 0, 0, 0, description)


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
    start, offsets = _timestamps(rng, transactions - 1, end)
    first = start + timedelta(seconds=offsets[0])
    prices = ledger.current_pricing(at=first)
    cost = UnitCost(prices)
    lic = ledger.issue_licence(key, domain, email, "Pro", member_since=first - timedelta(days=3))
    running = 0
    threshold = to_units(TOP_UP_BELOW)
    rows: list[EntryRow] = []
    for i, offset in enumerate(offsets):
        if i == 0 or running < threshold:
            amount = TOP_UPS[0] if i == 0 else rng.choice(TOP_UPS)
            entry = _credit("purchase", amount, f"Credit purchase, invoice INV-{seed}-{i:07d}")
        elif rng.random() < 0.004:
            amount = Decimal(rng.randrange(10, 500)) / 100
            entry = _credit(
                "refund", amount, f"Refund for failed batch #{rng.randrange(1000, 99999)}"
            )
        else:
            entry = _usage(rng, cost)
        running += entry[2]
        rows.append((lic.id, start + timedelta(seconds=offset), *entry))
        if len(rows) >= batch:
            ledger.add_entry_rows(rows)
            rows = []
    target = running if balance is None else to_units(balance)
    gap = target - running
    last = start + timedelta(seconds=offsets[-1])
    final_at = max(last + timedelta(seconds=1), end - timedelta(minutes=5))
    if gap < 0:
        images = max(1, -gap * 10_000 // max(1, cost.per_million[0] // 100))
        entry = (
            "usage",
            "Image processing",
            gap,
            0,
            0,
            0,
            images,
            f"Bulk backlog processing: {images} images",
        )
    else:
        top_up = Decimal(gap) / UNITS_PER_DOLLAR if gap else Decimal("0.01")
        entry = _credit("purchase", top_up, f"Credit purchase, invoice INV-{seed}-final")
    rows.append((lic.id, final_at, *entry))
    ledger.add_entry_rows(rows)
    return DemoLicence(key, domain, email, len(offsets) + 1)
