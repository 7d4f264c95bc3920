"""Admin accounts: who may sign in to the dashboard, with Argon2id password hashes.

The one owner of admins that the web sign-in and the CLI's `admin create|set-password` both
use. Hashes are argon2-cffi's defaults (RFC 9106 low-memory profile); hashing and checking are
CPU-heavy on purpose, so async callers run them in a worker thread. Every store access may
raise `StoreError` (the store is unreachable): callers decide what that means, it is never
mistaken for "no such admin".
"""

from __future__ import annotations

import functools
import hashlib
import logging

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tokenusage.store import Store, StoreError

log = logging.getLogger(__name__)
MIN_PASSWORD = 10
MAX_NAME = 150
_HASHER = PasswordHasher()


class AdminError(Exception):
    """A request about admin accounts that cannot be done; the message says why."""


class AdminExists(AdminError):
    pass


class NoSuchAdmin(AdminError):
    pass


class WeakPassword(AdminError):
    pass


def hash_password(password: str) -> str:
    """The encoded Argon2id hash to store (salt and parameters included)."""
    if not password:
        raise WeakPassword("the password must not be empty")
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches; False for a wrong password or a malformed hash."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """The hash was made with weaker parameters than today's; re-hash on the next sign-in."""
    try:
        return _HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


def verify_unknown_user(password: str) -> None:
    """Spend the time of one verification, so a missing user answers as slowly as a known one."""
    verify_password(_dummy_hash(), password)


@functools.cache
def _dummy_hash() -> str:
    return _HASHER.hash("not a password anyone has")


def fingerprint(password_hash: str) -> str:
    """A short digest of the stored hash, kept in the session: changing the password (or
    deleting the admin) changes it and so ends every session signed in with the old one."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def check_password(password: str) -> None:
    """`WeakPassword` unless the password is long enough for an admin account."""
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(f"the password must have at least {MIN_PASSWORD} characters")


def check_name(name: str) -> str:
    """The name as stored (surrounding blanks removed); `AdminError` when unusable."""
    cleaned = name.strip()
    if not cleaned or len(cleaned) > MAX_NAME:
        raise AdminError(f"an admin name has 1 to {MAX_NAME} characters")
    return cleaned


class Admins:
    """The admin accounts kept in `store`. Synchronous, like `Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def names(self) -> list[str]:
        return self.store.admin_names()

    def any(self) -> bool:
        return bool(self.store.admin_names())

    def exists(self, name: str) -> bool:
        return self.store.admin_exists(name)

    def get_hash(self, name: str) -> str | None:
        """The stored hash, or None when there is no such admin."""
        return self.store.get_admin_hash(name)

    def create(self, name: str, password: str) -> str:
        """A new admin; `AdminExists` if the name is taken. Returns the stored name."""
        return self._save(name, password, must_exist=False)

    def set_password(self, name: str, password: str) -> str:
        """A new password for an existing admin; `NoSuchAdmin` otherwise."""
        return self._save(name, password, must_exist=True)

    def create_or_set_password(self, name: str, password: str) -> str:
        return self._save(name, password, must_exist=None)

    def _save(self, name: str, password: str, *, must_exist: bool | None) -> str:
        name = check_name(name)
        check_password(password)
        if must_exist is not None:
            exists = self.store.admin_exists(name)
            if must_exist and not exists:
                raise NoSuchAdmin(f"no admin named {name!r} (use create)")
            if exists and not must_exist:
                raise AdminExists(f"admin {name!r} exists already (use set-password)")
        if not self.store.upsert_admin(name, hash_password(password)):
            # A new password ends every session of the admin, on every replica.
            self.store.delete_admin_sessions(name)
        return name

    def sign_in(self, name: str, password: str) -> str | None:
        """The admin's hash when `password` is right (re-hashed first if its parameters are
        outdated), else None; an unknown name costs the time of a known one.

        Raises `StoreError` when the admin cannot be looked up.
        """
        stored = self.store.get_admin_hash(name) if name else None
        if stored is None:
            verify_unknown_user(password)
            return None
        if not verify_password(stored, password):
            return None
        if needs_rehash(stored):
            stronger = hash_password(password)
            try:
                self.store.upsert_admin(name, stronger)
            except StoreError as exc:  # only costs speed: the old hash still works
                log.warning("could not store the re-hashed password of %r: %s", name, exc)
            else:
                stored = stronger
        return stored
