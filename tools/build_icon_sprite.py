"""Build `src/tokenusage/web/static/icons.svg` from an unpacked `lucide-static` npm package.

    npm pack lucide-static@1.62.0 && tar xzf lucide-static-1.62.0.tgz
    python tools/build_icon_sprite.py package

Only the icons the templates use are copied, as `<symbol>`s of one sprite, so the page needs
one cached request and no CDN. Bump `VERSION` and re-run to update; the licence travels along.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

VERSION = "1.62.0"
ICONS = (
    "coins",
    "layout-dashboard",
    "refresh-cw",
    "download",
    "tag",
    "trash-2",
    "bug",
    "arrow-left",
    "circle-help",
    "log-out",
    "triangle-alert",
    "circle-alert",
    "circle-check",
    "info",
    "chevron-left",
    "chevron-right",
    "clock",
    "search",
    "chart-column",
    "hourglass",
    "key-round",
    "bell",
)
PAINT = (
    'fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" '
    'stroke-linejoin="round"'
)
STATIC = Path(__file__).resolve().parent.parent / "src" / "tokenusage" / "web" / "static"


def symbol(package: Path, name: str) -> str:
    svg = (package / "icons" / f"{name}.svg").read_text(encoding="utf-8")
    body = re.search(r"<svg[^>]*>(.*)</svg>", svg, re.DOTALL)
    if body is None:
        raise SystemExit(f"unexpected markup in {name}.svg")
    inner = " ".join(line.strip() for line in body.group(1).strip().splitlines())
    # On each symbol, not the root: a `<use>` instance inherits from where it is used.
    return f'<symbol id="{name}" viewBox="0 0 24 24" {PAINT}>{inner}</symbol>'


def main(package: Path) -> None:
    found = json.loads((package / "package.json").read_text(encoding="utf-8"))["version"]
    if found != VERSION:
        raise SystemExit(f"expected lucide-static {VERSION}, found {found}")
    symbols = "\n".join(symbol(package, name) for name in ICONS)
    sprite = (
        f"<!-- lucide-static {VERSION}, ISC licence: see vendor/LICENSE-lucide.txt -->\n"
        '<svg xmlns="http://www.w3.org/2000/svg">\n'
        f"{symbols}\n</svg>\n"
    )
    (STATIC / "icons.svg").write_text(sprite, encoding="utf-8")
    licence = (package / "LICENSE").read_text(encoding="utf-8")
    (STATIC / "vendor" / "LICENSE-lucide.txt").write_text(
        f"Icons in ../icons.svg: lucide-static {VERSION} (https://lucide.dev)\n\n{licence}",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
