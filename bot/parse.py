"""Small parsers for what people type and what buttons carry: strict, and never raising."""

from __future__ import annotations

import unicodedata

MAX_ID = 2**31 - 1  # database ids (and PostgreSQL integers) stay below this
_INVISIBLE = ("Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me")


def number(text: str, most: int = MAX_ID) -> int | None:
    """A whole number written in ASCII digits (not "²" or "٢"), at most `most`; else None.

    Nothing around the digits is allowed: callers strip what people type themselves."""
    if not text or len(text) > 10 or not (text.isascii() and text.isdecimal()):
        return None
    value = int(text)
    return value if value <= most else None


def signed(text: str, most: int = MAX_ID) -> int | None:
    """Like `number`, with an optional leading minus."""
    value = number(text.removeprefix("-"), most)
    return None if value is None else (-value if text.startswith("-") else value)


def clean_text(text: str | None) -> str:
    """What a person wrote, without control characters (NUL breaks PostgreSQL text), and ""
    when nothing visible is left."""
    if not text:
        return ""
    kept = "".join(c for c in text if c in "\n\t" or unicodedata.category(c) != "Cc").strip()
    if all(unicodedata.category(c) in _INVISIBLE for c in kept):
        return ""
    return kept
