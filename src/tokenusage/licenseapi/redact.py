"""Keeping the licence key out of everything shown or logged.

The key can come back in many spellings: verbatim in upstream text (an error message, a
transaction description), URL-encoded by any encoder (`CTZ%2D…`: unreserved characters may be
percent-encoded too, in either case of hex), `+` for a space, or JSON-escaped (`\\u0043TZ-…`),
which `json.loads` on the debug page would turn back into the key. `key_pattern` matches every
mixture of these, character by character.
"""

from __future__ import annotations

import functools
import logging
import re

MIN_SCRUB_LENGTH = 4


def mask_key(key: str) -> str:
    """Enough of the licence key to tell keys apart on the debug page, never enough to use it.

    At most the first 4 and last 4 characters, and never more than about half of the key.
    """
    size = len(key)
    if size == 0:
        return ""
    if size <= 2:
        return "…"
    if size <= 8:
        return f"{key[:2]}…"
    if size < 16:
        return f"{key[:4]}…"
    return f"{key[:4]}…{key[-4:]}"


def _spellings(ch: str) -> str:
    forms = [re.escape(ch)]
    forms.append("".join(f"%(?i:{byte:02x})" for byte in ch.encode()))
    if ord(ch) <= 0xFFFF:
        forms.append(rf"\\u(?i:{ord(ch):04x})")
    if ch == " ":
        forms.append(r"\+")
    return "(?:" + "|".join(forms) + ")"


@functools.lru_cache(maxsize=8)
def key_pattern(key: str) -> re.Pattern[str]:
    """Every spelling of `key` (see the module's doc)."""
    return re.compile("".join(_spellings(ch) for ch in key))


@functools.lru_cache(maxsize=8)
def _bytes_pattern(key: str) -> re.Pattern[bytes]:
    return re.compile(key_pattern(key).pattern.encode())


def scrub(text: str, key: str) -> str:
    """`text` with every occurrence of `key`, in any spelling, replaced by its mask.

    Keys shorter than `MIN_SCRUB_LENGTH` are left alone: replacing every "a" in a message would
    destroy it, and such a key is no secret anyway.
    """
    if len(key) < MIN_SCRUB_LENGTH or not text:
        return text
    return key_pattern(key).sub(mask_key(key), text)


def scrub_bytes(body: bytes, key: str) -> bytes:
    """`scrub` for an undecoded UTF-8 body (the mask is plain text, valid inside a JSON
    string), so that no decoded field of an upstream answer can carry the key."""
    if len(key) < MIN_SCRUB_LENGTH or not body:
        return body
    return _bytes_pattern(key).sub(mask_key(key).encode(), body)


class ScrubFilter(logging.Filter):
    """Masks the key in log records: httpx logs every request's URL, query included, at INFO."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def filter(self, record: logging.LogRecord) -> bool:
        if len(self.key) >= MIN_SCRUB_LENGTH:
            message = record.getMessage()
            cleaned = scrub(message, self.key)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        return True


def scrub_logger(name: str, key: str) -> None:
    """Mask `key` in the records of logger `name` (once per key)."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, ScrubFilter) and f.key == key for f in logger.filters):
        logger.addFilter(ScrubFilter(key))
