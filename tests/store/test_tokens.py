"""API token records on both engines: only hashes, unique names, last use written sparingly."""

from __future__ import annotations

from tests.store.conftest import Clock
from tokenusage.service.tokens import ApiTokens, TokenError, token_hash
from tokenusage.store import Store


def test_create_check_list_and_revoke(store: Store, clock: Clock) -> None:
    tokens = ApiTokens(store)
    secret = tokens.create("grafana")
    assert secret.startswith("tu_") and len(secret) > 40
    assert tokens.check(secret) == "grafana"
    assert tokens.check(secret + "x") is None
    assert tokens.check("not-even-a-token") is None
    [record] = tokens.listing()
    assert (record.name, record.created_at) == ("grafana", clock.now)
    assert record.last_used_at == clock.now
    tokens.revoke("grafana")
    assert tokens.check(secret) is None
    assert tokens.listing() == []


def test_only_the_hash_is_stored(store: Store) -> None:
    secret = ApiTokens(store).create("ci")
    with store._db.read() as conn:
        dumped = [tuple(r) for r in conn.exec_driver_sql("SELECT * FROM api_tokens")]
    assert secret not in repr(dumped) and token_hash(secret) in repr(dumped)


def test_names_are_unique_and_checked(store: Store) -> None:
    tokens = ApiTokens(store)
    tokens.create("a")
    for name in ("a", "", "two words", "x" * 151, "-dash"):
        try:
            tokens.create(name)
        except TokenError:
            continue
        raise AssertionError(f"{name!r} was accepted")
    try:
        tokens.revoke("nobody")
    except TokenError as exc:
        assert "nobody" in str(exc)
    else:
        raise AssertionError("revoking an unknown token succeeded")


def test_last_use_is_written_at_most_once_a_minute(store: Store, clock: Clock) -> None:
    tokens = ApiTokens(store)
    secret = tokens.create("a")
    tokens.check(secret)
    first = tokens.listing()[0].last_used_at
    clock.advance(30)
    tokens.check(secret)
    assert tokens.listing()[0].last_used_at == first
    clock.advance(31)
    tokens.check(secret)
    assert tokens.listing()[0].last_used_at == clock.now
