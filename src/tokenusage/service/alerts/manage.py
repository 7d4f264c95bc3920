"""Alert rules as the CLI and the Alerts page manage them: checked, then kept in the store."""

from __future__ import annotations

from tokenusage.service.alerts.rules import (
    AlertError,
    check_name,
    parse_channels,
    parse_threshold,
)
from tokenusage.store import Store
from tokenusage.store.alerts import DeliveryRecord, RuleRecord


class Alerts:
    def __init__(self, store: Store) -> None:
        self.store = store

    def add(
        self, name: str, kind: str, threshold: str, emails: list[str], webhooks: list[str]
    ) -> RuleRecord:
        name = check_name(name)
        value = parse_threshold(kind, threshold)
        channels = [c.as_json() for c in parse_channels(emails, webhooks)]
        if not self.store.add_alert_rule(name, kind, format(value, "f"), channels):
            raise AlertError(f"an alert named {name!r} exists already")
        found = self.store.alert_rule(name)
        assert found is not None
        return found

    def listing(self) -> list[RuleRecord]:
        return self.store.alert_rules()

    def remove(self, name: str) -> None:
        if not self.store.remove_alert_rule(name.strip()):
            raise AlertError(f"there is no alert named {name.strip()!r}")

    def set_enabled(self, name: str, enabled: bool) -> None:
        if not self.store.enable_alert_rule(name.strip(), enabled):
            raise AlertError(f"there is no alert named {name.strip()!r}")

    def deliveries(self, limit: int = 100) -> list[DeliveryRecord]:
        return self.store.alert_deliveries(limit)
