"""Reading the dashboard's HTML the way a test needs it: a small element tree built with the
standard library's parser, and the few look-ups the page tests share (cards, rows, flashes)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser

VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


@dataclass(eq=False)
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list, repr=False)

    def text(self) -> str:
        """The visible text, whitespace collapsed."""
        return " ".join("".join(self._texts()).split())

    def _texts(self) -> Iterator[str]:
        for child in self.children:
            if isinstance(child, str):
                yield child
            else:
                yield from child._texts()

    def iter(self) -> Iterator[Node]:
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list[Node]:
        """Descendants by tag, class token and exact attribute values (`data_x` = `data-x`;
        the value `"*"` only asks for the attribute to be present)."""
        wanted = {name.replace("_", "-"): value for name, value in attrs.items()}
        found = []
        for node in self.iter():
            if tag is not None and node.tag != tag:
                continue
            if cls is not None and cls not in node.classes():
                continue
            if all(
                name in node.attrs and (value == "*" or node.attrs[name] == value)
                for name, value in wanted.items()
            ):
                found.append(node)
        return found

    def one(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> Node:
        found = self.find_all(tag, cls, **attrs)
        assert len(found) == 1, f"expected one <{tag} {cls} {attrs}>, found {len(found)}"
        return found[0]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


# -- the dashboard's parts ------------------------------------------------------------------


def definitions(container: Node) -> dict[str, Node]:
    """A card's or the footer's `<dt>label</dt><dd>value</dd>` pairs, by label."""
    pairs: dict[str, Node] = {}
    label: str | None = None
    for node in container.iter():
        if node.tag == "dt":
            label = node.text()
        elif node.tag == "dd" and label is not None:
            pairs[label] = node
            label = None
    return pairs


def card(doc: Node, title_id: str) -> Node:
    """The card (or panel) whose heading has `id=title_id`."""
    return doc.one(aria_labelledby=title_id)


def balance(doc: Node) -> Decimal:
    return Decimal(doc.one("dd", data_balance="*").attrs["data-balance"])


def stat(doc: Node, name: str) -> str:
    """A raw figure of the statistics card (`data-stat` = name), e.g. `tokens_used`."""
    return doc.one("dd", data_stat=name).attrs["data-value"]


def rows(doc: Node) -> list[Node]:
    """The transaction table's body rows (not the chart's or the breakdown's)."""
    bodies = [
        body for table in doc.find_all(id="history-table") for body in table.find_all("tbody")
    ]
    return [row for body in bodies for row in body.find_all("tr")]


def amounts(doc: Node) -> list[Decimal]:
    return [Decimal(cell.attrs["data-amount"]) for cell in doc.find_all("td", data_amount="*")]


def row_times(doc: Node) -> list[str]:
    return [time.attrs["datetime"] for row in rows(doc) for time in row.find_all("time")]


def flashes(doc: Node) -> list[tuple[str, str]]:
    """(level, text) of the one-time messages shown on this page."""
    return [(node.attrs["data-flash"], node.text()) for node in doc.find_all(data_flash="*")]


def showing(doc: Node) -> str:
    return doc.one(id="showing").text()


def footer(doc: Node) -> dict[str, str]:
    return {label: dd.text() for label, dd in definitions(doc.one("footer")).items()}


def form_actions(doc: Node) -> set[str]:
    return {form.attrs.get("action", "") for form in doc.find_all("form")}


def links(doc: Node) -> dict[str, str]:
    """Visible link text -> href."""
    return {a.text(): a.attrs.get("href", "") for a in doc.find_all("a")}


_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def page_csrf(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF meta tag"
    return found.group(1)
