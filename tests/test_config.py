"""Settings that the store and the License API client read."""

from __future__ import annotations

import pytest

from tokenusage.config import ConfigError, load_settings


def test_max_response_bytes_defaults_to_64_mib_and_has_a_floor() -> None:
    assert load_settings().max_response_bytes == 64 * 1024 * 1024
    assert load_settings(max_response_bytes=1024).max_response_bytes == 1024
    with pytest.raises(ConfigError, match="max_response_bytes"):
        load_settings(max_response_bytes=1023)


def test_max_response_bytes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKENUSAGE_MAX_RESPONSE_BYTES", "2097152")
    assert load_settings().max_response_bytes == 2 * 1024 * 1024
