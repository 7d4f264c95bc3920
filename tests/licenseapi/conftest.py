from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.licenseapi import faultserver


@pytest.fixture
def fault_server() -> Iterator[faultserver.FaultServer]:
    with faultserver.running() as server:
        yield server
