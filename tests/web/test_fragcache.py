"""The `{% cache %}` tag: a body rendered once per key, escaped once, never shared between
two blocks."""

from __future__ import annotations

from jinja2 import DictLoader, Environment

from tokenusage.web.fragcache import FragmentCache

TEMPLATE = (
    "{% cache (who,) %}[{{ counter() }} {{ who }}]{% endcache %}"
    "{% cache (who,) %}({{ counter() }}){% endcache %}"
)


def environment() -> tuple[Environment, list[int]]:
    calls: list[int] = []

    def counter() -> int:
        calls.append(1)
        return len(calls)

    env = Environment(
        loader=DictLoader({"page.html": TEMPLATE}), autoescape=True, extensions=[FragmentCache]
    )
    env.globals["counter"] = counter
    return env, calls


def test_a_body_is_rendered_once_per_key_and_each_block_has_its_own_entries() -> None:
    env, calls = environment()
    page = env.get_template("page.html")

    first = page.render(who="ana")
    assert first == "[1 ana](2)"  # the second block has the same key, not the same entry
    assert page.render(who="ana") == first and len(calls) == 2  # both served from the cache
    assert page.render(who="bia") == "[3 bia](4)"  # another key renders anew
    assert len(env.fragment_cache) == 4  # type: ignore[attr-defined]


def test_the_cached_body_is_escaped_once() -> None:
    env, _ = environment()
    page = env.get_template("page.html")

    for _ in range(2):
        assert page.render(who="<b>&") == "[1 &lt;b&gt;&amp;](2)"
