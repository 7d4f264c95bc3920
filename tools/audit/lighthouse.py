"""`make audit`: Lighthouse 12.2.3 (pinned in tools/audit/package-lock.json) on Debian's
Chromium, desktop and mobile presets, against a dashboard this script starts itself: 1,200
demo transactions, a low balance, signed in (the session cookie goes in `--extra-headers`).
Audits the overview and a deep history page, prints the scores per preset and the audits that
fail, and exits 1 when a target is missed: accessibility and best practices 100 on both
presets, performance at least 95 on mobile. Not part of `make test`."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.browser.pages import CHROMIUM, LAUNCH_ARGS  # noqa: E402
from tests.browser.states import lower_balance  # noqa: E402
from tests.fixtures import running_license_server  # noqa: E402
from tests.support.dashboard import running_dashboard, sign_in, wait_synced  # noqa: E402

from tokenusage.web.sessions import COOKIE_NAME  # noqa: E402

LIGHTHOUSE = Path(__file__).resolve().parent / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices")
PAGES = {"overview": "/", "deep-history": "/?page=4"}
PRESETS = ("desktop", "mobile")
# (preset, category): the least score that passes.
TARGETS = {
    ("desktop", "accessibility"): 100,
    ("mobile", "accessibility"): 100,
    ("desktop", "best-practices"): 100,
    ("mobile", "best-practices"): 100,
    ("mobile", "performance"): 95,
}
SILENT_MODES = {"manual", "notApplicable", "informative", "error"}


def lighthouse(url: str, preset: str, cookie: str, out: Path) -> dict[str, Any]:
    if not LIGHTHOUSE.is_file():
        sys.exit(f"{LIGHTHOUSE} is missing: run `npm ci --prefix tools/audit` (make audit does)")
    args = [
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={out}",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={' '.join(LAUNCH_ARGS)}",
        f"--extra-headers={json.dumps({'Cookie': cookie})}",
    ]
    if preset == "desktop":
        args.append("--preset=desktop")
    env = os.environ | {"CHROME_PATH": str(CHROMIUM)}
    subprocess.run(args, check=True, env=env, timeout=300)
    return dict(json.loads(out.read_text()))


def failing(report: dict[str, Any]) -> dict[str, list[str]]:
    """Per category, the audits that count and did not pass: `id (score)`."""
    out: dict[str, list[str]] = {}
    for name in CATEGORIES:
        for ref in report["categories"][name]["auditRefs"]:
            audit = report["audits"][ref["id"]]
            score = audit.get("score")
            if audit.get("scoreDisplayMode") in SILENT_MODES or score is None or score >= 1:
                continue
            shown = f", {audit['displayValue']}" if audit.get("displayValue") else ""
            out.setdefault(name, []).append(f"{ref['id']} ({score:.2f}{shown})")
    return out


def scores(report: dict[str, Any]) -> dict[str, int]:
    return {c: round(100 * (report["categories"][c]["score"] or 0)) for c in CATEGORIES}


def audit(pages: dict[str, str], presets: tuple[str, ...]) -> int:
    missed = []
    with tempfile.TemporaryDirectory(prefix="tokenusage-audit-") as tmp:
        root = Path(tmp)
        with running_license_server(f"sqlite:///{root}/ls.sqlite3", 1200) as srv:
            lower_balance(srv)
            with running_dashboard(srv, root / "dash", page_size=300) as dash:
                with dash.client() as http:
                    assert sign_in(http).status_code == 303, "sign-in failed"
                    http.get("/").raise_for_status()
                    wait_synced(dash)
                    for path in pages.values():
                        http.get(path).raise_for_status()
                    cookie = f"{COOKIE_NAME}={http.cookies[COOKIE_NAME]}"
                for page, path in pages.items():
                    for preset in presets:
                        report = lighthouse(dash.url + path, preset, cookie, root / "lh.json")
                        got = scores(report)
                        print(
                            f"{page:13} {preset:7} "
                            + "  ".join(f"{c} {got[c]:3}" for c in CATEGORIES),
                            flush=True,
                        )
                        for category, ids in failing(report).items():
                            print(f"    {category}: {', '.join(ids)}", flush=True)
                        missed += [
                            f"{page} {preset} {c} {got[c]} < {least}"
                            for (p, c), least in TARGETS.items()
                            if p == preset and got[c] < least
                        ]
    if missed:
        print("targets missed:\n  " + "\n  ".join(missed))
        return 1
    print("all targets met")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", choices=sorted(PAGES), action="append")
    parser.add_argument("--preset", choices=PRESETS, action="append")
    args = parser.parse_args()
    pages = {p: PAGES[p] for p in args.page} if args.page else PAGES
    return audit(pages, tuple(args.preset or PRESETS))


if __name__ == "__main__":
    sys.exit(main())
