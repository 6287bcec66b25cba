"""Plate-read accuracy on labelled footage: exact-read rate and character error rate.

Ground truth comes from the ``plate-exact`` queries of an evaluation set: the query's plate is
the true text of the vehicle seen in each expected sighting. For each such sighting, the
reads of the vehicle tracks overlapping it in time (same camera) are compared with the truth:

* **exact** — some overlapping track's consensus read equals the truth;
* **CER** — the smallest Levenshtein distance between the truth and an overlapping read,
  divided by the truth's length (1.0 when no track there has a read: a missed read is
  counted, not skipped).

The best read over overlapping tracks is used because several vehicles may be in view; this
measures the reader, not the search ranking (which the plate-exact category measures).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


def levenshtein(a: str, b: str) -> int:
    """Plain edit distance (unit costs)."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        cur = [i]
        for j, cb in enumerate(b, start=1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


@dataclass(frozen=True)
class PlateCase:
    """One labelled plate sighting and the reads found there."""

    query_id: str
    truth: str
    reads: tuple[str, ...]

    @property
    def exact(self) -> bool:
        return self.truth in self.reads

    @property
    def cer(self) -> float:
        if not self.reads:
            return 1.0
        return min(1.0, min(levenshtein(self.truth, r) for r in self.reads) / len(self.truth))


@dataclass(frozen=True)
class PlateAccuracy:
    cases: int
    with_read: int
    exact_rate: float | None
    cer: float | None

    def to_json(self) -> dict[str, object]:
        return dict(self.__dict__)


def summarise_plates(cases: Sequence[PlateCase]) -> PlateAccuracy:
    if not cases:
        return PlateAccuracy(0, 0, None, None)
    n = len(cases)
    return PlateAccuracy(
        cases=n, with_read=sum(1 for c in cases if c.reads),
        exact_rate=sum(c.exact for c in cases) / n, cer=sum(c.cer for c in cases) / n,
    )
