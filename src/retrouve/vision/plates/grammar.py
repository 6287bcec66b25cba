"""Licence-plate text: normalisation, plate grammars as data, grammar fit and coercion.

All functions here are pure and work on *normalised* text: uppercase ``A-Z0-9`` with no
separators (``normalise`` produces it). A grammar is a set of fixed-length *templates*, one
slot letter per character:

====  ==========================================================
slot  allowed characters
====  ==========================================================
``D``  digit ``0-9``
``L``  letter ``A-Z``
``S``  French SIV letter: ``A-Z`` without ``I O U``
``T``  Italian letter: ``A-Z`` without ``I O Q U``
``C``  consonant (Spain, Netherlands): ``A-Z`` without vowels, ``Q`` and ``Ñ``
``K``  Corsican department letter ``A`` or ``B`` (French FNI ``2A``/``2B``)
``X``  any letter or digit
====  ==========================================================

``fit`` of a text to a template is the mean over positions of 1 (the character is allowed),
:data:`CONFUSABLE_FIT` (an OCR look-alike of an allowed character, e.g. ``O`` in a digit slot)
or 0, times the grammar's ``prior`` (specific national shapes beat the generic US shape), times
:data:`INVALID_FACTOR` when the grammar's extra rule (e.g. French department 01–95) fails
after coercion. Scores are therefore 0..1 and comparable across grammars.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final

_DIGITS: Final = frozenset("0123456789")
_LETTERS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ALNUM: Final = _DIGITS | _LETTERS

SLOTS: Final[dict[str, frozenset[str]]] = {
    "D": _DIGITS,
    "L": _LETTERS,
    "S": _LETTERS - frozenset("IOU"),
    "T": _LETTERS - frozenset("IOQU"),
    "C": _LETTERS - frozenset("AEIOUQ"),
    "K": frozenset("AB"),
    "X": _ALNUM,
}

#: What an OCR engine may have read instead of the true character, most likely first: when a
#: slot does not allow the character read, :func:`coerce` takes the first candidate it allows.
#: Drawn from the usual plate-font confusions (round shapes, vertical strokes, S/5, B/8…).
CONFUSABLES: Final[dict[str, str]] = {
    "0": "ODQ",
    "O": "0DQ",
    "D": "0O",
    "Q": "0O",
    "U": "0V",
    "V": "U",
    "1": "ILT",
    "I": "1LT",
    "L": "1I",
    "J": "1",
    "T": "71",
    "7": "T",
    "2": "Z",
    "Z": "2",
    "4": "A",
    "A": "4",
    "5": "S",
    "S": "5",
    "6": "G",
    "G": "6C",
    "C": "G",
    "8": "B",
    "B": "8",
}

#: Per-position fit of a character that is not allowed but is a look-alike of one that is.
#: With the priors below, a perfect fit to any national grammar beats a fit with one look-alike
#: to another for plates of up to 8 characters (e.g. ``12BCD3`` stays Dutch, not French FNI).
CONFUSABLE_FIT: Final = 0.5
#: Multiplier when a grammar's extra validity rule fails (after coercion).
INVALID_FACTOR: Final = 0.5

#: Distinguishing signs that appear on the blue EU band (and the UK/CH ones) at a plate's left.
COUNTRY_CODES: Final[frozenset[str]] = frozenset(
    {
        "A", "B", "BG", "CH", "CY", "CZ", "D", "DK", "E", "EST", "F", "FIN", "GB", "GR", "H",
        "HR", "I", "IRL", "L", "LT", "LV", "M", "MC", "N", "NL", "P", "PL", "RO", "S", "SK",
        "SLO", "UK",
    }
)
#: The rest must fit this much better than the whole text before a band is stripped.
BAND_MARGIN: Final = 0.05

# Look-alike glyphs OCR engines emit for plate characters (Cyrillic/Greek capitals, symbols).
_GLYPHS: Final[dict[str, str]] = {
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
    "Т": "T", "У": "Y", "Х": "X", "І": "I", "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H",
    "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    "Ø": "0", "Ð": "D", "ß": "B", "§": "S", "$": "S", "€": "E", "£": "E", "¢": "C",
}


@dataclass(frozen=True)
class Grammar:
    """A plate shape: ``templates`` (slot strings, see module doc), ``prior`` 0..1 (how much a
    perfect fit is worth against other grammars), ``valid`` (extra rule on the coerced text),
    and the ``countries`` whose band code may precede it."""

    name: str
    templates: tuple[str, ...]
    prior: float = 1.0
    valid: Callable[[str], bool] | None = None
    countries: frozenset[str] = frozenset()

    def templates_of_length(self, n: int) -> tuple[str, ...]:
        return tuple(t for t in self.templates if len(t) == n)


def _fni_valid(text: str) -> bool:
    m = re.fullmatch(r"(\d{1,4})([A-Z]{1,3})(\d{2}|2[AB]|\d{3})", text)
    if m is None:
        return False
    dept = m.group(3)
    if dept in ("2A", "2B"):
        return True
    if len(dept) == 3:
        return 971 <= int(dept) <= 976
    return 1 <= int(dept) <= 95 and dept != "20"  # 20 became 2A/2B in 1976


def _siv_valid(text: str) -> bool:
    return text[2:5] != "000" and text[:2] != "SS"


def _leading_digit_not_zero(text: str) -> bool:
    m = re.search(r"\d+$", text)
    return m is None or not m.group(0).startswith("0")


def _us_valid(text: str) -> bool:
    return any(c in _DIGITS for c in text) and any(c in _LETTERS for c in text)


def _fni_templates() -> tuple[str, ...]:
    return tuple(
        "D" * nd + "L" * nl + dept
        for nd in range(1, 5)
        for nl in range(1, 4)
        for dept in ("DD", "DK", "DDD")
    )


def _de_templates() -> tuple[str, ...]:
    # District (1–3 letters) + 1–2 letters + 1–4 digits, at most 8 characters in all; without
    # separators the two letter groups merge, so only the total letter count matters.
    return tuple(
        "L" * nl + "D" * nd for nl in range(2, 6) for nd in range(1, 5) if nl + nd <= 8
    )


#: Netherlands side codes 1–14 (letters: consonants only).
_NL_SIDECODES: Final = (
    "CCDDDD", "DDDDCC", "DDCCDD", "CCDDCC", "CCCCDD", "DDCCCC", "DDCCCD",
    "DCCCDD", "CCDDDC", "CDDDCC", "CCCDDC", "CDDCCC", "DCCDDD", "DDDCCD",
)

#: The grammars, in order of preference on equal scores (French first: this is a French product).
GRAMMARS: Final[tuple[Grammar, ...]] = (
    Grammar("fr-siv", ("SSDDDSS",), 1.0, _siv_valid, frozenset({"F"})),
    Grammar("fr-fni", _fni_templates(), 1.0, _fni_valid, frozenset({"F"})),
    Grammar("uk", ("LLDDLLL",), 0.97, None, frozenset({"GB", "UK"})),
    Grammar("it", ("TTDDDTT",), 0.95, None, frozenset({"I"})),
    Grammar("es", ("DDDDCCC",), 0.97, None, frozenset({"E"})),
    Grammar("be", ("DLLLDDD", "LLLDDD"), 0.95, None, frozenset({"B"})),
    Grammar("nl", _NL_SIDECODES, 0.94, None, frozenset({"NL"})),
    Grammar("de", _de_templates(), 0.94, _leading_digit_not_zero, frozenset({"D"})),
    # Generic US-style: 5–8 letters/digits with at least one of each. Lowest prior because it
    # fits almost anything; its X slots never coerce.
    Grammar("us", tuple("X" * n for n in range(5, 9)), 0.75, _us_valid, frozenset()),
)
_BY_NAME: Final[dict[str, Grammar]] = {g.name: g for g in GRAMMARS}


def grammar_named(name: str) -> Grammar:
    """The grammar called ``name``; ``KeyError`` listing the known names otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown plate grammar {name!r}; known: {', '.join(_BY_NAME)}") from None


def _clean_char(ch: str) -> str:
    """One raw OCR character → ``""`` or one ``A-Z0-9`` character."""
    ch = _GLYPHS.get(ch, ch)
    # NFKD turns full-width forms into ASCII and splits accents off (É → E + combining mark).
    for c in unicodedata.normalize("NFKD", ch):
        c = _GLYPHS.get(c, c).upper()
        if c in _ALNUM:
            return c
    return ""


def clean(raw: str) -> tuple[str, tuple[int, ...]]:
    """Uppercase ``A-Z0-9`` only, plus for each kept character its index in ``raw``."""
    out: list[str] = []
    idx: list[int] = []
    for i, ch in enumerate(raw):
        c = _clean_char(ch)
        if c:
            out.append(c)
            idx.append(i)
    return "".join(out), tuple(idx)


def _slot_fit(ch: str, allowed: frozenset[str]) -> float:
    if ch in allowed:
        return 1.0
    if any(c in allowed for c in CONFUSABLES.get(ch, "")):
        return CONFUSABLE_FIT
    return 0.0


def _coerce_template(text: str, template: str) -> str:
    out = []
    for ch, slot in zip(text, template, strict=True):
        allowed = SLOTS[slot]
        if ch not in allowed:
            ch = next((c for c in CONFUSABLES.get(ch, "") if c in allowed), ch)
        out.append(ch)
    return "".join(out)


def _template_fit(text: str, template: str) -> float:
    return sum(_slot_fit(c, SLOTS[s]) for c, s in zip(text, template, strict=True)) / len(text)


def _best_template(text: str, grammar: Grammar) -> tuple[str | None, float]:
    """The template of ``grammar`` that ``text`` fits best, and the full score 0..1."""
    best: tuple[str | None, float] = (None, 0.0)
    for template in grammar.templates_of_length(len(text)):
        score = _template_fit(text, template) * grammar.prior
        if score <= best[1]:
            continue
        if grammar.valid is not None and not grammar.valid(_coerce_template(text, template)):
            score *= INVALID_FACTOR
        if score > best[1]:
            best = (template, score)
    return best


def grammar_score(text: str, grammar: str | Grammar) -> float:
    """How well normalised ``text`` fits ``grammar`` (a name or a :class:`Grammar`), 0..1."""
    g = grammar_named(grammar) if isinstance(grammar, str) else grammar
    return _best_template(text, g)[1]


def best_grammar(text: str) -> tuple[str | None, float]:
    """The grammar normalised ``text`` fits best: ``(name, score 0..1)``; ``(None, 0.0)`` when
    no grammar has a template of this length. Ties go to the earlier grammar in
    :data:`GRAMMARS`."""
    best: tuple[str | None, float] = (None, 0.0)
    for g in GRAMMARS:
        score = _best_template(text, g)[1]
        if score > best[1]:
            best = (g.name, score)
    return best


def coerce(text: str, grammar: str | None) -> str:
    """Map confusable characters of normalised ``text`` onto what ``grammar``'s best-fitting
    template requires (digit slot ``O`` → ``0``, letter slot ``8`` → ``B``…). Unchanged when
    ``grammar`` is ``None`` or has no template of this length."""
    if grammar is None:
        return text
    template, _ = _best_template(text, grammar_named(grammar))
    return text if template is None else _coerce_template(text, template)


def band_length(text: str) -> int:
    """How many leading characters of cleaned ``text`` are an EU country band to strip (0–3).

    A prefix is stripped only when it is a known country code and the rest fits a grammar
    better than the whole text by :data:`BAND_MARGIN`, or equally well when the rest's grammar
    belongs to that country (``F`` + a French plate). Never below 4 remaining characters."""
    _, whole = best_grammar(text)
    best_k, best_score = 0, whole
    for k in (1, 2, 3):
        prefix, rest = text[:k], text[k:]
        if len(rest) < 4 or prefix not in COUNTRY_CODES:
            continue
        name, score = best_grammar(rest)
        own = name is not None and prefix in _BY_NAME[name].countries
        if score > best_score + BAND_MARGIN or (own and score >= best_score and score > 0):
            best_k, best_score = k, score
    return best_k


def normalise_indexed(raw: str) -> tuple[str, tuple[int, ...]]:
    """:func:`normalise` plus, for each output character, its index in ``raw`` (so per-char
    confidences can follow the text)."""
    text, idx = clean(raw)
    k = band_length(text)
    return text[k:], idx[k:]


def normalise(raw: str) -> str:
    """Raw OCR text → uppercase ``A-Z0-9`` with junk dropped, look-alike glyphs mapped
    (Cyrillic ``А`` → ``A``, ``$`` → ``S``, accents removed) and a leading EU country band
    stripped when the grammars say so (``F AB-123-CD`` → ``AB123CD``)."""
    return normalise_indexed(raw)[0]


def grammar_names() -> Iterable[str]:
    """Names of the known grammars, in preference order."""
    return tuple(g.name for g in GRAMMARS)


def fits_length(text: str, grammars: Sequence[str]) -> bool:
    """Whether some grammar in ``grammars`` has a template of ``len(text)``."""
    return any(grammar_named(g).templates_of_length(len(text)) for g in grammars)
