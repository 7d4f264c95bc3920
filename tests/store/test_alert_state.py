"""Alert state on both engines: a crossing fires once however many checkers see it, and a
queued delivery is claimed by one of them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from tests.store.conftest import Clock
from tokenusage.store import Store

MAIL = {"type": "email", "to": "ops@example.com"}


def test_fire_rearm_and_fire_again(store: Store, clock: Clock) -> None:
    assert store.add_alert_rule("low", "balance_below", "10", [MAIL])
    assert not store.add_alert_rule("low", "balance_below", "5", [MAIL])
    assert store.fire_alert("low", "9", 7, [(MAIL, {"text": "t"})])
    assert not store.fire_alert("low", "8", 7, [(MAIL, {"text": "t"})]), "fired already"
    rule = store.alert_rule("low")
    assert rule is not None and (rule.state, rule.value, rule.purchase_id) == ("fired", "9", 7)
    assert store.rearm_alert("low", "12")
    assert not store.rearm_alert("low", "12")
    assert store.fire_alert("low", "9", None, [(MAIL, {"text": "t"})])
    assert len(store.alert_deliveries()) == 2


def test_a_disabled_rule_does_not_fire(store: Store) -> None:
    store.add_alert_rule("low", "balance_below", "10", [MAIL])
    assert store.enable_alert_rule("low", False)
    assert not store.fire_alert("low", "9", None, [(MAIL, {})])
    assert store.enable_alert_rule("low", True)
    assert store.fire_alert("low", "9", None, [(MAIL, {})])
    assert store.remove_alert_rule("low") and store.alert_rules() == []


def test_parallel_checkers_fire_and_claim_once(db_url: str) -> None:
    stores = [Store.open(db_url) for _ in range(2)]  # two replicas
    try:
        stores[0].add_alert_rule("low", "balance_below", "10", [MAIL, MAIL])
        with ThreadPoolExecutor(8) as pool:
            fired = list(
                pool.map(
                    lambda i: stores[i % 2].fire_alert("low", "9", None, [(MAIL, {}), (MAIL, {})]),
                    range(16),
                )
            )
            assert fired.count(True) == 1
            claims = list(
                pool.map(
                    lambda i: stores[i % 2].claim_deliveries(f"h{i}", timedelta(minutes=10)),
                    range(16),
                )
            )
        claimed = [d.id for batch in claims for d in batch]
        assert len(claimed) == len(set(claimed)) == 2
    finally:
        for s in stores:
            s.close()


def test_a_dead_claimers_deliveries_are_claimed_again(store: Store, clock: Clock) -> None:
    store.add_alert_rule("low", "balance_below", "10", [MAIL])
    store.fire_alert("low", "9", None, [(MAIL, {})])
    [first] = store.claim_deliveries("a", timedelta(minutes=10))
    assert store.claim_deliveries("b", timedelta(minutes=10)) == []
    clock.advance(601)
    [again] = store.claim_deliveries("b", timedelta(minutes=10))
    assert again.id == first.id
    store.finish_delivery(first.id, "a", "sent", 1, "")  # the old claimer no longer counts
    store.finish_delivery(again.id, "b", "sent", 1, "")
    [done] = store.alert_deliveries()
    assert (done.state, done.attempts) == ("sent", 1)
