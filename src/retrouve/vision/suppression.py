"""Class-agnostic suppression of duplicate boxes on one object, keeping the class evidence.

A detector's own NMS is per class, so one car comes out as ``car`` *and* ``truck`` boxes, and
tiling adds the same object once per tile that sees it. Here boxes that describe one object
are folded into one detection: the most confident box stays (its box, score and class), and
the class evidence of every folded box is kept as a row of **votes** (``votes[i, c]`` = the
best score any folded box gave class ``c``), so the track's class vote and the vehicle-type
decision still see the car/truck mix.

Only classes of one **kind** suppress each other (:data:`KIND_OF_CLASS`): four-wheelers
(car, truck, bus), two-wheelers (bicycle, motorcycle), people, carried objects. A person beside
or inside a car, a rider on a bicycle, a bag carried by a person are other objects.

Two boxes are one object when their IoU ≥ ``iou`` (default 0.5), or, when the rule enables
it, when the smaller lies inside the larger (intersection / smaller area ≥ ``containment``)
and their areas are within ``max_area_ratio`` (a tile's piece of a large vehicle). Containment
is off by default: measured on the dev clips it folded no more objects than the track merge
(:mod:`retrouve.analysis.track_merge`) does anyway, and cost plate reads (docs/analysis.md,
"Duplicates"). Boxes are ``x0, y0, x1, y1`` in pixels of the image they were detected on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from retrouve.domain import OBJECT_CLASSES, Detections

F32 = npt.NDArray[np.float32]

_KINDS: Final[dict[str, str]] = {
    "car": "four-wheeler", "truck": "four-wheeler", "bus": "four-wheeler",
    "bicycle": "two-wheeler", "motorcycle": "two-wheeler",
    "person": "person",
    "backpack": "carried", "umbrella": "carried", "handbag": "carried", "suitcase": "carried",
}
#: Kind of each class index of :data:`OBJECT_CLASSES`: only classes of one kind suppress
#: each other.
KIND_OF_CLASS: Final[tuple[str, ...]] = tuple(_KINDS[c] for c in OBJECT_CLASSES)

#: Default IoU, chosen by measurement on the dev clips (see docs/analysis.md, "Duplicates").
DEFAULT_IOU: Final = 0.5


@dataclass(frozen=True)
class SuppressionRule:
    """When two boxes of one kind are one object: IoU ≥ ``iou``, or (``containment`` not
    ``None``) the smaller box that much inside the larger, areas within ``max_area_ratio``."""

    iou: float = DEFAULT_IOU
    containment: float | None = None
    max_area_ratio: float = 3.0

    def __post_init__(self) -> None:
        if not 0.0 < self.iou <= 1.0:
            raise ValueError("SuppressionRule: iou must be in (0, 1]")
        if self.containment is not None and not 0.0 < self.containment <= 1.0:
            raise ValueError("SuppressionRule: containment must be in (0, 1]")
        if self.max_area_ratio < 1.0:
            raise ValueError("SuppressionRule: max_area_ratio must be >= 1")


#: The containment variant measured against the default (docs/analysis.md, "Duplicates").
CONTAINED: Final = SuppressionRule(containment=0.8)


@dataclass(frozen=True)
class VotedDetections:
    """Detections after suppression, with their class evidence.

    * ``detections``: the kept boxes (original-frame pixels), their best score and class.
    * ``votes``: float32 ``(N, len(OBJECT_CLASSES))``; row ``i`` holds, per class, the best
      score given to that class by any box folded into detection ``i`` (its own included).
    * ``folded``: per detection, float32 ``(K, 5)`` rows ``x0, y0, x1, y1, score`` of the
      other boxes folded into it (``K`` may be 0); empty tuple = nothing folded anywhere.
    """

    detections: Detections
    votes: F32
    folded: tuple[F32, ...] = ()

    def __post_init__(self) -> None:
        want = (len(self.detections), len(OBJECT_CLASSES))
        if self.votes.dtype != np.float32 or self.votes.shape != want:
            raise ValueError(f"VotedDetections.votes: expected float32 {want}, got "
                             f"{self.votes.dtype} {tuple(self.votes.shape)}")
        if self.folded and len(self.folded) != want[0]:
            raise ValueError(f"VotedDetections.folded: expected {want[0]} entries, got "
                             f"{len(self.folded)}")

    def folded_boxes(self, i: int) -> F32:
        """``(K, 5)`` boxes and scores folded into detection ``i``."""
        return self.folded[i] if self.folded else np.zeros((0, 5), np.float32)

    @classmethod
    def single(cls, dets: Detections) -> VotedDetections:
        """Each detection votes for its own class only (nothing folded)."""
        votes = np.zeros((len(dets), len(OBJECT_CLASSES)), np.float32)
        votes[np.arange(len(dets)), dets.class_id] = dets.confidence
        return cls(dets, votes)

    def __len__(self) -> int:
        return len(self.detections)


def _overlaps(xyxy: F32, i: int, rest: npt.NDArray[np.intp], rule: SuppressionRule,
              ) -> npt.NDArray[np.bool_]:
    """Which boxes ``rest`` describe the same object as box ``i`` under ``rule``."""
    a = xyxy[i].astype(np.float64)
    b = xyxy[rest].astype(np.float64)
    lo = np.maximum(a[:2], b[:, :2])
    hi = np.minimum(a[2:], b[:, 2:])
    inter = np.prod(np.clip(hi - lo, 0.0, None), axis=1)
    area_a = float(np.prod(a[2:] - a[:2]))
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    union = area_a + area_b - inter
    iou = np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)
    same: npt.NDArray[np.bool_] = iou >= rule.iou
    if rule.containment is not None:
        small = np.maximum(np.minimum(area_a, area_b), 1e-9)
        large = np.maximum(area_a, area_b)
        same |= (inter / small >= rule.containment) & (large <= rule.max_area_ratio * small)
    return same


def suppress_duplicates(dets: Detections, rule: SuppressionRule | None = None,
                        votes: F32 | None = None) -> VotedDetections:
    """Fold boxes of one object (see module docstring) into the most confident one.

    Greedy, by decreasing score: the best remaining box absorbs every box of its kind that
    overlaps it under ``rule``. ``votes`` (``(N, C)`` float32) is the evidence the input rows
    already carry (from an earlier fold); by default each row votes for its own class.
    Output rows keep the input order of the kept boxes.
    """
    rule = rule or SuppressionRule()
    prior = votes if votes is not None else VotedDetections.single(dets).votes
    n = len(dets)
    if n < 2:
        return VotedDetections(dets, prior.astype(np.float32, copy=True))
    kinds = np.array([KIND_OF_CLASS[int(c)] for c in dets.class_id])
    order = np.argsort(-dets.confidence, kind="stable")
    alive = np.ones(n, bool)
    kept: list[int] = []
    rows: dict[int, F32] = {}
    folded: dict[int, F32] = {}
    for i in order.tolist():
        if not alive[i]:
            continue
        alive[i] = False
        kept.append(i)
        row = prior[i].copy()
        rest = np.flatnonzero(alive & (kinds == kinds[i]))
        same = rest[_overlaps(dets.xyxy, i, rest, rule)] if len(rest) else rest
        if len(same):
            row = np.maximum(row, prior[same].max(axis=0))
            alive[same] = False
        rows[i] = row
        folded[i] = np.concatenate([dets.xyxy[same], dets.confidence[same, None]], axis=1
                                   ).astype(np.float32)
    idx = np.array(sorted(kept), np.intp)
    out = np.stack([rows[int(i)] for i in idx]).astype(np.float32)
    return VotedDetections(dets.select(idx), out, tuple(folded[int(i)] for i in idx))
