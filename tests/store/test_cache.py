"""Pricing cache, last-good snapshots and admins: exact round trips and what clears return."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tests.store.conftest import DOMAIN, OTHER, T0, Clock
from tokenusage.licenseapi.models import Pricing, UserInfo, UserStats
from tokenusage.store import CacheStatus, Store

API = "https://comusthumbz.com/projects/api.php"

PRICING = Pricing(
    currency="USD",
    image_processing_per_10k=Decimal("0.50"),
    input_tokens_per_1m=Decimal("0.15"),
    completion_tokens_per_1m=Decimal("0.6"),
    cached_tokens_per_1m=Decimal("0.00000001"),
    effective_from=datetime(2026, 1, 1, tzinfo=UTC),
)


def test_pricing_round_trips_exactly_with_its_fetch_time(store: Store) -> None:
    fetched = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
    store.put_pricing(API, PRICING, fetched)

    cached = store.get_pricing(API)
    assert cached is not None
    assert cached.value == PRICING
    assert cached.value.cached_tokens_per_1m == Decimal("0.00000001")
    assert cached.fetched_at == fetched
    assert cached.fetched_at.tzinfo is not None
    assert cached.is_fresh(300, fetched + timedelta(seconds=299))
    assert not cached.is_fresh(timedelta(seconds=300), fetched + timedelta(seconds=300))
    assert cached.age(fetched + timedelta(minutes=2)) == timedelta(minutes=2)
    assert store.get_pricing("https://other.example/api.php") is None


def test_pricing_is_overwritten_and_cleared_per_key(store: Store, clock: Clock) -> None:
    assert store.pricing_status(API) == CacheStatus(present=False, fetched_at=None)
    store.put_pricing(API, PRICING)
    newer = PRICING.model_copy(update={"input_tokens_per_1m": Decimal("0.20")})
    later = clock.advance(400)
    store.put_pricing(API, newer)
    store.put_pricing("https://other.example/api.php", PRICING)

    cached = store.get_pricing(API)
    assert cached is not None and cached.value == newer
    assert store.pricing_status(API) == CacheStatus(present=True, fetched_at=later)
    assert store.pricing_status(API).age(later + timedelta(seconds=5)) == timedelta(seconds=5)
    assert store.clear_pricing(API) == 1
    assert store.clear_pricing(API) == 0
    assert store.get_pricing(API) is None
    assert store.clear_pricing() == 1


def test_snapshots_round_trip_exactly_per_domain_and_kind(store: Store, clock: Clock) -> None:
    info = UserInfo(
        email="ops@example.com",
        license_type="enterprise",
        domain="example.com",
        member_since="2024-02-29 10:00:00",
    )
    stats = UserStats(
        balance=Decimal("12345678901234.00000001"),
        credits_used=Decimal("-0.00000001"),
        tokens_used=10**12,
        api_calls=3,
        images_processed=0,
    )
    store.put_snapshot(DOMAIN, "user_info", info)
    store.put_snapshot(DOMAIN, "user_stats", stats, fetched_at=T0 - timedelta(days=1))

    got_info = store.get_snapshot(DOMAIN, "user_info", UserInfo)
    got_stats = store.get_snapshot(DOMAIN, "user_stats", UserStats)
    assert got_info is not None and got_info.value == info and got_info.fetched_at == clock.now
    assert got_stats is not None and got_stats.value == stats
    assert str(got_stats.value.balance) == "12345678901234.00000001"
    assert got_stats.fetched_at == T0 - timedelta(days=1)
    assert store.get_snapshot(OTHER, "user_info", UserInfo) is None

    richer = stats.model_copy(update={"balance": Decimal("1.5")})
    store.put_snapshot(DOMAIN, "user_stats", richer)
    again = store.get_snapshot(DOMAIN, "user_stats", UserStats)
    assert again is not None and again.value.balance == Decimal("1.5")


def test_a_snapshot_that_no_longer_validates_reads_as_absent(store: Store) -> None:
    info = UserInfo(email="a@b.c", license_type="pro", domain="b.c")
    store.put_snapshot(DOMAIN, "user_stats", info)
    assert store.get_snapshot(DOMAIN, "user_stats", UserStats) is None
    assert store.clear_snapshots(OTHER) == 0
    assert store.clear_snapshots(DOMAIN) == 1


def test_admins_are_created_then_updated(store: Store) -> None:
    assert store.get_admin_hash("admin") is None
    assert not store.admin_exists("admin")
    assert store.upsert_admin("admin", "$argon2id$v=19$first") is True
    assert store.upsert_admin("admin", "$argon2id$v=19$second") is False
    assert store.upsert_admin("ops", "$argon2id$v=19$ops") is True
    assert store.get_admin_hash("admin") == "$argon2id$v=19$second"
    assert store.admin_exists("ops")
    assert store.admin_names() == ["admin", "ops"]
