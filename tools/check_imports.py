"""Fail when the package's import graph has a cycle or breaks the layering of DESIGN.md.

Every import counts, including those under `if TYPE_CHECKING:` and inside functions: a cycle
hidden from the interpreter is still a cycle for the reader. Run by `make lint`.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "src"
PACKAGE = "tokenusage"
# Who may not import whom (prefixes of module names).
FORBIDDEN = {
    "tokenusage.usage": ("tokenusage.",),
    "tokenusage.store": ("tokenusage.service", "tokenusage.web", "tokenusage.cli"),
    "tokenusage.licenseapi": (
        "tokenusage.service",
        "tokenusage.web",
        "tokenusage.cli",
        "tokenusage.store",
    ),
    "tokenusage.service": ("tokenusage.web", "tokenusage.cli"),
    "tokenusage.web": ("tokenusage.cli", "tokenusage.licenseserver"),
}
ALLOWED_INSIDE = {"tokenusage.usage": ("tokenusage.usage",)}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, name: str, modules: set[str]) -> set[str]:
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in modules else base)
    return {m for m in found if m == PACKAGE or m.startswith(PACKAGE + ".")}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def main() -> int:
    files = {module_name(p): p for p in ROOT.rglob("*.py")}
    modules = set(files)
    graph = {name: imports_of(path, name, modules) - {name} for name, path in files.items()}
    problems = []
    for name, targets in graph.items():
        for layer, banned in FORBIDDEN.items():
            if name != layer and not name.startswith(layer + "."):
                continue
            inside = ALLOWED_INSIDE.get(layer, ())
            for target in sorted(targets):
                if target.startswith(banned) and not target.startswith(inside):
                    problems.append(f"{name} imports {target} (forbidden for {layer})")
    cycle = find_cycle(graph)
    if cycle:
        problems.append("import cycle: " + " -> ".join(cycle))
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"imports: {len(graph)} modules, no cycle, layering respected")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
