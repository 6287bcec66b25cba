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
    ``scale``: original-frame pixels per gate pixel. ``cut``: a scene cut (most of the frame
    changed at once: the next still of a slideshow, an edit, a camera moved to a preset), so
    the objects seen before are not the objects now in view.
    """

    fraction: float
    mask: npt.NDArray[np.bool_]
    scale: float
    cut: bool = False

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

    def __init__(
        self, learning_rate: float = 0.05, min_threshold: float = 12.0, scene_cut: float = 0.6
    ) -> None:
        self.learning_rate = learning_rate
        self.min_threshold = min_threshold
        self.scene_cut = scene_cut
        self._background: npt.NDArray[np.float32] | None = None
        self._previous: npt.NDArray[np.float32] | None = None
        #: Noise level (median absolute frame difference, grey levels) of the last frame pair
        #: that was not a scene cut; None until a pair was seen.
        self._noise: float | None = None
        self._kernel = np.ones((3, 3), np.uint8)

    def update(self, gray: npt.NDArray[np.uint8], original_width: int) -> MotionResult:
        """Compare ``gray`` with the background and the previous frame, then learn.

        ``fraction`` counts pixels that changed since the previous sampled frame (so a car
        that parks stops opening the gate); ``mask`` marks pixels that differ from the
        background (so the colour code can tell a parked car from the road). A scene cut
        (most of the frame changed: camera moved, stills slideshow, lights on) resets the
        background instead of leaving the gate open while it re-learns. First frame: all
        moving.
        """
        frame = gray.astype(np.float32)
        scale = original_width / gray.shape[1]
        if self._background is None or self._background.shape != frame.shape:
            self._background = frame
            self._previous = frame
            self._noise = None
            return MotionResult(1.0, np.ones(gray.shape, bool), scale)
        assert self._previous is not None
        changed, noise, median = self._moving(frame, self._previous, self._noise)
        fraction = float(changed.mean())
        self._previous = frame
        # Half the pixels changed beyond both the moving threshold and twice the known
        # noise: their median did (a cut the capped threshold may show as a minority).
        most = self._noise is not None and median > max(self.min_threshold, 2.0 * self._noise + 1.0)
        if fraction > self.scene_cut or most:
            self._background = frame.copy()
            return MotionResult(max(fraction, 0.5) if most else fraction, changed, scale, cut=True)
        self._noise = noise
        foreground = self._moving(frame, self._background, noise)[0] | changed
        # Learn slowly where things move (so a passing car does not burn in), fast elsewhere.
        rate = np.where(foreground, self.learning_rate * 0.2, self.learning_rate)
        self._background += rate.astype(np.float32) * (frame - self._background)
        return MotionResult(fraction, foreground, scale)

    def _moving(
        self,
        frame: npt.NDArray[np.float32],
        reference: npt.NDArray[np.float32],
        noise: float | None,
    ) -> tuple[npt.NDArray[np.bool_], float, float]:
        """Pixels of ``frame`` that differ from ``reference`` beyond the noise, the noise
        level used and the median absolute difference itself (grey levels).

        The noise floor is the median absolute difference: most pixels are static
        background. When most pixels really changed (the next still of a slideshow, a car
        filling the view) that median is the change itself, so it may not exceed twice the
        last known ``noise`` (+1 grey level): measured on the plate camera, a still change
        gave medians of 35–69 after 0 on static pairs, a threshold of 140–276 that hid the
        new car (fraction 0.000–0.002, no scene cut), so the detector waited for its 5 s
        refresh. Noise that grows gradually (dusk, sensor gain) is still followed.
        """
        diff = frame - reference
        diff -= float(np.median(diff))  # global exposure change moves every pixel alike
        absdiff = np.abs(diff)
        median = float(np.median(absdiff))
        level = median if noise is None else min(median, 2.0 * noise + 1.0)
        threshold = max(self.min_threshold, 4.0 * level)
        moving = (absdiff > threshold).astype(np.uint8)
        moving = cv2.morphologyEx(moving, cv2.MORPH_OPEN, self._kernel)
        return moving.astype(bool), level, median
