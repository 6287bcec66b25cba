"""How large a vehicle is compared with the other vehicles of its camera at the same place.

A fixed camera sees every vehicle in one perspective: the apparent size of a car grows
roughly linearly with how low its box stands in the frame (nearer the camera). Fitted over a
work unit's vehicle tracks, where cars are the majority, that line is the size of a *typical*
vehicle at each image row; a bus or a truck is then larger than the line at its own row, a
van slightly larger, whatever the camera's height or zoom. Measured on the TfL dev CVAT boxes
(``scripts/calibrate_type_vote.py``): track medians of the ratio car 0.6–1.07, van 1.0–1.2,
truck 0.95–1.96, bus 1.2–2.15.

Size is ``sqrt(box area)`` in frame pixels; the row is the box's bottom edge ``y1`` (where the
vehicle touches the road). Boxes cut by the frame edge are left out (their size is not the
vehicle's). The fit is a least-squares line refitted on the boxes within
:data:`TRIM_LOG` (in log ratio) of the median, so the large vehicles do not pull it up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from retrouve.domain import Observation

#: A fit needs this many tracks and this many usable boxes among them; with fewer (a
#: parking camera with two cars) there is no typical size to compare with.
MIN_TRACKS = 6
MIN_BOXES = 20
#: Boxes of one track used in the fit, spread over its life.
PER_TRACK = 5
#: Boxes whose size is further than this from the median ratio (in natural log, ~±40 %) are
#: left out of the next refit.
TRIM_LOG = 0.35
REFITS = 5
#: The line must predict at least this size (pixels) at a box's row for its ratio to count
#: (near the horizon a line through small boxes says little).
MIN_PREDICTED_PX = 8.0


@dataclass(frozen=True)
class SizeLine:
    """``size(y1) = a + b·y1``: the typical vehicle size (px) at bottom row ``y1`` (px)."""

    a: float
    b: float

    def predicted(self, y1: float) -> float:
        return self.a + self.b * y1

    def ratio(self, observations: Sequence[Observation], width: int, height: int) -> float | None:
        """Median of size / typical size over ``observations`` not cut by the frame edge,
        None when none is usable."""
        ratios = []
        for o in observations:
            p = self.predicted(o.box.y1)
            if not o.box.touches_edge(width, height) and p >= MIN_PREDICTED_PX:
                ratios.append(math.sqrt(max(o.box.area, 0.0)) / p)
        return float(np.median(ratios)) if ratios else None


def fit(tracks: Sequence[Sequence[Observation]], width: int, height: int) -> SizeLine | None:
    """The typical-size line of a unit's vehicle ``tracks`` (each its observations), None
    when there are too few tracks or boxes, or the fit predicts no positive size."""
    rows, sizes = [], []
    used = 0
    for obs in tracks:
        whole = [o for o in obs if not o.box.touches_edge(width, height) and o.box.area > 0]
        # Each track the same say: a bus standing in the near lane for the whole unit
        # would otherwise pull the line up there with dozens of boxes.
        step = max(1, math.ceil(len(whole) / PER_TRACK))
        for o in whole[::step]:
            rows.append(o.box.y1)
            sizes.append(math.sqrt(o.box.area))
        used += bool(whole)
    if used < MIN_TRACKS or len(rows) < MIN_BOXES:
        return None
    y, s = np.asarray(rows, np.float64), np.asarray(sizes, np.float64)
    keep = np.ones(len(y), bool)
    a = b = 0.0
    for _ in range(REFITS):
        if keep.sum() < MIN_BOXES // 2 or np.ptp(y[keep]) <= 0:
            return None
        b, a = (float(v) for v in np.polyfit(y[keep], s[keep], 1))
        pred = a + b * y
        usable = pred >= MIN_PREDICTED_PX
        if not np.any(usable & keep):
            return None
        logr = np.log(s / np.maximum(pred, 1e-6))
        keep = usable & (np.abs(logr - np.median(logr[keep & usable])) < TRIM_LOG)
    return SizeLine(a, b)


__all__ = ["MIN_BOXES", "MIN_TRACKS", "SizeLine", "fit"]
