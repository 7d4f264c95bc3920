"""Admins, sessions, the sign-in throttle and leases: the state every replica of the
dashboard must agree on, kept in the store (a base of `Store`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from tokenusage.store import admins, alerts, leases, sessions, throttle, tokens
from tokenusage.store.alerts import DeliveryRecord, RuleRecord
from tokenusage.store.engine import Database
from tokenusage.store.sessions import SessionRecord
from tokenusage.store.tokens import TOUCH_EVERY, TokenRecord


class SharedState:
    _db: Database
    _clock: Callable[[], datetime]

    # -- admins ----------------------------------------------------------------------------

    def get_admin_hash(self, name: str) -> str | None:
        with self._db.read() as conn:
            return admins.get_hash(conn, name)

    def admin_exists(self, name: str) -> bool:
        return self.get_admin_hash(name) is not None

    def upsert_admin(self, name: str, password_hash: str) -> bool:
        """Create the admin or set a new password hash; True when the admin was created."""
        with self._db.write() as conn:
            return admins.upsert_admin(conn, name, password_hash, self._clock())

    def admin_names(self) -> list[str]:
        with self._db.read() as conn:
            return admins.names(conn)

    # -- shared by every replica: sessions, sign-in throttle, leases -----------------------

    def create_session(self, sid_hash: str, admin: str, seal: str) -> None:
        with self._db.write(counted=False) as conn:
            sessions.create(conn, sid_hash, admin, seal, self._clock())

    def get_session(self, sid_hash: str) -> SessionRecord | None:
        with self._db.read() as conn:
            return sessions.get(conn, sid_hash)

    def touch_session(self, sid_hash: str) -> None:
        with self._db.write(counted=False) as conn:
            sessions.touch(conn, sid_hash, self._clock())

    def delete_session(self, sid_hash: str) -> int:
        with self._db.write(counted=False) as conn:
            return sessions.remove(conn, sid_hash)

    def delete_admin_sessions(self, admin: str) -> int:
        """End every session of `admin` (sign out everywhere, a new password)."""
        with self._db.write(counted=False) as conn:
            return sessions.remove_admin(conn, admin)

    def purge_sessions(self, idle: timedelta, lifetime: timedelta) -> int:
        now = self._clock()
        with self._db.write(counted=False) as conn:
            return sessions.purge(conn, now - idle, now - lifetime)

    def throttle_attempt(self, key: str, limit: int, window: float) -> float:
        """0.0 when a sign-in attempt may go ahead (counted as failed until
        `throttle_clear`), else the seconds to wait; see `store.throttle`."""
        now = self._clock().timestamp()
        with self._db.write(counted=False) as conn:
            throttle.purge(conn, now)
            return throttle.attempt(conn, key, now, limit, window)

    def throttle_clear(self, key: str) -> None:
        with self._db.write(counted=False) as conn:
            throttle.clear(conn, key)

    def acquire_lease(self, name: str, holder: str, ttl: timedelta) -> bool:
        with self._db.write(counted=False) as conn:
            return leases.acquire(conn, name, holder, self._clock(), ttl)

    def renew_lease(self, name: str, holder: str, ttl: timedelta) -> bool:
        with self._db.write(counted=False) as conn:
            return leases.renew(conn, name, holder, self._clock(), ttl)

    def release_lease(self, name: str, holder: str) -> None:
        with self._db.write(counted=False) as conn:
            leases.release(conn, name, holder)

    def lease_holder(self, name: str) -> str | None:
        with self._db.read() as conn:
            return leases.holder(conn, name, self._clock())

    # -- API tokens ------------------------------------------------------------------------

    def create_token(self, name: str, token_hash: str) -> bool:
        """False when a token of that name exists already."""
        with self._db.write(counted=False) as conn:
            return tokens.create(conn, name, token_hash, self._clock())

    def list_tokens(self) -> list[TokenRecord]:
        with self._db.read() as conn:
            return tokens.listing(conn)

    def revoke_token(self, name: str) -> bool:
        with self._db.write(counted=False) as conn:
            return tokens.revoke(conn, name)

    def check_token(self, token_hash: str) -> str | None:
        """The name of the token with that hash, None when there is none (or it was
        revoked); its last use is recorded, at most once a minute."""
        with self._db.read() as conn:
            found = tokens.find(conn, token_hash)
        if found is None:
            return None
        name, last = found
        now = self._clock()
        if last is None or now - last >= TOUCH_EVERY:
            with self._db.write(counted=False) as conn:
                tokens.touch(conn, token_hash, now)
        return name

    # -- alerts ----------------------------------------------------------------------------

    def add_alert_rule(
        self, name: str, kind: str, threshold: str, channels: list[dict[str, str]]
    ) -> bool:
        with self._db.write(counted=False) as conn:
            return alerts.add_rule(conn, name, kind, threshold, channels, self._clock())

    def alert_rules(self) -> list[RuleRecord]:
        with self._db.read() as conn:
            return alerts.rules(conn)

    def alert_rule(self, name: str) -> RuleRecord | None:
        with self._db.read() as conn:
            return alerts.rule(conn, name)

    def remove_alert_rule(self, name: str) -> bool:
        with self._db.write(counted=False) as conn:
            return alerts.remove_rule(conn, name)

    def enable_alert_rule(self, name: str, enabled: bool) -> bool:
        with self._db.write(counted=False) as conn:
            return alerts.set_enabled(conn, name, enabled, self._clock())

    def fire_alert(
        self,
        name: str,
        value: str,
        purchase_id: int | None,
        deliveries: list[tuple[dict[str, str], dict[str, Any]]],
    ) -> bool:
        """armed -> fired with its deliveries queued, atomically; False when not armed."""
        with self._db.write(counted=False) as conn:
            return alerts.fire(conn, name, value, purchase_id, deliveries, self._clock())

    def rearm_alert(self, name: str, value: str) -> bool:
        with self._db.write(counted=False) as conn:
            return alerts.rearm(conn, name, value, self._clock())

    def queue_alert_test(
        self, name: str, deliveries: list[tuple[dict[str, str], dict[str, Any]]]
    ) -> list[int]:
        with self._db.write(counted=False) as conn:
            return alerts.queue(conn, name, deliveries, test=True, now=self._clock())

    def claim_deliveries(
        self, holder: str, stale: timedelta, only: list[int] | None = None
    ) -> list[DeliveryRecord]:
        with self._db.write(counted=False) as conn:
            return alerts.claim(conn, holder, self._clock(), stale, only)

    def finish_delivery(
        self, id_: int, holder: str, state: str, attempts: int, detail: str
    ) -> None:
        with self._db.write(counted=False) as conn:
            alerts.finish(conn, id_, holder, state, attempts, detail, self._clock())
            alerts.trim(conn)

    def alert_deliveries(self, limit: int = 100) -> list[DeliveryRecord]:
        with self._db.read() as conn:
            return alerts.deliveries(conn, limit)

    def alert_delivery(self, id_: int) -> DeliveryRecord | None:
        with self._db.read() as conn:
            return alerts.delivery(conn, id_)
