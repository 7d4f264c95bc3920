"""Replace third-party AI provider and model names with the ComusThumbz brand.

The manual's table, applied in this order (each rule's output is inert to the others, so
`brand` is idempotent):

1. `via xai|openai|anthropic|google` -> `via CTZ-AI` (the original casing of "via" is kept).
2. A parenthesis that opens with a model prefix (`grok`, `gpt`, `claude`, `gemini`, `o1`,
   `o3`) followed by `-` or by the closing parenthesis -> `(ComusThumbz AI)`. Like the
   manual's `(gpt-…)`, everything up to the closing parenthesis is the model annotation.
3. A standalone model name -> `ComusThumbz AI`: a prefix, a hyphen and at least one
   alphanumeric part (`grok-2`, `gpt-4o-mini`, `claude-3-5-sonnet-20241022`,
   `gemini-1.5-pro`, `o1-preview`, `o3-mini`).

Matching is case-insensitive and bounded by non-alphanumerics, so ordinary words stay:
"google drive sync" (no "via"), "Googled", "photograph", "gptx", "solo1-", "pro3-x".
Bare words are not brand names on their own: "Grok", "Claude", "Gemini" and "GPT" are also
a verb, a first name, a star sign and an acronym, and "o1"/"o3" read as codes ("O3" is
ozone); they are branded only inside the parentheses of rule 2, where they can only be a
model. Provider names outside "via …" are left alone, as in the manual, since "google" is
an ordinary word in service descriptions.
"""

from __future__ import annotations

import functools
import re

BRAND = "ComusThumbz AI"
VIA_BRAND = "CTZ-AI"

_PREFIX = r"(?:grok|gpt|claude|gemini|o1|o3)"
# Version and variant parts: `4o-mini`, `1.5-pro`, `3-5-sonnet-20241022`, `3-opus:beta`.
_PARTS = r"[a-z0-9]+(?:[._:@-][a-z0-9]+)*"

VIA_PROVIDER = re.compile(r"\b(?P<via>via)\s+(?:xai|openai|anthropic|google)\b", re.IGNORECASE)
PARENTHESISED_MODEL = re.compile(rf"\(\s*{_PREFIX}(?:-[^()]*)?\)", re.IGNORECASE)
# Not preceded by a letter or digit; `_` counts as a separator (`ai_tagging_gpt-4o`).
STANDALONE_MODEL = re.compile(rf"(?<![^\W_]){_PREFIX}-{_PARTS}", re.IGNORECASE)

# The CSV export brands millions of cells, so each rule runs only when ASCII text holds the
# substring it needs (a cheap `in` test), and the texts that do match are cached: they are
# mostly a few templates. Non-ASCII text can match case-insensitively through "ı", "İ" or
# the Kelvin sign, so it takes a regex with the rules' own flags instead.
_KEYWORD = re.compile("via|grok|gpt|claude|gemini|o1|o3", re.IGNORECASE)


def _has_model_prefix(low: str) -> bool:
    return (
        "gpt" in low
        or "o1" in low
        or "o3" in low
        or "claude" in low
        or "gemini" in low
        or "grok" in low
    )


def _has_model_name(low: str) -> bool:
    return (
        "gpt-" in low
        or "o1-" in low
        or "o3-" in low
        or "claude-" in low
        or "gemini-" in low
        or "grok-" in low
    )


@functools.lru_cache(maxsize=4096)
def _apply_rules(text: str) -> str:
    if not text.isascii():
        text = VIA_PROVIDER.sub(rf"\g<via> {VIA_BRAND}", text)
        text = PARENTHESISED_MODEL.sub(f"({BRAND})", text)
        return STANDALONE_MODEL.sub(BRAND, text)
    low = text.lower()
    if "via" in low:
        text = VIA_PROVIDER.sub(rf"\g<via> {VIA_BRAND}", text)
    if "(" in text and _has_model_prefix(low):
        text = PARENTHESISED_MODEL.sub(f"({BRAND})", text)
        low = text.lower()
    if _has_model_name(low):
        text = STANDALONE_MODEL.sub(BRAND, text)
    return text


def brand(text: str) -> str:
    """The text with provider and model names branded (see the module docstring)."""
    if text.isascii():
        low = text.lower()
        return _apply_rules(text) if "via" in low or _has_model_prefix(low) else text
    return _apply_rules(text) if _KEYWORD.search(text) else text
