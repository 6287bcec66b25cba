"""Re-rank SQL candidates by criteria SQL cannot score: plate edit cost, vector similarity.

Pure functions over :class:`~retrouve.store.db.TrackRow`; the returned rows carry their new
``score`` (0..1), best first, ties broken by start time then id (stable paging).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from retrouve.search.plate_pattern import PlatePattern
from retrouve.store.db import TrackRow
from retrouve.vision.appearance import from_bytes

#: A runner-up plate read matches at this extra cost (the consensus is likelier right).
ALTERNATIVE_PENALTY = 0.5
#: Cosine similarity below which a track is not "similar" (built-in colour vectors of unrelated
#: objects score 0.3–0.6; the same object seen again 0.8–0.95).
MIN_SIMILARITY = 0.6


def _key(r: TrackRow) -> tuple[float, float, float, int]:
    # Ties break on score components (object confidence, then duration), never on time; the
    # id makes the order total, so pages concatenate to the full list.
    return (-r.score, -r.object_conf, -(r.end - r.start).total_seconds(), r.id)


def plate_score(pattern: PlatePattern, row: TrackRow) -> float | None:
    """0..1: how well the row's plate read (or one of its alternatives) fits ``pattern``."""
    plate = row.plate
    if plate is None:
        return None
    costs = []
    cost = pattern.match_cost(plate.text, [c for _, c in plate.chars])
    if cost is not None:
        costs.append(cost)
    for alt, _ in plate.alternatives:
        alt_cost = pattern.match_cost(alt)
        if alt_cost is not None:
            costs.append(alt_cost + ALTERNATIVE_PENALTY)
    if not costs:
        return None
    # exp(-cost): an exact read scores 1, one confusion ~0.78, one real error ~0.37; the
    # read's own confidence weighs in so that a clear read outranks a guess of equal cost.
    return math.exp(-min(costs)) * (0.5 + 0.5 * plate.confidence)


def by_plate(pattern: PlatePattern, rows: Sequence[TrackRow]) -> list[TrackRow]:
    """Rows whose plate matches ``pattern``, scored by match quality × object confidence."""
    out = []
    for r in rows:
        s = plate_score(pattern, r)
        if s is not None:
            out.append(dataclasses.replace(r, score=s * (0.5 + 0.5 * r.score)))
    return sorted(out, key=_key)


def by_similarity(
    target: npt.NDArray[np.float32], rows: Sequence[TrackRow], vectors: Mapping[int, bytes],
    min_sim: float = MIN_SIMILARITY,
) -> list[TrackRow]:
    """Rows with a vector, scored by cosine similarity to ``target`` (both L2-normalised)."""
    have = [r for r in rows if r.id in vectors]
    if not have:
        return []
    matrix = np.stack([from_bytes(vectors[r.id]) for r in have])
    if matrix.shape[1] != target.shape[0]:
        return []
    sims = matrix @ target
    out = [dataclasses.replace(r, score=float(max(0.0, s)))
           for r, s in zip(have, sims, strict=True) if s >= min_sim]
    return sorted(out, key=_key)
