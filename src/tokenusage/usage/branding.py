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
import string

BRAND = "ComusThumbz AI"
VIA_BRAND = "CTZ-AI"

_PREFIX = r"(?:grok|gpt|claude|gemini|o1|o3)"
# Version and variant parts: `4o-mini`, `1.5-pro`, `3-5-sonnet-20241022`, `3-opus:beta`.
_PARTS = r"[a-z0-9]+(?:[._:@-][a-z0-9]+)*"

VIA_PROVIDER = re.compile(r"\b(?P<via>via)\s+(?:xai|openai|anthropic|google)\b", re.IGNORECASE)
PARENTHESISED_MODEL = re.compile(rf"\(\s*{_PREFIX}(?:-[^()]*)?\)", re.IGNORECASE)
# Not preceded by a letter or digit; `_` counts as a separator (`ai_tagging_gpt-4o`).
STANDALONE_MODEL = re.compile(rf"(?<![^\W_]){_PREFIX}-{_PARTS}", re.IGNORECASE)
_RULES = (
    (VIA_PROVIDER, len("via"), f" {VIA_BRAND}"),
    (PARENTHESISED_MODEL, 0, f"({BRAND})"),
    (STANDALONE_MODEL, 0, BRAND),
)
_KEYWORD = re.compile("via|grok|gpt|claude|gemini|o1|o3", re.IGNORECASE)

# The CSV export brands millions of cells, mostly descriptions that differ only in their
# numbers ("Support chat session 64411 answered by gpt-4o"). On ASCII text the rules cannot
# tell case apart, nor one digit from another except the 1 or 3 of "o1"/"o3". So such text
# is reduced to a template key (lower case, "o1"/"o3" kept, every other digit 0), the rules
# run once per key, and what they did is cached as a plan and replayed on each text with
# that key. A plan alternates stretches of the text to keep (slices) with the text put
# between them. Non-ASCII text can match case-insensitively through "ı", "İ" or the Kelvin
# sign, so it takes the rules directly, as does text holding the markers "\x01"/"\x03".
_LOOSE = bytes.maketrans(
    string.ascii_uppercase.encode() + b"123456789", string.ascii_lowercase.encode() + b"0" * 9
)
_MARKED = bytes.maketrans(b"\x01\x03123456789", b"13" + b"0" * 9)
Plan = tuple[slice | str, ...]


def _mentions_model(low: str) -> bool:
    return "via" in low or "gpt" in low or "gemini" in low or "claude" in low or "grok" in low


def _key(low: str, model_code: bool) -> bytes | None:
    if not model_code:
        return low.encode("ascii").translate(_LOOSE)
    if "\x01" in low or "\x03" in low:
        return None
    marked = low.encode("ascii").replace(b"o1", b"o\x01").replace(b"o3", b"o\x03")
    return marked.translate(_MARKED)


def template_key(text: str) -> bytes | None:
    """The key `template_plan` caches by: texts with equal keys are branded alike (the
    same stretches replaced by the same words). None for text that has no key."""
    if not text.isascii():
        return None
    low = text.lower()
    return _key(low, "o1" in low or "o3" in low)


def loose_key(text: str) -> bytes | None:
    """A cheaper key for ASCII text, blind to case and to every digit: the same as
    `template_key` unless it holds b"o0" (an "o" and a digit: maybe "o1" or "o3")."""
    return text.encode("ascii").translate(_LOOSE) if text.isascii() else None


def _cut(pieces: list[slice | str], start: int, end: int) -> list[slice | str]:
    """The pieces that render characters `start:end` of what `pieces` render."""
    out: list[slice | str] = []
    offset = 0
    for piece in pieces:
        size = len(piece) if isinstance(piece, str) else piece.stop - piece.start
        lo, hi = max(start - offset, 0), min(end - offset, size)
        if lo < hi:
            out.append(
                piece[lo:hi]
                if isinstance(piece, str)
                else slice(piece.start + lo, piece.start + hi)
            )
        offset += size
    return out


def _alternate(pieces: list[slice | str], size: int) -> Plan:
    """`pieces` as slice, text, slice, …, slice (slices may be empty; neighbours merged)."""
    plan: list[slice | str] = [slice(0, 0)]
    for piece in pieces:
        last = plan[-1]
        if isinstance(piece, str):
            if isinstance(last, str):
                plan[-1] = last + piece
            else:
                plan.append(piece)
        elif isinstance(last, slice) and (last.start == last.stop or last.stop == piece.start):
            plan[-1] = slice(piece.start if last.start == last.stop else last.start, piece.stop)
        else:
            if isinstance(last, slice):
                plan.append("")
            plan.append(piece)
    if isinstance(plan[-1], str):
        plan.append(slice(size, size))
    return tuple(plan)


@functools.lru_cache(maxsize=8192)
def template_plan(raw_key: bytes) -> Plan | None:
    """How branding changes every text with this `template_key`; None when it does not."""
    key = raw_key.decode("ascii")
    if not (_mentions_model(key) or "o1" in key or "o3" in key):
        return None
    pieces: list[slice | str] = [slice(0, len(key))]
    current = key
    for pattern, keep, insert in _RULES:
        matches = list(pattern.finditer(current))
        if not matches:
            continue
        changed: list[slice | str] = []
        end = 0
        for match in matches:
            changed += _cut(pieces, end, match.start() + keep)
            changed.append(insert)
            end = match.end()
        changed += _cut(pieces, end, len(current))
        pieces = changed
        current = "".join(p.lower() if isinstance(p, str) else key[p] for p in pieces)
    if pieces == [slice(0, len(key))]:
        return None
    return _alternate(pieces, len(key))


def replay(text: str, plan: Plan) -> str:
    """`text` branded by the plan of its template key."""
    if len(plan) == 3:
        head, middle, tail = plan
        return text[head] + middle + text[tail]  # type: ignore[index, operator]
    return "".join([p if isinstance(p, str) else text[p] for p in plan])


def _rules(text: str) -> str:
    text = VIA_PROVIDER.sub(rf"\g<via> {VIA_BRAND}", text)
    text = PARENTHESISED_MODEL.sub(f"({BRAND})", text)
    return STANDALONE_MODEL.sub(BRAND, text)


_apply_rules = functools.lru_cache(maxsize=4096)(_rules)
# Longer text is rare and would make the caches' memory grow with it: it is not cached.
MAX_CACHED_LENGTH = 1000


def brand(text: str) -> str:
    """The text with provider and model names branded (see the module docstring)."""
    if len(text) > MAX_CACHED_LENGTH:
        return _rules(text) if _KEYWORD.search(text) else text
    if not text.isascii():
        return _apply_rules(text) if _KEYWORD.search(text) else text
    low = text.lower()
    model_code = "o1" in low or "o3" in low
    if not (model_code or _mentions_model(low)):
        return text
    key = _key(low, model_code)
    if key is None:
        return _apply_rules(text)
    plan = template_plan(key)
    return text if plan is None else replay(text, plan)
