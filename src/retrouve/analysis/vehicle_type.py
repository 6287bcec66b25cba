"""Derive the ``van`` type (light commercial vehicle, *camionnette*, *utilitaire*).

COCO detectors have no van class: they call a van ``car`` on some frames and ``truck`` on
others. Two kinds of evidence point to a van, both over the whole track (not one frame):

* **class mix** — the detector hesitates between car and truck: its car/truck votes are split,
  whereas a saloon is almost always ``car`` and a lorry mostly ``truck``;
* **shape** — a van's box is tall for its width compared with a car seen from the same side
  (a car seen from the front is about 0.75 high per unit of width, a van about 1.0; seen from
  the side a car is about 0.4, a van about 0.6). Without knowing the view, the track's
  median height/width ratio is compared with the car range of both views.

Neither is decisive alone, so the van probability combines them, and a track becomes a van
only when that probability wins over the car/truck vote. The other types stay as runner-up
values of the ``vehicle_type`` attribute so a search for a car still finds a van ranked lower.
Size in pixels is not used: it depends on the distance to the camera.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from retrouve.domain import Observation


@dataclass(frozen=True)
class TypeEstimate:
    """Probabilities ``{car, van, truck}`` summing to 1, and the winner."""

    probabilities: dict[str, float]

    @property
    def best(self) -> str:
        return max(self.probabilities, key=lambda k: self.probabilities[k])

    def ranked(self) -> list[tuple[str, float]]:
        return sorted(self.probabilities.items(), key=lambda kv: -kv[1])


def _tallness(observations: Sequence[Observation]) -> float:
    """0..1: how much taller than a car the track's boxes are (median height / width)."""
    ratios = [o.box.height / o.box.width for o in observations if o.box.width > 0]
    if not ratios:
        return 0.0
    r = float(np.median(ratios))
    # Boxes cut by the frame edge distort the ratio; a wide range keeps this evidence weak.
    # Side view: car ≈ 0.40, van ≈ 0.60; front/rear view: car ≈ 0.75, van ≈ 1.0. Between the
    # two views the ratio says little, so only the extremes of each range count.
    if r < 0.55:
        return float(np.clip((r - 0.45) / 0.15, 0.0, 1.0))
    return float(np.clip((r - 0.85) / 0.25, 0.0, 1.0))


def estimate(car_votes: float, truck_votes: float,
             observations: Sequence[Observation]) -> TypeEstimate:
    """Car / van / truck probabilities from the detector's votes and the boxes' shape."""
    total = car_votes + truck_votes
    if total <= 0:
        return TypeEstimate({"car": 1.0, "van": 0.0, "truck": 0.0})
    truck_share = truck_votes / total
    # 1 when votes are split evenly, 0 when unanimous.
    split = 1.0 - abs(truck_share - 0.5) * 2.0
    tall = _tallness(observations)
    van = 0.6 * split + 0.4 * tall
    if truck_share < 0.15:
        van *= 0.5 + tall * 0.5  # a unanimous "car" needs the shape to say van
    rest = 1.0 - van
    return TypeEstimate({
        "car": rest * (1.0 - truck_share),
        "van": van,
        "truck": rest * truck_share,
    })
