"""OCR confusion classes of plate characters, shared by analysis and search (the table itself
lives in :mod:`retrouve.domain` so that the store can fold plates without trusting callers).

The first character of each class is its representative; :func:`fold` maps a plate onto
representatives, so two strings that differ only by look-alike characters fold to the same
text. Chosen from the classic plate-OCR confusions: round glyphs (0 O D Q), vertical strokes
(1 I L), and the digit/letter pairs that share a skeleton in plate fonts (2 Z, 4 A, 5 S, 6 G,
7 T, 8 B, U V). Classes must be disjoint (fold is a partition), so weaker confusions that would
chain classes together (C/G, T/1, E/F, P/R) are left out.
"""

from __future__ import annotations

from typing import Final

from retrouve.domain import PLATE_CONFUSION_CLASSES, fold_plate

CONFUSION_CLASSES: Final[tuple[str, ...]] = PLATE_CONFUSION_CLASSES
_FOLD: Final[dict[str, str]] = {c: cls[0] for cls in CONFUSION_CLASSES for c in cls}


def fold(text: str) -> str:
    """``text`` (normalised ``A-Z0-9``) with each character replaced by its class head."""
    return fold_plate(text)


def confusable(a: str, b: str) -> bool:
    """Whether two characters are the same or in one confusion class."""
    return _FOLD.get(a, a) == _FOLD.get(b, b)
