"""Admin passwords: Argon2id hashes (argon2-cffi defaults, RFC 9106 low-memory profile).

The CLI's `admin create` / `admin set-password` hash with `hash_password`; the sign-in form
checks with `verify_password`. Both are CPU-heavy on purpose, so the web layer calls them in a
worker thread.
"""

from __future__ import annotations

import functools
import hashlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """The encoded Argon2id hash to store (salt and parameters included)."""
    if not password:
        raise ValueError("the password must not be empty")
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
