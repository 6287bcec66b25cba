"""Upright frames at the stored size: rotation metadata and mid-stream resolution changes.

A camera mounted sideways (or a phone) stores a *display matrix* (MP4 ``tkhd`` matrix, read by
FFmpeg as side data on every decoded frame): the frames are shown rotated. Retrouve stores the
*displayed* size and turns every frame upright before anything looks at it, so boxes,
thumbnails and overlays are all in displayed pixels. A segment at another resolution than the
stream's first (concatenated NVR exports, a camera reconfigured mid-file) is scaled to the
stored size, so boxes stay inside the stored frame and keep their relative position.
"""

from __future__ import annotations

import av
import numpy as np
import numpy.typing as npt


def quarter_turns(frame: av.VideoFrame) -> int:
    """Counter-clockwise quarter turns (0-3) that make ``frame`` upright (its display
    matrix's rotation, rounded to a multiple of 90°; flips are ignored)."""
    try:
        degrees = float(frame.rotation)
    except (AttributeError, ValueError, TypeError):
        return 0
    return round(degrees / 90.0) % 4


def displayed_size(width: int, height: int, turns: int) -> tuple[int, int]:
    """``(width, height)`` as displayed after ``turns`` quarter turns."""
    return (height, width) if turns % 2 else (width, height)


def upright(img: npt.NDArray[np.uint8], turns: int) -> npt.NDArray[np.uint8]:
    """``img`` (rows, cols[, channels]) turned ``turns`` quarter turns counter-clockwise."""
    if turns % 4 == 0:
        return img
    return np.ascontiguousarray(np.rot90(img, k=turns % 4))
