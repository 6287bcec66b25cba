"""Near-misses in free text: a mistyped object, colour, garment, carried-object or make word
("vouture", "blanhce", "pantallon", "peugot") read as the vocabulary word it is one typo from.

Only a word the parser would otherwise leave *unknown* is tried (never a stop word, a time, a
plate or a word that is vocabulary already), and only against single vocabulary words of
those kinds. The distance is the optimal-string-alignment edit distance (insertions,
deletions, substitutions and swaps of two neighbours each cost 1; ``rapidfuzz.distance.OSA``),
allowed up to :func:`max_typos` for the word's length: none under 5 letters (too many short
words are one letter from another), 1 from 5, 2 from 9. The first letter must be right (typos
there are rare, and it keeps "roule" off "boule"-like accidents). When the best distance is
reached by words of different meanings the word is not guessed: :func:`near` returns the
candidates so the operator can be asked ("did you mean …?"). Every correction is reported by
the parser as a note, never applied silently.

Pure; the candidate table is built once from ``text_vocab.LEXICON``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Final

from rapidfuzz import process
from rapidfuzz.distance import OSA

from retrouve.search.text_tokens import word_set
from retrouve.search.text_vocab import LEXICON, Entry

#: Vocabulary kinds a typo is corrected to (shades and models are left out: a shade changes
#: nothing searched, and model names are short codes or need their make).
FUZZY_KINDS: Final = frozenset({"object", "colour", "garment", "accessory", "make"})

#: Ordinary words one typo from a vocabulary word, never corrected ("roule" is not "rouge").
NOT_TYPOS: Final = word_set(
    "roule, roulait, roulant, roulent, route, routes, place, porte, portes, poste, ville, "
    "boule, vente, verre, marche, marché, plage, moule, mouche, coupe, coude, garde, barre, "
    "barres, voies, rouge-gorge, rangé, rangée, bloqué, bloquée, garée, garé, garés",
    "route, place, plane, plant, blank, track, trick, stack, couch, coast, ghost, crown, "
    "frown, grown, there, where, these, those, while, whole, write, wrote, right, sight, "
    "greet, parked, blocked",
)


@dataclass(frozen=True)
class Near:
    """The outcome of looking a word up fuzzily: ``entry`` the one meaning it was read as
    (``key`` the vocabulary word, ``typos`` the distance), or None with ``candidates`` the
    equally near words of different meanings."""

    word: str
    key: str = ""
    entry: Entry | None = None
    typos: int = 0
    candidates: tuple[str, ...] = ()


def max_typos(word: str) -> int:
    """Edits allowed for a folded word: 0 under 5 letters, 1 from 5, 2 from 9."""
    if len(word) < 5 or not word.isalpha():
        return 0
    return 1 if len(word) < 9 else 2


@cache
def _candidates() -> dict[str, Entry]:
    """Single vocabulary words of :data:`FUZZY_KINDS` (folded, alphabetic, 4 letters or more)."""
    return {key[0]: entry for key, entry in LEXICON.items()
            if len(key) == 1 and entry.kind in FUZZY_KINDS and key[0].isalpha()
            and len(key[0]) >= 4}


def near(word: str) -> Near | None:
    """The vocabulary word ``word`` (folded) is a typo of, or the tied candidates; None when
    nothing is near enough or the word is not to be corrected."""
    limit = max_typos(word)
    if not limit or word in NOT_TYPOS:
        return None
    table = _candidates()
    if word in table:
        return None  # not a typo: the lexicon reads it directly
    matches = process.extract(word, list(table), scorer=OSA.distance, score_cutoff=limit,
                              limit=None)
    found = [(key, int(dist)) for key, dist, _ in matches if key[0] == word[0]]
    if not found:
        return None
    best = min(dist for _, dist in found)
    nearest = sorted(key for key, dist in found if dist == best)
    meanings = {table[key] for key in nearest}
    if len(meanings) > 1:
        return Near(word, typos=best, candidates=tuple(nearest))
    return Near(word, nearest[0], table[nearest[0]], best)
