"""Plate patterns typed by an operator, matched tolerantly against OCR'd plates.

A pattern is letters and digits plus two wildcards; case, spaces, dashes and dots are ignored:

* ``?`` — exactly one unknown character;
* ``*`` — any run of characters, possibly empty.

Without ``*`` a pattern must match the whole plate (``FG123AB``); ``FG*`` means "starts with",
``*75`` "ends with", ``*12*`` "contains".

Matching is a weighted edit distance (:meth:`PlatePattern.match_cost`): OCR confuses look-alike
characters, so substituting within a confusion class (:data:`CONFUSION_CLASSES`) is cheap, and
cheaper still where the plate character had a low OCR confidence. A plate is kept when its cost
stays within a tolerance that grows with the number of fixed characters in the pattern.

:func:`fold` maps a plate onto its confusion-class representatives; a store keeps a folded
plate column so that :meth:`PlatePattern.sql_like` can prefilter candidates with ``LIKE``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

from retrouve.domain import PlateMatch, PlateRead
from retrouve.errors import QueryError, QueryTooLong
from retrouve.vision.plates.confusions import CONFUSION_CLASSES, confusable
from retrouve.vision.plates.confusions import fold as _fold

# The confusion classes (0ODQ 1IL 2Z 4A 5S 6G 7T 8B UV; the first character of each is the
# representative) live beside the reader, so that analysis can fold plates for the store's
# column without importing search: one table for both sides.
__all__ = [
    "CONFUSION_CLASSES", "PlatePattern", "confusable", "explain_read", "fold", "match_read",
    "rank_plates", "read_cost", "substitution_cost", "tolerance",
]

#: Cost of substituting a character by another of its confusion class (at full confidence).
CONFUSION_COST: Final = 0.25
#: Cost of any other substitution, of a plate character missing from the pattern, or of a
#: pattern character missing from the plate.
EDIT_COST: Final = 1.0

#: Longest pattern as typed (spaces, dashes, dots included), in characters. Plates have at most
#: about ten characters; the API's ``plate`` parameter has the same bound.
MAX_PATTERN_CHARS: Final = 32
#: Longest normalised pattern (letters, digits, ``?``, ``*``). Bounds the SQL prefilter:
#: :meth:`PlatePattern.sql_likes` yields up to ``3n + 1`` LIKE variants, each tested against
#: two columns; unbounded, a 400-character pattern built 2,400 OR terms, past SQLite's
#: expression depth (a 500), and every distinct length filled SQLAlchemy's statement cache.
MAX_PATTERN_TOKENS: Final = 16
#: Most ``*`` wildcards in one pattern (each makes LIKE and the edit distance costlier).
MAX_PATTERN_STARS: Final = 3

_ALLOWED: Final = re.compile(r"[A-Za-z0-9?*\s.\-]*")
_IGNORED: Final = re.compile(r"[\s.\-]+")

T = TypeVar("T")


def fold(text: str) -> str:
    """Uppercase ``text`` with every character replaced by its confusion-class representative
    (``"BOSG"`` → ``"8056"``); characters outside every class are kept (uppercased)."""
    return _fold(text.upper())


def substitution_cost(want: str, got: str, conf: float | None = None) -> float:
    """Cost of pattern character ``want`` read as plate character ``got``.

    ``conf`` (0..1) is the OCR confidence of ``got``: a doubtful read makes a confusion
    cheaper (down to 40 % of :data:`CONFUSION_COST` at confidence 0)."""
    if want == got:
        return 0.0
    if confusable(want, got):
        c = 1.0 if conf is None else min(1.0, max(0.0, conf))
        return CONFUSION_COST * (0.4 + 0.6 * c)
    return EDIT_COST


def tolerance(n_fixed: int) -> float:
    """Largest accepted cost for a pattern with ``n_fixed`` letters/digits.

    Confusions: about one per three fixed characters (at least one, at most three so that they
    never add up to one more real error). Real errors (a wrong
    character, one missing or extra): none below 5 fixed characters (a fragment must be read
    right up to look-alikes), one for 5–9 (a full plate), two from 10."""
    confusions = min(3, max(1, math.ceil(n_fixed / 3)))
    errors = 0 if n_fixed < 5 else 1 if n_fixed < 10 else 2
    return errors * EDIT_COST + confusions * CONFUSION_COST


@dataclass(frozen=True)
class PlatePattern:
    """A parsed plate pattern: ``tokens`` is the normalised pattern (uppercase ``A-Z0-9``,
    ``?`` and ``*``, no repeated ``*``); ``source`` is what the operator typed."""

    source: str
    tokens: str

    @classmethod
    def parse(cls, text: str) -> PlatePattern:
        """Parse an operator's pattern; ``QueryError`` when empty, made of wildcards only, or
        holding characters other than letters, digits, ``?``, ``*``, spaces, dashes, dots;
        ``QueryTooLong`` past :data:`MAX_PATTERN_CHARS`, :data:`MAX_PATTERN_TOKENS` or
        :data:`MAX_PATTERN_STARS`."""
        if not text or not text.strip():
            raise QueryError(key="plate.empty")
        if len(text) > MAX_PATTERN_CHARS:
            raise QueryTooLong(key="plate.too_long",
                               params={"n": len(text), "max": MAX_PATTERN_CHARS})
        if _ALLOWED.fullmatch(text) is None:
            bad = sorted({c for c in text if _ALLOWED.fullmatch(c) is None})
            raise QueryError(key="plate.bad_chars",
                             params={"pattern": text, "chars": " ".join(bad)})
        tokens = re.sub(r"\*+", "*", _IGNORED.sub("", text).upper())
        if not any(c.isalnum() for c in tokens):
            raise QueryError(key="plate.no_alnum", params={"pattern": text})
        if len(tokens) > MAX_PATTERN_TOKENS:
            raise QueryTooLong(key="plate.too_many_tokens", params={
                "pattern": text, "n": len(tokens), "max": MAX_PATTERN_TOKENS})
        if tokens.count("*") > MAX_PATTERN_STARS:
            raise QueryTooLong(key="plate.too_many_stars", params={
                "pattern": text, "n": tokens.count("*"), "max": MAX_PATTERN_STARS})
        return cls(source=text, tokens=tokens)

    @property
    def n_fixed(self) -> int:
        """Number of letters/digits in the pattern."""
        return sum(1 for c in self.tokens if c.isalnum())

    @property
    def is_exact(self) -> bool:
        """True when the pattern has no wildcard at all."""
        return self.tokens.isalnum()

    @property
    def max_cost(self) -> float:
        """The tolerance :meth:`match_cost` applies (see :func:`tolerance`)."""
        return tolerance(self.n_fixed)

    def match_cost(
        self, plate: str, chars_conf: Sequence[float] | None = None
    ) -> float | None:
        """Weighted edit distance from this pattern to normalised ``plate`` (uppercase
        ``A-Z0-9``), or ``None`` when above :attr:`max_cost`.

        ``chars_conf`` gives the OCR confidence (0..1) of each plate character; when given it
        must have ``len(plate)`` entries. ``?`` matches any one character for free, ``*`` any
        run for free; see :func:`substitution_cost` for substitutions; a plate character not
        in the pattern, or a pattern character not in the plate, costs :data:`EDIT_COST`."""
        plate = plate.upper()
        if chars_conf is not None and len(chars_conf) != len(plate):
            raise ValueError(
                f"chars_conf has {len(chars_conf)} entries for plate {plate!r} "
                f"of {len(plate)} characters"
            )
        limit = self.max_cost
        n = len(plate)
        # prev[j]: cost of the pattern prefix so far against plate[:j]. One row per token.
        prev = [j * EDIT_COST for j in range(n + 1)]
        for tok in self.tokens:
            cur = [0.0] * (n + 1)
            if tok == "*":
                cur[0] = prev[0]
                for j in range(1, n + 1):
                    cur[j] = min(prev[j], cur[j - 1])  # star absorbs plate[j-1] for free
            else:
                cur[0] = prev[0] + EDIT_COST
                for j in range(1, n + 1):
                    if tok == "?":
                        sub = 0.0
                    else:
                        conf = None if chars_conf is None else chars_conf[j - 1]
                        sub = substitution_cost(tok, plate[j - 1], conf)
                    cur[j] = min(
                        prev[j - 1] + sub,
                        prev[j] + EDIT_COST,  # pattern char missing from the plate
                        cur[j - 1] + EDIT_COST,  # extra plate char
                    )
            prev = cur
            if min(prev) > limit:  # costs never decrease along the pattern: stop early
                return None
        cost = prev[n]
        return cost if cost <= limit + 1e-9 else None

    def edit_count(self, plate: str) -> int:
        """How many characters of ``plate`` differ from this pattern: the plain edit distance
        (every substitution, look-alike or not, and every missing or extra character counts
        one; ``?`` and ``*`` match for free). What an operator reads as "1 character
        differs"; :meth:`match_cost` is what decides whether the plate is kept."""
        plate = plate.upper()
        n = len(plate)
        prev = list(range(n + 1))
        for tok in self.tokens:
            if tok == "*":
                cur = [prev[0]]
                for j in range(1, n + 1):
                    cur.append(min(prev[j], cur[j - 1]))
            else:
                cur = [prev[0] + 1]
                for j in range(1, n + 1):
                    sub = 0 if tok in ("?", plate[j - 1]) else 1
                    cur.append(min(prev[j - 1] + sub, prev[j] + 1, cur[j - 1] + 1))
            prev = cur
        return prev[n]

    def matches(self, plate: str, chars_conf: Sequence[float] | None = None) -> bool:
        """Whether :meth:`match_cost` accepts ``plate``."""
        return self.match_cost(plate, chars_conf) is not None

    def sql_like(self) -> str:
        """A ``LIKE`` pattern over the *folded* plate column (:func:`fold`): ``?`` → ``_``,
        ``*`` → ``%``, characters folded. It selects exactly the plates that match up to
        confusions (no insertion, deletion or other substitution), so a store can use it as a
        prefilter when only confusions are wanted; it contains no ``LIKE`` escape characters."""
        return "".join("_" if c == "?" else "%" if c == "*" else fold(c) for c in self.tokens)

    def sql_likes(self) -> tuple[str, ...]:
        """``LIKE`` patterns over folded plates that together find every plate this pattern
        can match: :meth:`sql_like` itself, and when the tolerance allows one real edit, the
        pattern with one fixed character deleted, replaced by ``_``, or with ``_`` inserted
        (a superset: :meth:`match_cost` decides)."""
        base = self.sql_like()
        if self.max_cost < EDIT_COST:
            return (base,)
        out = {base}
        for i, c in enumerate(base):
            if c in "_%":
                continue
            out.add(base[:i] + base[i + 1:])       # the plate lacks this character
            out.add(base[:i] + "_" + base[i + 1:])  # a different character here
        for i in range(len(base) + 1):
            out.add(base[:i] + "_" + base[i:])     # the plate has an extra character
        return tuple(sorted(p for p in out if p.strip("%_")))

    def __str__(self) -> str:
        return self.tokens


def rank_plates(
    pattern: PlatePattern | str,
    candidates: Iterable[tuple[str, T]],
    chars_conf: Callable[[T], Sequence[float] | None] | None = None,
) -> list[tuple[float, T]]:
    """``(cost, item)`` for every ``(plate, item)`` candidate the pattern accepts, cheapest
    first (stable for equal costs). ``chars_conf(item)`` may supply per-character confidences.
    """
    pat = PlatePattern.parse(pattern) if isinstance(pattern, str) else pattern
    out: list[tuple[float, T]] = []
    for plate, item in candidates:
        conf = chars_conf(item) if chars_conf is not None else None
        cost = pat.match_cost(plate, conf)
        if cost is not None:
            out.append((cost, item))
    out.sort(key=lambda pair: pair[0])
    return out


def read_cost(
    pattern: PlatePattern,
    text: str,
    chars: Sequence[tuple[str, float]] = (),
    alternatives: Sequence[tuple[str, float]] = (),
    alternative_penalty: float = CONFUSION_COST,
) -> float | None:
    """Best cost of ``pattern`` against a consensus read (``text`` with per-character
    confidences ``chars`` as in ``PlateRead.chars``) or any of its ``alternatives`` (each
    costing ``alternative_penalty`` more); ``None`` when none is accepted."""
    conf = [c for _, c in chars] if len(chars) == len(text) else None
    costs = [pattern.match_cost(text, conf)]
    costs += [
        None if (c := pattern.match_cost(alt)) is None else c + alternative_penalty
        for alt, _ in alternatives
    ]
    kept = [c for c in costs if c is not None and c <= pattern.max_cost + 1e-9]
    return min(kept) if kept else None


def match_read(pattern: PlatePattern, read: PlateRead) -> float | None:
    """:func:`read_cost` of a track's :class:`~retrouve.domain.PlateRead`."""
    return read_cost(pattern, read.text, read.chars, read.alternatives)


def explain_read(
    pattern: PlatePattern, read: PlateRead, alternative_penalty: float = CONFUSION_COST
) -> PlateMatch | None:
    """Which of ``read``'s texts (consensus first, then runner-ups costing
    ``alternative_penalty`` more) fits ``pattern`` best, at what cost and with how many
    differing characters (:meth:`PlatePattern.edit_count`); ``None`` when none is accepted.
    On equal cost the consensus read wins."""
    conf = [c for _, c in read.chars] if len(read.chars) == len(read.text) else None
    best: PlateMatch | None = None
    cost = pattern.match_cost(read.text, conf)
    if cost is not None:
        best = PlateMatch(read.text, cost, pattern.edit_count(read.text))
    for alt, _ in read.alternatives:
        alt_cost = pattern.match_cost(alt)
        if alt_cost is None:
            continue
        total = alt_cost + alternative_penalty
        if best is None or total < best.cost - 1e-9:
            best = PlateMatch(alt, total, pattern.edit_count(alt), alternative=True)
    return best
