"""Search text folding and snippets: "ayse" finds "Ayşe", "IŞIK" finds "ışık".

Messages and names are stored once more in a folded form (lower case, accents removed,
Turkish dotless ı as i), so the same comparison works on every database: PostgreSQL
full-text search over a GIN index (migration 0005), a plain LIKE on SQLite.
"""

from __future__ import annotations

import functools
import re
import unicodedata

SNIPPET_CHARS = 90  # a snippet's length, of which up to SNIPPET_BEFORE come before the hit
SNIPPET_BEFORE = 20
_WORD_RE = re.compile(r"\w+")
_SPECIAL = {"ı": "i", "İ": "i", "ß": "ss", "æ": "ae", "ø": "o", "đ": "d", "ł": "l"}


def fold_char(ch: str) -> str:
    special = _SPECIAL.get(ch) or _SPECIAL.get(ch.lower())
    if special:
        return special
    decomposed = unicodedata.normalize("NFKD", ch)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


_fold_char_cached = functools.lru_cache(maxsize=4096)(fold_char)


def fold(text: str | None) -> str:
    if not text:
        return ""
    if text.isascii():  # most messages: lower case is the whole folding (no accents, no ı)
        return text.lower()
    return "".join(map(_fold_char_cached, text))


def terms(query: str) -> list[str]:
    """The folded words of a search query (at most 8; punctuation dropped)."""
    return _WORD_RE.findall(fold(query))[:8]


def tsquery(words: list[str]) -> str:
    """A to_tsquery('simple', ...) string: every word, as a prefix ("ays" finds "ayşe")."""
    return " & ".join(f"{w}:*" for w in words)


def snippet(text: str, words: list[str]) -> tuple[str, int, int] | None:
    """A short piece of `text` around the first hit of `words`, with the hit's [start, end)
    inside that piece (original characters, not folded ones)."""
    if not text or not words:
        return None
    folded_parts = [fold_char(ch) for ch in text]
    folded = "".join(folded_parts)
    starts = []  # folded offset -> original index
    for i, part in enumerate(folded_parts):
        starts.extend([i] * len(part))
    best = None
    for word in words:
        pos = folded.find(word)
        if pos >= 0 and (best is None or pos < best[0]):
            best = (pos, pos + len(word))
    if best is None:
        return None
    start = starts[best[0]]
    end = starts[best[1] - 1] + 1
    left = max(0, start - SNIPPET_BEFORE)
    right = min(len(text), max(end, left + SNIPPET_CHARS))
    piece = text[left:right]
    prefix = "…" if left > 0 else ""
    suffix = "…" if right < len(text) else ""
    return prefix + piece + suffix, start - left + len(prefix), end - left + len(prefix)
