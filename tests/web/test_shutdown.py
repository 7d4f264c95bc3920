"""A shutdown waits `shutdown_grace` seconds for the requests in flight, then cuts them: a
view waiting for a License API that does not answer cannot keep the server up."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx

from tests.fixtures import RunningLicenseServer
from tests.support.dashboard import running_dashboard
from tests.support.faultproxy import Forward, fault_proxy, on
from tests.web.support import signed_in


def test_a_request_in_flight_delays_the_shutdown_only_by_the_grace(
    license_server: RunningLicenseServer, tmp_path: Path
) -> None:
    srv, never = license_server, threading.Event()
    outcome: list[object] = []
    with fault_proxy(srv.base_url) as proxy:
        proxy.rules.append(on("credits/history", Forward(hold=never)))
        try:
            with running_dashboard(
                srv, tmp_path, api_url=proxy.url, timeout=120, shutdown_grace=1
            ) as dash:

                def view() -> None:
                    with signed_in(dash) as http:
                        try:
                            outcome.append(http.get("/").status_code)
                        except httpx.HTTPError as exc:
                            outcome.append(exc)

                viewer = threading.Thread(target=view)
                viewer.start()
                deadline = time.monotonic() + 30
                while not proxy.calls["credits/history"]:
                    assert time.monotonic() < deadline, "the view never asked for history"
                    time.sleep(0.05)
                stopping = time.monotonic()
            # running_dashboard's exit stopped the server (it raises if that takes 15 s)
            assert time.monotonic() - stopping < 8
            viewer.join(timeout=10)
            # uvicorn cancels it: a 500 (uvicorn's own) if nothing was sent yet, or a cut
            assert outcome and (outcome[0] == 500 or isinstance(outcome[0], httpx.HTTPError))
        finally:
            never.set()
