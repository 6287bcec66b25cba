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

**Tile pieces** (when the caller says where each box was detected, :class:`PassRegions`): a
tile's detector sees only the part of a large vehicle inside the tile, so its box stops at the
tile's inner border (a *cut* box, :func:`cut_boxes`) and often scores higher than the whole
frame's box of the same vehicle, because the vehicle is larger in the tile's input. Plain IoU
cannot fold such pieces (two halves of one car have IoU ≈ 0.2), and a greedy fold by score
would keep a piece and drop the whole box. So:

- uncut boxes are considered before cut ones (a complete view wins over a piece, whatever
  the scores), and a kept box takes the best score of the pieces it folds as its detection
  score (the object is there with that confidence; a strong piece must still start a
  track); the class votes stay per class, so a piece's class is never credited to another;
- a box and a cut box of one kind are one object when, **clipped to the region both passes
  saw**, their IoU reaches ``iou``: a whole-frame box cut down to the tile is what the tile
  could see of it; two pieces from neighbouring tiles are compared in the band both tiles
  cover;
- a cut box that folds other cut pieces becomes their union (no pass saw the whole object).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from retrouve.domain import OBJECT_CLASSES, Detections

F32 = npt.NDArray[np.float32]

_KINDS: Final[dict[str, str]] = {
    "car": "four-wheeler",
    "truck": "four-wheeler",
    "bus": "four-wheeler",
    "bicycle": "two-wheeler",
    "motorcycle": "two-wheeler",
    "person": "person",
    "backpack": "carried",
    "umbrella": "carried",
    "handbag": "carried",
    "suitcase": "carried",
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
            raise ValueError(
                f"VotedDetections.votes: expected float32 {want}, got "
                f"{self.votes.dtype} {tuple(self.votes.shape)}"
            )
        if self.folded and len(self.folded) != want[0]:
            raise ValueError(
                f"VotedDetections.folded: expected {want[0]} entries, got {len(self.folded)}"
            )

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


#: A box side this close to its pass's inner border (fraction of the pass region's side along
#: that axis, at least :data:`CUT_MIN_PX`) is cut by it: detectors place the edge of a clipped
#: object a few pixels inside the image border (measured on the plate camera: 0–7 px on
#: 704 px tiles).
CUT_FRACTION: Final = 0.015
CUT_MIN_PX: Final = 3.0


@dataclass(frozen=True)
class PassRegions:
    """Where each box was detected: ``regions`` float32 ``(N, 4)``, the ``x0, y0, x1, y1`` of
    the detector pass (a tile, or the whole frame) that gave row ``i``, in the same pixels as
    the boxes; ``width`` x ``height`` the whole frame (a region side on the frame's border
    cuts nothing)."""

    regions: F32
    width: float
    height: float

    def __post_init__(self) -> None:
        if self.regions.dtype != np.float32 or self.regions.ndim != 2 or self.regions.shape[1] != 4:
            raise ValueError(
                f"PassRegions.regions: expected float32 (N, 4), got "
                f"{self.regions.dtype} {tuple(self.regions.shape)}"
            )

    @classmethod
    def of(
        cls, parts: list[tuple[tuple[float, float, float, float], int]], width: float, height: float
    ) -> PassRegions:
        """Regions for boxes concatenated pass by pass: ``(region, number of boxes)`` each."""
        rows = [np.tile(np.array(r, np.float32), (n, 1)) for r, n in parts if n]
        regions = np.concatenate(rows) if rows else np.zeros((0, 4), np.float32)
        return cls(regions.astype(np.float32, copy=False), width, height)


def cut_boxes(xyxy: F32, passes: PassRegions) -> npt.NDArray[np.bool_]:
    """Which boxes touch an inner border of their pass region (a border that is not the
    frame's own): the pass saw only part of the object."""
    if len(xyxy) != len(passes.regions):
        raise ValueError(f"cut_boxes: {len(xyxy)} boxes but {len(passes.regions)} regions")
    b = xyxy.astype(np.float64)
    r = passes.regions.astype(np.float64)
    tol_x = np.maximum(CUT_FRACTION * (r[:, 2] - r[:, 0]), CUT_MIN_PX)
    tol_y = np.maximum(CUT_FRACTION * (r[:, 3] - r[:, 1]), CUT_MIN_PX)
    left = (r[:, 0] > 0) & (b[:, 0] - r[:, 0] <= tol_x)
    top = (r[:, 1] > 0) & (b[:, 1] - r[:, 1] <= tol_y)
    right = (r[:, 2] < passes.width) & (r[:, 2] - b[:, 2] <= tol_x)
    bottom = (r[:, 3] < passes.height) & (r[:, 3] - b[:, 3] <= tol_y)
    out: npt.NDArray[np.bool_] = left | top | right | bottom
    return out


def _areas(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]
           ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Row by row, the intersection of boxes ``a`` and ``b`` (``(N, 4)`` or broadcastable)
    and their areas (empty boxes count 0)."""
    inter = np.prod(np.clip(np.minimum(a[:, 2:], b[:, 2:]) - np.maximum(a[:, :2], b[:, :2]),
                            0.0, None), axis=1)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0.0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0.0, None), axis=1)
    return inter, area_a, area_b


def _clipped_iou(
    xyxy: F32, regions: F32, i: int, rest: npt.NDArray[np.intp]
) -> npt.NDArray[np.float64]:
    """IoU of box ``i`` with each box of ``rest``, both clipped to the region their two passes
    saw (the intersection of the pass regions); 0 where either clipped box is empty."""
    common_lo = np.maximum(regions[i, :2].astype(np.float64), regions[rest, :2])
    common_hi = np.minimum(regions[i, 2:].astype(np.float64), regions[rest, 2:])
    a = np.concatenate([np.clip(xyxy[i, :2].astype(np.float64), common_lo, common_hi),
                        np.clip(xyxy[i, 2:].astype(np.float64), common_lo, common_hi)], axis=1)
    b = np.concatenate([np.clip(xyxy[rest, :2].astype(np.float64), common_lo, common_hi),
                        np.clip(xyxy[rest, 2:].astype(np.float64), common_lo, common_hi)], axis=1)
    inter, area_a, area_b = _areas(a, b)
    union = area_a + area_b - inter
    ok = (area_a > 0) & (area_b > 0) & (union > 0)
    return np.where(ok, inter / np.maximum(union, 1e-9), 0.0)


def _overlaps(
    xyxy: F32,
    i: int,
    rest: npt.NDArray[np.intp],
    rule: SuppressionRule,
) -> npt.NDArray[np.bool_]:
    """Which boxes ``rest`` describe the same object as box ``i`` under ``rule``."""
    inter, area_a, area_b = _areas(xyxy[[i]].astype(np.float64), xyxy[rest].astype(np.float64))
    union = area_a + area_b - inter
    iou = np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)
    same: npt.NDArray[np.bool_] = iou >= rule.iou
    if rule.containment is not None:
        small = np.maximum(np.minimum(area_a, area_b), 1e-9)
        large = np.maximum(area_a, area_b)
        same |= (inter / small >= rule.containment) & (large <= rule.max_area_ratio * small)
    return same


def suppress_duplicates(
    dets: Detections,
    rule: SuppressionRule | None = None,
    votes: F32 | None = None,
    passes: PassRegions | None = None,
) -> VotedDetections:
    """Fold boxes of one object (see module docstring) into the most confident one.

    Greedy, by decreasing score: the best remaining box absorbs every box of its kind that
    overlaps it under ``rule``. ``votes`` (``(N, C)`` float32) is the evidence the input rows
    already carry (from an earlier fold); by default each row votes for its own class.
    With ``passes`` (where each row was detected), tile pieces are folded too, complete
    boxes first (module docstring, "Tile pieces"). Output rows keep the input order of the
    kept boxes.
    """
    rule = rule or SuppressionRule()
    prior = votes if votes is not None else VotedDetections.single(dets).votes
    n = len(dets)
    if n < 2:
        return VotedDetections(dets, prior.astype(np.float32, copy=True))
    if passes is not None and len(passes.regions) != n:
        raise ValueError(
            f"suppress_duplicates: {n} detections but {len(passes.regions)} pass regions"
        )
    kinds = np.array([KIND_OF_CLASS[int(c)] for c in dets.class_id])
    cut = cut_boxes(dets.xyxy, passes) if passes is not None else np.zeros(n, np.bool_)
    # Complete views first, then pieces; by decreasing score within each (stable on ties).
    order = np.lexsort((np.arange(n), -dets.confidence, cut))
    alive = np.ones(n, bool)
    kept: list[int] = []
    rows: dict[int, F32] = {}
    folded: dict[int, F32] = {}
    boxes = dets.xyxy.copy()
    scores = dets.confidence.copy()
    for i in order.tolist():
        if not alive[i]:
            continue
        alive[i] = False
        kept.append(i)
        row = prior[i].copy()
        rest = np.flatnonzero(alive & (kinds == kinds[i]))
        same = rest[_overlaps(dets.xyxy, i, rest, rule)] if len(rest) else rest
        if passes is not None and len(rest):
            # Pieces: a pair with a cut box is compared where both passes could see.
            either = rest[cut[rest] | cut[i]]
            if len(either):
                hit = _clipped_iou(dets.xyxy, passes.regions, i, either) >= rule.iou
                pieces = either[hit]
                same = np.union1d(same, pieces).astype(np.intp)
                if len(pieces):
                    scores[i] = max(float(scores[i]), float(dets.confidence[pieces].max()))
                    if cut[i]:
                        # No pass saw the whole object: it spans the pieces it is made of.
                        group = np.concatenate([dets.xyxy[[i]], dets.xyxy[pieces[cut[pieces]]]])
                        boxes[i] = np.concatenate(
                            [group[:, :2].min(axis=0), group[:, 2:].max(axis=0)]
                        )
        if len(same):
            row = np.maximum(row, prior[same].max(axis=0))
            alive[same] = False
        rows[i] = row
        folded[i] = np.concatenate([dets.xyxy[same], dets.confidence[same, None]], axis=1).astype(
            np.float32
        )
    idx = np.array(sorted(kept), np.intp)
    out = np.stack([rows[int(i)] for i in idx]).astype(np.float32)
    kept_dets = Detections(
        boxes[idx].astype(np.float32),
        scores[idx].astype(np.float32),
        dets.class_id[idx].astype(np.int32),
    )
    return VotedDetections(kept_dets, out, tuple(folded[int(i)] for i in idx))
