"""axe-core in the browser tests: the engine pinned in tests/a11y/package-lock.json (installed
by `npm ci --prefix tests/a11y`, which .ci/run does), injected into a page whose context
bypasses the CSP. The product never serves it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

AXE_JS = Path(__file__).resolve().parents[1] / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
AXE_VERSION = "4.14.1"

# Every rule axe runs by default (WCAG 2.x A and AA, and its best practices); results limited
# to what fails, so the report stays small on a 300-row page.
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary || ""})),
  }));
}"""

Violation = dict[str, Any]


def require_axe() -> Path:
    if not AXE_JS.is_file():
        pytest.fail(
            f"{AXE_JS} is missing: run `npm ci --prefix tests/a11y` (.ci/run does).",
            pytrace=False,
        )
    return AXE_JS


def inject(page: Page) -> None:
    """Load axe into the current document once; the context must have `bypass_csp=True`."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(require_axe()))
        version = page.evaluate("axe.version")
        assert version == AXE_VERSION, f"axe-core {version} loaded, {AXE_VERSION} pinned"


def run(page: Page) -> list[Violation]:
    inject(page)
    return list(page.evaluate(RUN_AXE))


def report(found: dict[str, list[Violation]], max_nodes: int = 12) -> str:
    """`{variant: violations}` as lines a person can act on: the rule, its impact and help,
    then each failing element's selector and why it fails, with the variants it fails in."""
    rules: dict[tuple[str, str, str], dict[tuple[str, str], list[str]]] = {}
    for variant, violations in found.items():
        for v in violations:
            nodes = rules.setdefault((v["id"], v["impact"], v["help"]), {})
            for node in v["nodes"]:
                why = " / ".join(line.strip() for line in node["summary"].splitlines()[1:3])
                nodes.setdefault((node["target"], why), []).append(variant)
    lines: list[str] = []
    for (rule, impact, help_), nodes in rules.items():
        lines.append(f"{rule} ({impact}): {help_}")
        for (target, why), variants in list(nodes.items())[:max_nodes]:
            lines.append(f"    {target}  — {why}")
            lines.append(f"        in: {', '.join(variants)}")
        if len(nodes) > max_nodes:
            lines.append(f"    … and {len(nodes) - max_nodes} more elements")
    return "\n".join(lines)
