"""Fuse colour evidence: pixel statistics with an attribute pack's colour head, and a person
pack's sample points with the clothing-region statistics.

Vehicle colour. The pixel statistics (:mod:`retrouve.vision.colour`) give a distribution over
the eleven basic terms (:data:`retrouve.domain.COLOURS`); the vehicle-attributes pack's colour
head knows seven of them (white, gray, yellow, red, green, blue, black). The pack **abstains**
on the four it cannot name (orange, brown, purple, pink): their mass stays what the pixels
say, and the pack only redistributes the share the pixels give the seven terms it knows::

    known = Σ_{k ∈ pack terms} p_k
    fused_k = p_k                                 for orange, brown, purple, pink
    fused_k = known · ((1 - w) p_k / known + w q_k)   for the seven pack terms

so a brown car stays brown when the pack says red, but a car whose pixels hesitate between
white and grey (silver) is settled by the pack. Night/IR footage keeps only the achromatic
terms, as :func:`retrouve.vision.colour.decide` does.

Person colours. The person-attributes pack gives one point on the upper body and one on the
lower body where the clothing colour should be sampled; the colour of a small patch around
each point is one more vote, of weight :data:`W_POINT`, added to that region's accumulated
scores. Pure functions: no model runs here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from retrouve.domain import COLOURS
from retrouve.vision import colour as col

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

#: The pack's colour names → Retrouve's terms (silver and grey are one term).
PACK_TERMS: Mapping[str, str] = {"white": "white", "gray": "grey", "grey": "grey",
                                 "yellow": "yellow", "red": "red", "green": "green",
                                 "blue": "blue", "black": "black"}
#: Weight of the pack's colour head within the terms it knows (see docs/analysis.md).
W_PACK = 0.5
#: The pack's colour head counts as this much pixel evidence (``decide``'s weight units).
PACK_EVIDENCE = 0.5
#: Weight of one sample-point patch among a person region's colour votes.
W_POINT = 0.5
#: Radius of the patch around a sample point, as a share of the crop's width.
POINT_RADIUS = 0.12


@dataclass(frozen=True)
class ColourVote:
    """A fused colour: ``scores`` float32 (11,) indexed like :data:`COLOURS`, summing to 1
    (zeros when ``weight`` is 0), and the evidence weight behind it (the pixel weight plus
    the pack's :data:`PACK_EVIDENCE` share), in :func:`retrouve.vision.colour.decide` units."""

    scores: F32
    weight: float


def pack_distribution(head: Mapping[str, float]) -> tuple[F32, F32]:
    """The pack head's probabilities on the 11 terms (zeros elsewhere, normalised) and the
    mask of the terms it knows. Unknown labels are ignored."""
    q = np.zeros(len(COLOURS), np.float32)
    known = np.zeros(len(COLOURS), np.float32)
    for label, p in head.items():
        term = PACK_TERMS.get(label.lower())
        if term is None:
            continue
        i = COLOURS.index(term)
        q[i] += max(0.0, float(p))
        known[i] = 1.0
    total = float(q.sum())
    if total > 0:
        q /= total
    return q, known


def fuse_vehicle_colour(pixel_sum: npt.ArrayLike, pixel_weight: float,
                        head: Mapping[str, float] | None, w_pack: float | None = None
                        ) -> ColourVote:
    """Fuse ``Σ scores·weight`` (11,) and ``Σ weight`` of the pixel statistics with the pack
    head's ``{label: probability}`` over *all* its labels (``None``/empty: pixels alone; the
    labels given are the terms the pack knows). With no pixel evidence the pack decides among
    its terms alone. ``w_pack``: the pack's weight within its terms (default :data:`W_PACK`).
    """
    w_pack = W_PACK if w_pack is None else w_pack
    s = np.clip(np.asarray(pixel_sum, np.float64).reshape(-1), 0.0, None)
    if s.shape[0] != len(COLOURS):
        raise ValueError(f"pixel scores: expected {len(COLOURS)} values, got {s.shape[0]}")
    total = float(s.sum())
    p: F64 = s / total if total > 0 else np.zeros(len(COLOURS))
    if not head:
        return ColourVote(p.astype(np.float32), pixel_weight if total > 0 else 0.0)
    q, known = pack_distribution(head)
    if float(q.sum()) <= 0:
        return ColourVote(p.astype(np.float32), pixel_weight if total > 0 else 0.0)
    if total <= 0 or pixel_weight <= 0:
        return ColourVote(q, PACK_EVIDENCE * w_pack)
    share = float((p * known).sum())
    fused = p.copy()
    if share > 0:
        inside = (1.0 - w_pack) * p / share + w_pack * q
        fused = np.where(known > 0, share * inside, p)
    fused /= fused.sum()
    return ColourVote(fused.astype(np.float32), pixel_weight + PACK_EVIDENCE * w_pack)


def point_patch(crop: npt.NDArray[np.uint8], point: tuple[float, float],
                radius: float = POINT_RADIUS) -> npt.NDArray[np.uint8]:
    """The pixels ``(N, 3)`` of a square patch of half-side ``radius · crop width`` around
    ``point`` (crop pixels, x right, y down), clipped to the crop; empty when outside."""
    h, w = crop.shape[:2]
    r = max(1, round(radius * w))
    x, y = round(point[0]), round(point[1])
    x0, x1 = max(0, x - r), min(w, x + r + 1)
    y0, y1 = max(0, y - r), min(h, y + r + 1)
    if x1 <= x0 or y1 <= y0:
        return np.zeros((0, 3), np.uint8)
    return np.ascontiguousarray(crop[y0:y1, x0:x1]).reshape(-1, 3)


def point_colour(crop: npt.NDArray[np.uint8], point: tuple[float, float],
                 gains: F32 | None = None, greyscale: bool = False) -> F32 | None:
    """Colour distribution (11,) of the patch around a sample point; None when empty. On
    greyscale footage only black/white/grey keep mass."""
    px = point_patch(crop, point)
    if px.shape[0] == 0:
        return None
    hist = col.colour_histogram(px, gains)
    if greyscale:
        keep = np.array([c in ("black", "white", "grey") for c in COLOURS])
        hist = np.where(keep, hist, 0.0).astype(np.float32)
        total = float(hist.sum())
        if total <= 0:
            return None
        hist = (hist / total).astype(np.float32)
    return hist


def add_point_vote(pixel_sum: npt.ArrayLike, pixel_weight: float, patch: F32 | None,
                   w_point: float = W_POINT) -> tuple[F64, float]:
    """``(Σ scores·weight, Σ weight)`` with the sample-point patch added as one more vote."""
    s = np.asarray(pixel_sum, np.float64).reshape(-1).copy()
    if patch is None or w_point <= 0:
        return s, pixel_weight
    return s + w_point * np.asarray(patch, np.float64), pixel_weight + w_point
