"""Tokens and phrases of the free-text query parser: folding, tokenising, phrase lookup.

:func:`tokenize` turns text into :class:`Token` units (as typed, and folded: lower case, accents
removed, elisions expanded); a *phrase* is a tuple of folded words, and vocabulary tables
(``text_vocab``) are keyed by phrases built with the same tokeniser (:func:`phrase_key`), so
accents, case and hyphens are optional on both sides. :func:`match_phrase` and
:func:`phrase_len` find the longest phrase of a table at a word position (at most
:data:`MAX_PHRASE_WORDS` words).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Token:
    """One word of a query: ``text`` as typed, ``norm`` folded (see :func:`fold`)."""

    text: str  # as typed
    norm: str  # lower case, accents removed


_RAW_TOKEN: Final = re.compile(r"[\w*?]+(?:[-'/:.][\w*?]+)*")
_ELISION: Final = re.compile(r"^(l|d|j|n|s|c|m|t|qu|jusqu|lorsqu|puisqu)'(.+)$")
_CLOCKISH: Final = re.compile(r"^\d{1,2}(?:[h:.]\d{0,2})?(?:am|pm)?$")
HAS_DIGIT_OR_WILD: Final = re.compile(r"[\d*?]")


def fold(word: str) -> str:
    """Lower case without accents: ``"Camionnette Blanche"`` → ``"camionnette blanche"``."""
    word = word.lower().replace("œ", "oe").replace("æ", "ae")
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def tokenize(text: str) -> list[Token]:
    """Words of ``text``: elisions split ("l'homme" → "le", "homme"), hyphenated words split
    unless they hold digits or wildcards (plates, "14h-16h" becomes a range)."""
    text = unicodedata.normalize("NFC", text)
    for a, b in (("’", "'"), ("`", "'"), ("–", "-"), ("—", "-")):
        text = text.replace(a, b)
    out: list[Token] = []
    for m in _RAW_TOKEN.finditer(text):
        raw = m.group()
        if not any(c.isalnum() for c in raw):
            continue  # a lone "?" or "*" says nothing
        norm = fold(raw)
        if norm == "aujourd'hui":
            out.append(Token(raw, "aujourdhui"))
            continue
        e = _ELISION.match(norm)
        if e:
            cut = len(e.group(1)) + 1
            out.append(Token(raw[:cut], e.group(1) + "'"))
            raw, norm = raw[cut:], norm[cut:]
        if "-" not in norm:
            out.append(Token(raw, norm))
        elif not HAS_DIGIT_OR_WILD.search(norm):
            out.extend(Token(r, n) for r, n in zip(raw.split("-"), norm.split("-"), strict=True)
                       if n)
        elif norm.count("-") == 1 and all(_CLOCKISH.match(p) for p in norm.split("-")):
            (r1, r2), (n1, n2) = raw.split("-"), norm.split("-")
            out.extend((Token(r1, n1), Token("-", "-"), Token(r2, n2)))
        else:
            out.append(Token(raw, norm))
    # Elided articles are ordinary stop words once expanded.
    return [Token(t.text, _ELIDED.get(t.norm, t.norm)) for t in out]


_ELIDED: Final[dict[str, str]] = {
    "l'": "le", "d'": "de", "j'": "je", "n'": "ne", "s'": "se", "c'": "ce", "m'": "me",
    "t'": "te", "qu'": "que", "jusqu'": "jusque", "lorsqu'": "lorsque", "puisqu'": "puisque",
}


def phrase_key(phrase: str) -> tuple[str, ...]:
    return tuple(t.norm for t in tokenize(phrase))


def phrases(csv: str) -> list[tuple[str, ...]]:
    return [phrase_key(p) for p in csv.split(",") if p.strip()]


def phrase_set(csv: str) -> frozenset[tuple[str, ...]]:
    return frozenset(phrases(csv))


def word_set(*csvs: str) -> frozenset[str]:
    return frozenset(w for csv in csvs for k in phrases(csv) for w in k)


def match_phrase(w: list[str], i: int, table: Mapping[tuple[str, ...], T]) -> tuple[int, T] | None:
    """Longest phrase of ``table`` starting at word ``i``: (number of words, value)."""
    for n in range(min(MAX_PHRASE_WORDS, len(w) - i), 0, -1):
        hit = table.get(tuple(w[i:i + n]))
        if hit is not None:
            return n, hit
    return None


MAX_PHRASE_WORDS: Final = 6


def phrase_len(w: list[str], i: int, table: frozenset[tuple[str, ...]]) -> int:
    """Length of the longest phrase of ``table`` at word ``i`` (0 if none)."""
    for n in range(min(MAX_PHRASE_WORDS, len(w) - i), 0, -1):
        if tuple(w[i:i + n]) in table:
            return n
    return 0


