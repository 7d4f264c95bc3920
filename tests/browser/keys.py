"""Keyboard-only helpers: walk the tab order, and measure the focus ring of the focused
element against what lies behind it (WCAG 2.2 relative luminance, 3:1 for non-text)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

# The focused element, described for a report, with its focus ring: the outline's colour and
# width, the nearest opaque background behind the ring (the parent's, as the outline is drawn
# outside the element) and their contrast ratio.
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const parse = (c) => {
    const m = c.match(/rgba?\\(([\\d.]+),? ([\\d.]+),? ([\\d.]+)(?:,? \\/? ?([\\d.]+%?))?\\)/);
    if (!m) return null;
    let a = m[4] === undefined ? 1 : parseFloat(m[4]);
    if (m[4] && m[4].endsWith("%")) a = a / 100;
    return [+m[1], +m[2], +m[3], a];
  };
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const style = getComputedStyle(e);
  let behind = null;
  for (let n = e.parentElement; n; n = n.parentElement) {
    const bg = parse(getComputedStyle(n).backgroundColor);
    if (bg && bg[3] >= 1) { behind = bg; break; }
  }
  if (!behind) behind = [255, 255, 255, 1];
  const ring = parse(style.outlineColor);
  const width = style.outlineStyle === "none" ? 0 : parseFloat(style.outlineWidth);
  let ratio = 0;
  if (ring && ring[3] >= 1 && width > 0) {
    const [hi, lo] = [lum(ring), lum(behind)].sort((x, y) => y - x);
    ratio = (hi + 0.05) / (lo + 0.05);
  }
  const rect = e.getBoundingClientRect();
  const id = e.id ? "#" + e.id : "";
  const cls = e.classList.length ? "." + [...e.classList].join(".") : "";
  const text = (e.innerText || e.value || e.getAttribute("aria-label") || "").trim();
  return {
    what: e.tagName.toLowerCase() + id + cls + (text ? ` "${text.slice(0, 40)}"` : ""),
    ring: style.outlineColor, width, behind: `rgb(${behind.slice(0, 3).join(", ")})`, ratio,
    visible: rect.width > 0 && rect.height > 0,
    inPager: !!e.closest("nav.pager"),
    inHistoryBody: !!e.closest("#history tbody"),
  };
}"""


def focused(page: Page) -> dict[str, Any] | None:
    found = page.evaluate(FOCUSED)
    return dict(found) if found else None


def start_at_the_top(page: Page) -> None:
    """Move the sequential focus starting point to the top of the document (a field with
    `autofocus` would otherwise be where Tab starts): focus an element added before everything
    else that is not itself a tab stop."""
    page.evaluate(
        """() => {
          const start = document.createElement("span");
          start.tabIndex = -1;
          document.body.prepend(start);
          start.focus();
          window.scrollTo(0, 0);
        }"""
    )


def tab_stops(page: Page, limit: int = 800) -> list[dict[str, Any]]:
    """Tab from the top of the page until the focus leaves the document or comes back to an
    element it had; each stop as `FOCUSED` describes it, with `press`, the number of Tab
    presses that reached it, and the element tagged `data-tab-stop`. A date field takes a press
    per part (day, month, year) and counts once, with its first press."""
    start_at_the_top(page)
    stops: list[dict[str, Any]] = []
    for press in range(1, limit + 1):
        page.keyboard.press("Tab")
        now = focused(page)
        if now is None:
            return stops
        seen = page.evaluate(
            "n => { const e = document.activeElement; const seen = e.dataset.tabStop;"
            " if (seen === undefined) e.dataset.tabStop = n; return seen; }",
            len(stops),
        )
        if seen is None:
            stops.append(now | {"press": press})
        elif int(seen) != len(stops) - 1:
            return stops  # back to an earlier stop: round the whole page
    raise AssertionError(f"more than {limit} Tab presses")


def tab_to(page: Page, selector: str, limit: int = 400) -> int:
    """Press Tab until `selector` has the focus; the number of presses."""
    for n in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return n
    raise AssertionError(f"{selector} not reached in {limit} Tab presses")
