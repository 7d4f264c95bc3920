"""`tokenusage.service.admins`: the one owner of admin accounts, used by the web and the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from tokenusage.service import admins as accounts
from tokenusage.service.admins import (
    AdminError,
    AdminExists,
    Admins,
    NoSuchAdmin,
    WeakPassword,
    fingerprint,
    needs_rehash,
)
from tokenusage.store import Store, StoreError

PASSWORD = "a long enough passphrase"


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(
        accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    )
    accounts._dummy_hash.cache_clear()
    yield
    accounts._dummy_hash.cache_clear()


@pytest.fixture
def admins(tmp_path: Path) -> Iterator[Admins]:
    with Store.open(f"sqlite:///{tmp_path / 'store.sqlite3'}") as store:
        yield Admins(store)


def test_create_and_sign_in(admins: Admins) -> None:
    assert not admins.any() and admins.names() == []
    assert admins.create("  alice ", PASSWORD) == "alice"
    assert admins.names() == ["alice"] and admins.exists("alice") and admins.any()
    stored = admins.get_hash("alice")
    assert stored is not None and stored.startswith("$argon2id$")
    assert admins.sign_in("alice", PASSWORD) == stored
    assert admins.sign_in("alice", "wrong password!") is None
    assert admins.sign_in("bob", PASSWORD) is None
    assert admins.sign_in("", PASSWORD) is None


def test_create_and_set_password_refuse_the_wrong_one(admins: Admins) -> None:
    with pytest.raises(NoSuchAdmin):
        admins.set_password("alice", PASSWORD)
    admins.create("alice", PASSWORD)
    with pytest.raises(AdminExists):
        admins.create("alice", PASSWORD)
    before = admins.get_hash("alice")
    admins.set_password("alice", "another passphrase")
    after = admins.get_hash("alice")
    assert after is not None and after != before
    assert before is not None and fingerprint(after) != fingerprint(before)
    assert admins.sign_in("alice", "another passphrase") == after


def test_unusable_names_and_passwords(admins: Admins) -> None:
    with pytest.raises(WeakPassword):
        admins.create("alice", "short")
    with pytest.raises(AdminError):
        admins.create("   ", PASSWORD)
    assert admins.names() == []


def test_an_old_hash_is_strengthened_at_sign_in(admins: Admins) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    admins.store.upsert_admin("alice", weak)
    stored = admins.sign_in("alice", PASSWORD)
    assert stored is not None and stored != weak and not needs_rehash(stored)
    assert admins.get_hash("alice") == stored


def test_an_unreachable_store_is_an_error_not_no_admin(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'gone' / 'store.sqlite3'}")
    store.close()
    (tmp_path / "gone" / "store.sqlite3").unlink()
    (tmp_path / "gone").rmdir()
    (tmp_path / "gone").write_text("not a directory")
    with pytest.raises(StoreError):
        Admins(store).sign_in("alice", PASSWORD)
