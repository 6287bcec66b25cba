"""Combine the plate reads of one track (several frames) into one :class:`PlateRead`.

Steps, all pure:

1. re-normalise each read and pick the track's grammar by a confidence-weighted vote of each
   read's best grammar; coerce each read to that grammar when it fits it credibly (else to its
   own best grammar, when credible), so ``AB-I23-CD`` and ``AB-123-CD`` vote together;
2. group reads by length and keep the heaviest group (sum of read confidences);
3. vote per position, each read's character weighted by its character confidence; a
   character's consensus confidence is its vote divided by the number of reads in the group,
   so dissent and doubt both lower it;
4. alternatives: the runner-up character at each doubtful position, the distinct reads, and
   the best string of each other length group, scored on the same scale, best first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from retrouve.domain import PlateRead
from retrouve.vision.plates.grammar import best_grammar, coerce, grammar_score, normalise_indexed
from retrouve.vision.plates.ocr import MAX_CHARS, MIN_CHARS, RawRead

#: A grammar must fit at least this well before characters are coerced to it: one look-alike
#: in a 7-character French plate scores 0.94, while a wrong-length or foreign shape that only
#: the generic US grammar (prior 0.75) fits must stay as read.
COERCE_MIN_SCORE: Final = 0.85
#: Consensus below this confidence (0..1) is not credible: no plate for the track.
MIN_CONFIDENCE: Final = 0.3
#: Weight factor of a read that fits no plate grammar (a fitting read weighs its fit 0..1).
NO_GRAMMAR_WEIGHT: Final = 0.35
#: At most this many alternatives are kept.
MAX_ALTERNATIVES: Final = 5


@dataclass(frozen=True)
class _Read:
    text: str
    confs: tuple[float, ...]
    weight: float
    index: int


def _prepare(read: RawRead) -> tuple[str, tuple[float, ...]]:
    """Re-normalise (idempotent on a reader's output; strips a band a fake left in)."""
    text, idx = normalise_indexed(read.text)
    confs = tuple(read.chars[i][1] if i < len(read.chars) else read.confidence for i in idx)
    return text, confs


def _track_grammar(prepared: list[tuple[str, tuple[float, ...], float]]) -> str | None:
    votes: dict[str, float] = defaultdict(float)
    for text, _, weight in prepared:
        name, score = best_grammar(text)
        if name is not None and score >= COERCE_MIN_SCORE:
            votes[name] += weight * score
    return max(votes, key=lambda g: votes[g]) if votes else None


def _coerced(text: str, grammar: str | None) -> tuple[str, str | None]:
    """``text`` coerced to the track grammar if it fits it credibly, else to its own best."""
    if grammar is not None and grammar_score(text, grammar) >= COERCE_MIN_SCORE:
        return coerce(text, grammar), grammar
    own, score = best_grammar(text)
    if own is not None and score >= COERCE_MIN_SCORE:
        return coerce(text, own), own
    return text, None


def _votes(group: list[_Read]) -> list[dict[str, float]]:
    n = len(group[0].text)
    votes: list[dict[str, float]] = [defaultdict(float) for _ in range(n)]
    for r in group:
        for i, (c, conf) in enumerate(zip(r.text, r.confs, strict=True)):
            # A character read at confidence 0 still says "something is here": tiny floor.
            votes[i][c] += max(conf, 0.01)
    return votes


def _score(text: str, votes: list[dict[str, float]], n_reads: int) -> float:
    """Mean over positions of the share of read-confidence that voted for ``text``'s char."""
    return sum(v.get(c, 0.0) for c, v in zip(text, votes, strict=True)) / (len(text) * n_reads)


def consensus(
    reads: Sequence[RawRead], t_of: Sequence[float] | None = None
) -> PlateRead | None:
    """The consensus plate of one track's ``reads`` (any order, several per frame allowed).

    ``t_of[k]`` is the recording time (seconds) of the frame of ``reads[k]``; the result's
    ``best_t`` and ``box`` come from the most confident read agreeing with the consensus (box in
    whatever frame the reads' boxes are in: shift them to frame pixels first with
    :meth:`RawRead.shifted`). Returns ``None`` when no read looks like a plate or the consensus
    confidence is below :data:`MIN_CONFIDENCE`.
    """
    if t_of is not None and len(t_of) != len(reads):
        raise ValueError(f"t_of has {len(t_of)} times for {len(reads)} reads")
    prepared = []
    for k, r in enumerate(reads):
        text, confs = _prepare(r)
        if MIN_CHARS <= len(text) <= MAX_CHARS and any(c.isdigit() for c in text):
            # A vehicle crop holds other text (phone numbers, slogans, dealer frames): a read
            # that fits no plate grammar weighs less than one that does.
            _, fit = best_grammar(text)
            prepared.append((text, confs, r.confidence * max(NO_GRAMMAR_WEIGHT, fit), k))
    if not prepared:
        return None
    grammar = _track_grammar([(t, c, w) for t, c, w, _ in prepared])
    groups: dict[int, list[_Read]] = defaultdict(list)
    grammar_of: dict[int, dict[str | None, float]] = defaultdict(lambda: defaultdict(float))
    for text, confs, weight, k in prepared:
        ctext, g = _coerced(text, grammar)
        groups[len(ctext)].append(_Read(ctext, confs, weight, k))
        grammar_of[len(ctext)][g] += weight
    total = sum(r.weight for g in groups.values() for r in g) or 1.0
    # Heaviest length group first; on equal weight, the one whose reads fit a grammar.
    order = sorted(
        groups,
        key=lambda n: (
            -sum(r.weight for r in groups[n]),
            -sum(w for g, w in grammar_of[n].items() if g is not None),
        ),
    )
    main = groups[order[0]]
    votes = _votes(main)
    n_reads = len(main)
    chars = tuple(
        (c := max(v, key=lambda ch: v[ch]), v[c] / n_reads) for v in votes
    )
    text = "".join(c for c, _ in chars)
    share = sum(r.weight for r in main) / total
    confidence = _score(text, votes, n_reads) * (0.5 + 0.5 * share)
    if confidence < MIN_CONFIDENCE:
        return None

    candidates: dict[str, float] = {}
    # Runner-up characters: one substitution at a time.
    for i, v in enumerate(votes):
        for ch in sorted(v, key=lambda c: -v[c])[1:3]:
            alt = text[:i] + ch + text[i + 1 :]
            candidates[alt] = _score(alt, votes, n_reads) * (0.5 + 0.5 * share)
    for m in main:
        candidates.setdefault(m.text, _score(m.text, votes, n_reads) * (0.5 + 0.5 * share))
    for n in order[1:]:
        other = groups[n]
        ov = _votes(other)
        otext = "".join(max(v, key=lambda ch: v[ch]) for v in ov)
        oshare = sum(r.weight for r in other) / total
        candidates[otext] = max(
            candidates.get(otext, 0.0), _score(otext, ov, len(other)) * (0.5 + 0.5 * oshare)
        )
    candidates.pop(text, None)
    alternatives = tuple(
        (alt, round(score, 4))
        for alt, score in sorted(candidates.items(), key=lambda kv: (-kv[1], kv[0]))
        if score > 0
    )[:MAX_ALTERNATIVES]

    agreeing = [r for r in main if r.text == text] or main
    best = max(agreeing, key=lambda r: r.weight)
    g_final = grammar_of[order[0]]
    gname = max(g_final, key=lambda g: g_final[g])
    return PlateRead(
        text=text,
        confidence=min(1.0, confidence),
        chars=tuple((c, min(1.0, p)) for c, p in chars),
        alternatives=alternatives,
        grammar=gname,
        reads=len(prepared),
        best_t=0.0 if t_of is None else float(t_of[best.index]),
        box=reads[best.index].box,
    )
