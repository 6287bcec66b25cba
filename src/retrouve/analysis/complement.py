"""Complementary detection of the carried objects a detector pack cannot see.

The recommended detector packs (OMZ person-vehicle-bike) know ``vehicle``/``person``/``bike``
only: with them no bag, suitcase, backpack or umbrella is ever detected, so the carried-object
association (:mod:`retrouve.analysis.carried`) never fires and left-behind bags, their own
searchable tracks with the built-in COCO SSD, disappear. ``ModelSet.complement_classes`` is
that gap (derived from the pack's ``label_map``, :func:`retrouve.vision.models.missing_classes`)
and ``ModelSet.complement`` the built-in SSD that fills it.

:class:`ComplementaryPass` runs that SSD, restricted to the gap's classes, only where such
objects can be, on each frame the main detector ran on:

* **around every detected person** (:data:`PERSON_MARGIN`: a bag hangs beside the hips, a
  suitcase is pulled beside the legs) and **around every object of the gap seen in the last**
  :data:`WATCH_S` **seconds** (so a bag put down stays watched while its carrier walks away:
  that is what the left-behind rule needs); every person each :data:`INTERVAL_S` seconds,
  the people holding a watched item and the watched items on every detected frame;
* **on the whole frame at each refresh frame** of the pipeline (one pass, no tiles), so an
  object standing alone from the start is found, and from then on watched.

The regions are merged where they overlap, upscaled (the SSD sees a person at up to 300 px
instead of a sliver of a 300 px frame) and laid out up to four per mosaic, one SSD pass per
mosaic (:func:`layout`). A frame with no person and nothing watched costs nothing. The boxes
found join the main detector's before tracking, so carried-object association and left-behind
logic work on them unchanged.

Boxes are original-frame pixels (x0, y0, x1, y1); times recording seconds; images RGB uint8.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from retrouve.domain import OBJECT_CLASSES, Box, Detections
from retrouve.vision.detector import Detector
from retrouve.vision.suppression import VotedDetections, suppress_duplicates

U8 = npt.NDArray[np.uint8]

#: A person's box widened by these fractions of its width and height on each side: the
#: association's "near" test allows the item's centre 0.3 widths and 0.1 heights outside
#: the box (``carried._near``); the region holds the whole item around such a centre.
PERSON_MARGIN = (0.5, 0.15)
#: A watched item's box widened by this many of its own sizes on each side (it moves
#: between sampled frames with its carrier). Only for items outside every person's region:
#: a person's region already covers what they carry, and a wide item region merged into it
#: would shrink both in the mosaic (measured on aboda-pavement: a spurious 130 px
#: "umbrella" widened 1x swallowed the carrier's region and the bag went unseen).
ITEM_MARGIN = 0.5
#: People shorter than this (frame pixels) are not searched: what they carry is under
#: ~10 px, below what the SSD resolves even upscaled :data:`MAX_UPSCALE` times.
MIN_PERSON_PX = 40.0
#: Seconds between two searches of every person of a frame (sweeps excepted); people with a
#: watched item in their region, and watched items alone, are searched on every detected
#: frame. Finding a bag needs one look at its carrier, tracking it needs it on consecutive
#: frames: measured on aboda-pavement, the carried bag scores 0.23-0.43 frame to frame;
#: searching its carrier once per 0.5 s left too few detections over the tracker's 0.3 bar
#: to make a track, and its own crop (without the carrier) finds it on no frame.
INTERVAL_S = 0.5
#: Seconds an item's region stays watched after it was last found.
WATCH_S = 2.0
#: Regions whose intersection covers this share of the smaller one are searched as one.
MERGE_SHARE = 0.3
#: Side of the square mosaic in pixels: the built-in SSD's input, so a mosaic is never
#: resized again by the detector.
MOSAIC_PX = 300
#: Most upscaling of a region into its cell (beyond it the crop is mostly interpolation).
MAX_UPSCALE = 4.0
#: Grey of the mosaic's padding (the SSD's training letterbox colour).
PAD = 114
#: Cell grid (columns, rows) by the number of regions in one mosaic: person regions are
#: tall, so two share the mosaic side by side in 150 x 300 cells.
_GRIDS = {1: (1, 1), 2: (2, 1), 3: (2, 2), 4: (2, 2)}
PER_MOSAIC = max(_GRIDS)


def widen(box: Box, mx: float, my: float, width: int, height: int) -> Box:
    """``box`` widened by ``mx`` of its width and ``my`` of its height on each side,
    clipped to a ``width`` x ``height`` frame."""
    dx, dy = box.width * mx, box.height * my
    return Box(max(0.0, box.x0 - dx), max(0.0, box.y0 - dy),
               min(float(width), box.x1 + dx), min(float(height), box.y1 + dy))


def _intersection(a: Box, b: Box) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(0.0, w) * max(0.0, h)


def merge_regions(regions: Sequence[Box], share: float = MERGE_SHARE) -> list[Box]:
    """Regions with overlapping ones (intersection ≥ ``share`` of the smaller) replaced by
    their union, until none overlap that much; order: by first appearance."""
    out = list(regions)
    changed = True
    while changed:
        changed = False
        for i in range(len(out)):
            for j in range(i + 1, len(out)):
                a, b = out[i], out[j]
                small = min(a.area, b.area)
                if small > 0 and _intersection(a, b) >= share * small:
                    out[i] = Box(min(a.x0, b.x0), min(a.y0, b.y0),
                                 max(a.x1, b.x1), max(a.y1, b.y1))
                    del out[j]
                    changed = True
                    break
            if changed:
                break
    return out


def plan_regions(people: Sequence[Box], items: Sequence[Box], width: int, height: int
                 ) -> list[Box]:
    """Where to look for carried objects on a ``width`` x ``height`` frame: around each
    person at least :data:`MIN_PERSON_PX` tall and each watched item not already inside a
    person's region (widened, clipped, merged); regions under 2 px dropped."""
    wide = [widen(p, *PERSON_MARGIN, width, height) for p in people
            if p.height >= MIN_PERSON_PX]
    covered = list(wide)
    wide += [widen(b, ITEM_MARGIN, ITEM_MARGIN, width, height) for b in items
             if not any(r.x0 <= b.center[0] <= r.x1 and r.y0 <= b.center[1] <= r.y1
                        for r in covered)]
    return [r for r in merge_regions(wide) if r.width >= 2 and r.height >= 2]


@dataclass(frozen=True)
class Placement:
    """One region pasted into a mosaic: ``mosaic`` index, the pasted rectangle's top-left
    ``(ox, oy)`` in mosaic pixels, its size ``(w, h)`` and ``scale`` (mosaic px per frame
    px)."""

    region: Box
    mosaic: int
    ox: int
    oy: int
    w: int
    h: int
    scale: float

    def contains(self, x: float, y: float) -> bool:
        """Whether mosaic point ``(x, y)`` lies on this region's pixels."""
        return self.ox <= x < self.ox + self.w and self.oy <= y < self.oy + self.h

    def to_frame(self, xyxy: npt.NDArray[np.float32]) -> Box:
        """A mosaic box → frame pixels, clipped to the region."""
        r, s = self.region, self.scale
        x0, y0, x1, y1 = (float(v) for v in xyxy)
        return Box(max(r.x0, r.x0 + (x0 - self.ox) / s), max(r.y0, r.y0 + (y0 - self.oy) / s),
                   min(r.x1, r.x0 + (x1 - self.ox) / s), min(r.y1, r.y0 + (y1 - self.oy) / s))


def layout(regions: Sequence[Box]) -> list[Placement]:
    """Regions laid out :data:`PER_MOSAIC` at most per :data:`MOSAIC_PX` mosaic, each
    scaled to fit its cell (up to :data:`MAX_UPSCALE`) and centred in it."""
    out: list[Placement] = []
    for m, start in enumerate(range(0, len(regions), PER_MOSAIC)):
        chunk = regions[start:start + PER_MOSAIC]
        cols, rows = _GRIDS[len(chunk)]
        cw, ch = MOSAIC_PX // cols, MOSAIC_PX // rows
        for k, r in enumerate(chunk):
            scale = min(cw / r.width, ch / r.height, MAX_UPSCALE)
            w = min(cw, max(1, round(r.width * scale)))
            h = min(ch, max(1, round(r.height * scale)))
            ox, oy = (k % cols) * cw + (cw - w) // 2, (k // cols) * ch + (ch - h) // 2
            out.append(Placement(r, m, ox, oy, w, h, scale))
    return out


def _keep(dets: Detections, class_ids: npt.NDArray[np.int32]) -> Detections:
    ok = np.isin(dets.class_id, class_ids)
    return Detections(dets.xyxy[ok], dets.confidence[ok], dets.class_id[ok])


def detect_in_regions(detector: Detector, image: U8, regions: Sequence[Box],
                      class_ids: npt.NDArray[np.int32]) -> tuple[Detections, int]:
    """``detector``'s boxes of ``class_ids`` inside ``regions`` of ``image`` (frame pixels),
    and the number of detector passes (one per mosaic). A box belongs to the region its
    centre falls on; boxes on the padding are dropped."""
    places = layout(regions)
    n_mosaics = (len(regions) + PER_MOSAIC - 1) // PER_MOSAIC
    boxes: list[list[float]] = []
    scores: list[float] = []
    classes: list[int] = []
    for m in range(n_mosaics):
        mosaic = np.full((MOSAIC_PX, MOSAIC_PX, 3), PAD, np.uint8)
        mine = [p for p in places if p.mosaic == m]
        for p in mine:
            r = p.region
            crop = image[int(r.y0):int(np.ceil(r.y1)), int(r.x0):int(np.ceil(r.x1))]
            interp = cv2.INTER_LINEAR if p.scale > 1 else cv2.INTER_AREA
            mosaic[p.oy:p.oy + p.h, p.ox:p.ox + p.w] = cv2.resize(crop, (p.w, p.h),
                                                                  interpolation=interp)
        found = _keep(detector.detect(mosaic), class_ids)
        for j in range(len(found)):
            x0, y0, x1, y1 = (float(v) for v in found.xyxy[j])
            home = next((p for p in mine if p.contains((x0 + x1) / 2, (y0 + y1) / 2)), None)
            if home is None:
                continue
            b = home.to_frame(found.xyxy[j])
            if b.width >= 2 and b.height >= 2:
                boxes.append(b.as_list())
                scores.append(float(found.confidence[j]))
                classes.append(int(found.class_id[j]))
    if not boxes:
        return Detections.empty(), n_mosaics
    return Detections(np.array(boxes, np.float32), np.array(scores, np.float32),
                      np.array(classes, np.int32)), n_mosaics


def _holds(person: Box, items: Sequence[Box], width: int, height: int) -> bool:
    """Whether an item's centre lies in ``person``'s region."""
    r = widen(person, *PERSON_MARGIN, width, height)
    return any(r.x0 <= b.center[0] <= r.x1 and r.y0 <= b.center[1] <= r.y1 for b in items)


def with_extra(voted: VotedDetections, extra: Detections) -> VotedDetections:
    """``voted`` followed by ``extra`` (each extra box voting for its own class only)."""
    if not len(extra):
        return voted
    add = VotedDetections.single(extra)
    folded = (voted.folded + tuple(np.zeros((0, 5), np.float32) for _ in range(len(extra)))
              if voted.folded else ())
    return VotedDetections(Detections.concat([voted.detections, extra]),
                           np.concatenate([voted.votes, add.votes]), folded)


class ComplementaryPass:
    """The complementary detection of one unit (stateful: the watched items).

    ``detector``: the built-in SSD (any :class:`Detector`); ``classes``: the Retrouve classes
    to keep from it (the main detector's gap, carried objects).
    """

    def __init__(self, detector: Detector, classes: frozenset[str]) -> None:
        self.detector = detector
        self.class_ids = np.array(sorted(OBJECT_CLASSES.index(c) for c in classes), np.int32)
        self._watched: list[tuple[Box, float]] = []
        self._last_people = -np.inf
        #: Detector passes run so far (mosaics and sweeps).
        self.passes = 0

    def run(self, image: U8, t: float, main: Detections, sweep: bool) -> Detections:
        """The gap's objects on ``image`` at recording second ``t``, given the main
        detector's boxes ``main``; ``sweep``: also one pass over the whole frame."""
        h, w = image.shape[:2]
        person = OBJECT_CLASSES.index("person")
        people = [Box(*(float(v) for v in main.xyxy[i]))
                  for i in range(len(main)) if int(main.class_id[i]) == person]
        self._watched = [(b, seen) for b, seen in self._watched if t - seen <= WATCH_S]
        parts: list[Detections] = []
        if sweep:
            parts.append(_keep(self.detector.detect(image), self.class_ids))
            self.passes += 1
        look = t - self._last_people >= INTERVAL_S - 1e-6
        watched = [b for b, _ in self._watched]
        # Between looks, only the people something was recently found near: an item is
        # found again with its carrier's context, rarely from its own small crop.
        searched = people if look else [p for p in people if _holds(p, watched, w, h)]
        regions = plan_regions(searched, watched, w, h)
        if look and any(p.height >= MIN_PERSON_PX for p in people):
            self._last_people = t
        if regions:
            found, n = detect_in_regions(self.detector, image, regions, self.class_ids)
            parts.append(found)
            self.passes += n
        dets = suppress_duplicates(Detections.concat(parts)).detections
        self._watched += [(Box(*(float(v) for v in dets.xyxy[i])), t) for i in range(len(dets))]
        return dets
