"""Keep a vehicle track's best full-resolution views, then read its plate once per track.

Reading every frame would cost 30–60 ms of OCR per vehicle per frame; one frame alone is
fragile (blur, glare, a pedestrian in front). So while the track is built, up to ``k`` views
are kept — the largest, most confident, not cut by the frame edge, at least ``spacing_s``
apart — and when the unit ends they are read and the reads combined into one consensus
(:func:`retrouve.vision.plates.consensus.consensus`). Crops come from the full-resolution
frame, never from a detector input. Times are recording seconds, boxes original pixels.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from retrouve.domain import Box, PlateRead
from retrouve.vision.plates.consensus import consensus
from retrouve.vision.plates.ocr import PlateReader, RawRead

#: Views wider than this are downscaled before OCR: a plate is then still ≥ 100 px wide.
MAX_VIEW_PX = 640
#: Margin around the vehicle box (share of its size): plates sit on the box's lower edge.
MARGIN = 0.05


@dataclass
class _View:
    quality: float
    t: float
    crop: npt.NDArray[np.uint8]
    x0: int
    y0: int
    scale: float


@dataclass
class PlateViews:
    """The best ``k`` views of one vehicle track (see module docstring)."""

    k: int = 3
    spacing_s: float = 0.4
    min_px: int = 90
    views: list[_View] = field(default_factory=list)

    def offer(self, t: float, box: Box, score: float, image: npt.NDArray[np.uint8]) -> None:
        """Consider the view of ``box`` at ``t`` on the full-resolution RGB ``image``."""
        if box.width < self.min_px:
            return
        h, w = image.shape[:2]
        edge = box.x0 <= 1 or box.y0 <= 1 or box.x1 >= w - 1 or box.y1 >= h - 1
        quality = score * box.width * (0.3 if edge else 1.0)
        close = [v for v in self.views if abs(v.t - t) < self.spacing_s]
        if close:
            # A view near in time is nearly the same picture: keep the better of the two.
            if quality <= max(v.quality for v in close):
                return
            self.views = [v for v in self.views if v not in close]
        elif len(self.views) >= self.k:
            worst = min(self.views, key=lambda v: v.quality)
            if quality <= worst.quality:
                return
            self.views.remove(worst)
        self.views.append(_crop_view(image, box, t, quality))

    def read(self, reader: PlateReader) -> PlateRead | None:
        """Read every kept view and combine the reads; boxes come back in frame pixels."""
        reads: list[RawRead] = []
        times: list[float] = []
        for v in sorted(self.views, key=lambda v: v.t):
            for r in reader.read(v.crop):
                b = r.box
                frame_box = Box(v.x0 + b.x0 / v.scale, v.y0 + b.y0 / v.scale,
                                v.x0 + b.x1 / v.scale, v.y0 + b.y1 / v.scale)
                reads.append(dataclasses.replace(r, box=frame_box))
                times.append(v.t)
        self.views.clear()  # free the crops as soon as they are read
        if not reads:
            return None
        return consensus(reads, times)


def _crop_view(image: npt.NDArray[np.uint8], box: Box, t: float, quality: float) -> _View:
    h, w = image.shape[:2]
    mx, my = box.width * MARGIN, box.height * MARGIN
    x0, y0 = max(0, int(box.x0 - mx)), max(0, int(box.y0 - my))
    x1, y1 = min(w, int(np.ceil(box.x1 + mx))), min(h, int(np.ceil(box.y1 + my)))
    crop = image[y0:y1, x0:x1]
    scale = min(1.0, MAX_VIEW_PX / max(1, x1 - x0))
    if scale < 1.0:
        crop = np.asarray(cv2.resize(crop, (max(1, int((x1 - x0) * scale)),
                                            max(1, int((y1 - y0) * scale))),
                                     interpolation=cv2.INTER_AREA), np.uint8)
    else:
        crop = crop.copy()  # the decoder reuses its frame buffer
    return _View(quality, t, crop, x0, y0, scale)
