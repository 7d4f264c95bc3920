"""`{% cache KEY %}…{% endcache %}`: a part of a template rendered once per key.

For the page shell that every view repeats with the same values (the header and the action
bar of a signed-in admin): they cost a fifth of a warm overview's rendering otherwise. The key
is a tuple the template writes out, and it must name every value the body reads; the
template's name, the tag's line and a number per block are added, so two blocks never share
an entry. The entries live in a bounded LRU of the environment (`environment.fragment_cache`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from cachetools import LRUCache
from jinja2 import Environment, nodes
from jinja2.ext import Extension
from jinja2.parser import Parser
from markupsafe import Markup

ENTRIES = 512


class FragmentCache(Extension):
    tags = {"cache"}  # noqa: RUF012 (Jinja's own class attribute)

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.extend(fragment_cache=LRUCache(ENTRIES))
        self._blocks = 0  # numbers the blocks as templates are compiled (once per environment)

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        key = parser.parse_tuple()
        self._blocks += 1
        where = nodes.Const(f"{parser.name}:{lineno}:{self._blocks}")
        body = parser.parse_statements(("name:endcache",), drop_needle=True)
        call = self.call_method("_cached", [where, key])
        return nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    def _cached(self, where: str, key: Hashable, caller: Callable[[], str]) -> Markup:
        cache: LRUCache[Hashable, Markup] = self.environment.fragment_cache  # type: ignore[attr-defined]
        entry = (where, key)
        html = cache.get(entry)
        if html is None:
            html = Markup(caller())  # noqa: S704 (the body is an autoescaped template)
            cache[entry] = html
        return html
