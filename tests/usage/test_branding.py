from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tokenusage.usage.branding import (
    PARENTHESISED_MODEL,
    STANDALONE_MODEL,
    VIA_PROVIDER,
    brand,
    loose_key,
    template_key,
)

# Written independently of the module: what must never survive branding.
LEAKS = (
    re.compile(r"\bvia\s+(xai|openai|anthropic|google)\b", re.IGNORECASE),
    re.compile(r"\(\s*(grok|gpt|claude|gemini|o1|o3)(-[^()]*)?\)", re.IGNORECASE),
    re.compile(r"(?<![^\W_])(grok|gpt|claude|gemini|o1|o3)-[a-z0-9]", re.IGNORECASE),
)
KEYWORDS = re.compile(r"via|grok|gpt|claude|gemini|o1|o3", re.IGNORECASE)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("via openai (gpt-4o-mini)", "via CTZ-AI (ComusThumbz AI)"),
        ("via xai", "via CTZ-AI"),
        ("Caption via Anthropic", "Caption via CTZ-AI"),
        ("Tagging VIA GOOGLE", "Tagging VIA CTZ-AI"),
        ("via  openai", "via CTZ-AI"),
        ("via\topenai.", "via CTZ-AI."),
        ("Search (grok-2)", "Search (ComusThumbz AI)"),
        ("Alt text (gpt-4o)", "Alt text (ComusThumbz AI)"),
        ("(Claude-3-5-Sonnet-20241022)", "(ComusThumbz AI)"),
        ("(gemini-1.5-pro, 1200 tokens)", "(ComusThumbz AI)"),
        ("(o1-preview)", "(ComusThumbz AI)"),
        ("(o3-mini)", "(ComusThumbz AI)"),
        ("(o1)", "(ComusThumbz AI)"),
        ("(gpt-)", "(ComusThumbz AI)"),
        ("( gpt-4 )", "(ComusThumbz AI)"),
        ("grok-2", "ComusThumbz AI"),
        ("model gpt-4o-mini answered", "model ComusThumbz AI answered"),
        ("claude-3-5-sonnet-20241022", "ComusThumbz AI"),
        ("gemini-1.5-pro.", "ComusThumbz AI."),
        ("o1-preview, o3-mini", "ComusThumbz AI, ComusThumbz AI"),
        ("openai/gpt-4o", "openai/ComusThumbz AI"),
        ("claude-3-opus:beta", "ComusThumbz AI"),
        (
            "Image tagging via openai (gpt-4o-mini) then gemini-2.0-flash",
            "Image tagging via CTZ-AI (ComusThumbz AI) then ComusThumbz AI",
        ),
    ],
)
def test_manual_table(text: str, expected: str) -> None:
    assert brand(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "google drive sync",
        "Googled it",
        "photograph",
        "gptx",
        "solo1- run",
        "pro3-x",
        "via googled",
        "trivia openai",
        "openai",
        "Grok the docs",
        "Claude Monet",
        "Gemini season",
        "GPT",
        "o1",
        "O3 level",
        "demo1-2",
        "(gptx)",
        "(grokking)",
        "Credit purchase",
        "",
    ],
)
def test_ordinary_words_stay(text: str) -> None:
    assert brand(text) == text


def test_standalone_needs_a_non_alphanumeric_before_it() -> None:
    assert brand("ai_tagging_gpt-4o") == "ai_tagging_ComusThumbz AI"
    assert brand("ai tagging gpt-4o") == "ai tagging ComusThumbz AI"
    assert brand("xgpt-4o") == "xgpt-4o"
    assert brand("2gpt-4o") == "2gpt-4o"


FRAGMENTS = [
    "via", "VIA", " ", "\t", "\n", "openai", "xai", "Anthropic", "google", "(", ")", "-",
    "gpt", "GPT", "grok", "claude", "gemini", "o1", "O3", "4o", "mini", "1.5", ".", ":",
    "_", "x", "s", "2", "ı", "\u212a", "é", "/",
]  # fmt: skip
risky_text = st.one_of(
    st.lists(st.sampled_from(FRAGMENTS), max_size=14).map("".join),
    st.text(max_size=60),
)


@given(risky_text)
@example("(gpt-(gpt-4))")
@example("via via openai")
@example("gro\u212a-2")
def test_idempotent(text: str) -> None:
    once = brand(text)
    assert brand(once) == once


@given(risky_text)
@example("(gpt-(gpt-4))")
@example("((o1)")
def test_nothing_leaks(text: str) -> None:
    result = brand(text)
    for pattern in LEAKS:
        assert pattern.search(result) is None, (pattern.pattern, result)


@given(st.text(max_size=80).filter(lambda s: KEYWORDS.search(s) is None))
def test_text_without_keywords_is_unchanged(text: str) -> None:
    assert brand(text) == text


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=14).map("".join))
def test_only_changes_text_that_mentions_a_keyword(text: str) -> None:
    if KEYWORDS.search(text) is None:
        assert brand(text) == text
    else:
        assert brand(text) == brand(brand(text))


def reference(text: str) -> str:
    """The rules applied literally, one regex after the other (what the manual's table says)."""
    text = VIA_PROVIDER.sub(r"\g<via> CTZ-AI", text)
    text = PARENTHESISED_MODEL.sub("(ComusThumbz AI)", text)
    return STANDALONE_MODEL.sub("ComusThumbz AI", text)


TEMPLATE_FRAGMENTS = [
    *FRAGMENTS, "o", "O", "1", "3", "7", "0", "o1", "o3", "\x01", "\x03", "o\x01", ",", "#",
]  # fmt: skip
template_text = st.lists(st.sampled_from(TEMPLATE_FRAGMENTS), max_size=16).map("".join)


@given(st.one_of(template_text, risky_text))
@example("x\x01o1-mini\x03")
@example("o\x01-mini")
@example("Enriched performer profile 58634 (o1-mini reasoning)")
@example("(gpt-4o via openai) then via anthropic")
def test_templates_brand_exactly_like_the_rules(text: str) -> None:
    assert brand(text) == reference(text)


@given(template_text, st.integers(0, 10**9))
def test_texts_of_one_template_differ_only_in_their_numbers(text: str, n: int) -> None:
    # Same key, same branding: each text is branded as the rules would brand it.
    other = text.replace("7", str(n % 10)).upper()
    if template_key(other) == template_key(text):
        assert brand(other) == reference(other)
    key = loose_key(text)
    if key is not None and b"o0" not in key:
        assert key == template_key(text)


def test_long_text_takes_the_rules_uncached() -> None:
    text = "Batch via openai (gpt-4o) and o1-mini, " * 50
    assert len(text) > 1000
    assert brand(text) == reference(text)
    assert brand("\u0130" + text) == reference("\u0130" + text)
