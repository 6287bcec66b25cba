"""Motion gate: skip static stretches of CCTV footage before the (expensive) detector.

Works on the small greyscale frames of :mod:`retrouve.video.decode` (160 px wide). The
background is a running average; a pixel is *moving* when it differs from the background by
more than a threshold that adapts to the frame's own noise (compression flicker, sensor noise)
and ignores global brightness changes (auto-exposure, clouds), which shift every pixel alike.
An object entering the frame changes a compact group of pixels and opens the gate; the
``refresh_seconds`` rule of the pipeline still runs the detector now and then so that objects
that never move (parked cars) are indexed too.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from retrouve.domain import Box


@dataclass(frozen=True)
class MotionResult:
    """Motion on one frame.

    ``fraction``: share of moving pixels (0..1). ``mask``: bool ``(h, w)`` at gate resolution.
    ``scale``: original-frame pixels per gate pixel.
    """

    fraction: float
    mask: npt.NDArray[np.bool_]
    scale: float

    def boxes(self, min_pixels: int = 4) -> list[Box]:
        """Bounding boxes of moving regions, in original-frame pixels."""
        mask = self.mask.astype(np.uint8)
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        out = []
        for i in range(1, n):
            x, y, w, h, area = (int(v) for v in stats[i])
            if area >= min_pixels:
                s = self.scale
                out.append(Box(x * s, y * s, (x + w) * s, (y + h) * s))
        return out

    def foreground(self, box: Box, shape: tuple[int, int]) -> npt.NDArray[np.bool_] | None:
        """The moving-pixel mask under ``box``, resized to ``shape`` (h, w) of its crop."""
        s = self.scale
        h, w = self.mask.shape
        x0, y0 = max(0, int(box.x0 / s)), max(0, int(box.y0 / s))
        x1, y1 = min(w, int(np.ceil(box.x1 / s))), min(h, int(np.ceil(box.y1 / s)))
        if x1 <= x0 or y1 <= y0:
            return None
        cut = self.mask[y0:y1, x0:x1].astype(np.uint8)
        resized = cv2.resize(cut, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
        return resized.astype(bool)


class MotionGate:
    """Running-average background subtraction on small greyscale frames."""

    def __init__(self, learning_rate: float = 0.05, min_threshold: float = 12.0) -> None:
        self.learning_rate = learning_rate
        self.min_threshold = min_threshold
        self._background: npt.NDArray[np.float32] | None = None
        self._kernel = np.ones((3, 3), np.uint8)

    def update(self, gray: npt.NDArray[np.uint8], original_width: int) -> MotionResult:
        """Compare ``gray`` with the background, then learn it. First frame: all moving."""
        frame = gray.astype(np.float32)
        scale = original_width / gray.shape[1]
        if self._background is None or self._background.shape != frame.shape:
            self._background = frame
            return MotionResult(1.0, np.ones(gray.shape, bool), scale)
        diff = frame - self._background
        diff -= float(np.median(diff))  # global exposure change moves every pixel alike
        absdiff = np.abs(diff)
        # Noise floor from the median absolute deviation: most pixels are static background.
        threshold = max(self.min_threshold, 4.0 * float(np.median(absdiff)))
        moving = (absdiff > threshold).astype(np.uint8)
        moving = cv2.morphologyEx(moving, cv2.MORPH_OPEN, self._kernel)
        # Learn slowly where things move (so a passing car does not burn in), fast elsewhere.
        rate = np.where(moving > 0, self.learning_rate * 0.2, self.learning_rate)
        self._background += rate.astype(np.float32) * (frame - self._background)
        mask = moving.astype(bool)
        return MotionResult(float(mask.mean()), mask, scale)
