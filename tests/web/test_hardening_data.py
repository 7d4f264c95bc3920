"""What the dashboard keeps and hands out: files at rest (0700 folders, 0600 databases), CSV
cells that no spreadsheet evaluates, and the licence key masked in every spelling."""

from __future__ import annotations

import csv
import io
import logging
import os
import shutil
import stat
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.fixtures import RunningLicenseServer, running_license_server
from tests.support.dashboard import running_dashboard
from tests.support.faultproxy import Forward, fault_proxy, on
from tests.usage.test_export import DISGUISED_FORMULAS
from tests.web.support import signed_in
from tokenusage.config import load_settings
from tokenusage.licenseserver.ledger import Ledger
from tokenusage.store import Store
from tokenusage.store.engine import make_engine
from tokenusage.usage.export import BOM
from tokenusage.web.sessions import session_secret


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- 9. files at rest ----------------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o000])
def test_data_folders_are_0700_and_databases_0600_whatever_the_umask(
    tmp_path: Path, umask: int
) -> None:
    data = tmp_path / "srv" / "tokenusage"
    ledger_file = tmp_path / "api" / "ledger.sqlite3"
    previous = os.umask(umask)
    try:
        settings = load_settings(data_dir=data)
        with Store.open(settings.store_url) as store:
            store.upsert_admin("admin", "not a real hash")  # the WAL files exist now
            session_secret(settings)
            engine = make_engine(f"sqlite:///{ledger_file}")
            try:
                Ledger(engine).create_schema()
                files = sorted(data.iterdir()) + sorted(ledger_file.parent.iterdir())
                modes = {p.name: mode(p) for p in files}
            finally:
                engine.dispose()
    finally:
        os.umask(previous)
    for folder in (tmp_path / "srv", data, ledger_file.parent):
        assert mode(folder) == 0o700, folder
    assert {"tokenusage.sqlite3", "tokenusage.sqlite3-wal", "session_secret"} <= set(modes)
    assert {"ledger.sqlite3"} <= set(modes)
    assert all(m == 0o600 for m in modes.values()), {k: oct(m) for k, m in modes.items()}


def test_an_existing_store_readable_by_others_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"
    settings = load_settings(data_dir=data)
    Store.open(settings.store_url).close()
    shared = tmp_path / "shared"
    shutil.copytree(data, shared)
    shared.chmod(0o755)
    (shared / "tokenusage.sqlite3").chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="tokenusage.store.files"):
        Store.open(load_settings(data_dir=shared).store_url).close()
        Store.open(settings.store_url).close()  # a private one says nothing
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "tokenusage.sqlite3 is mode 0644" in warning and "is mode 0755" in warning
    assert f"chmod 700 {shared.resolve()}" in warning
    assert mode(shared / "tokenusage.sqlite3") == 0o644, "an existing store is not changed"


# -- 10. CSV formulas, through the download --------------------------------------------------


@pytest.fixture
def disguised(tmp_path: Path) -> Iterator[RunningLicenseServer]:
    """A licence whose ledger describes its entries with disguised formulas."""
    with running_license_server(f"sqlite:///{tmp_path}/ls.sqlite3") as srv:
        for text in DISGUISED_FORMULAS:
            srv.ledger.add_entry(
                srv.licence_id, "usage", Decimal("-0.5"), service_type=text, description=text
            )
        yield srv


def test_no_downloaded_text_cell_starts_a_formula(
    disguised: RunningLicenseServer, tmp_path: Path
) -> None:
    with (
        running_dashboard(disguised, tmp_path / "dash") as dash,
        signed_in(dash) as http,
    ):
        answer = http.get("/download.csv")
    assert answer.status_code == 200, answer.text[:300]
    rows = list(csv.reader(io.StringIO(answer.text.removeprefix(BOM), newline="")))[1:]
    described = sorted((row[2], row[6]) for row in rows)
    expected = sorted(("'" + t, "'" + t) for t in DISGUISED_FORMULAS)
    assert described == expected


# -- 11. the licence key ---------------------------------------------------------------------


def spellings(key: str) -> list[str]:
    everything = "".join(f"%{b:02X}" for b in key.encode())
    return [key, quote(key, safe=""), key.replace("-", "%2D"), key.replace("-", "%2d"), everything]


def test_the_key_is_masked_on_every_page_and_in_the_csv(tmp_path: Path) -> None:
    with running_license_server(f"sqlite:///{tmp_path}/ls.sqlite3") as srv:
        key = srv.key
        srv.ledger.add_entry(
            srv.licence_id, "purchase", Decimal(10), description=f"Top-up for licence {key}"
        )
        echo = {"note": key.replace("-", "%2D"), "raw": f"key={key}"}
        with fault_proxy(srv.base_url) as proxy:
            proxy.rules.append(on("user/info", Forward(edit=lambda body: body | echo)))
            with (
                running_dashboard(srv, tmp_path / "dash", api_url=proxy.url) as dash,
                signed_in(dash) as http,
            ):
                pages = {
                    path: http.get(path).text
                    for path in ("/", "/debug", "/?debug=1", "/download.csv")
                }
    masked = f"{key[:4]}…{key[-4:]}"
    assert "Top-up for licence " + masked in pages["/"]
    assert "%2D" in key.replace("-", "%2D") and masked in pages["/debug"]
    for path, text in pages.items():
        for spelling in spellings(key):
            assert spelling not in text, (path, spelling)
            assert spelling.lower() not in text.lower(), (path, spelling)
