"""The size a still image is analysed (and stored) at: huge stills are scaled down first.

A still under the ingest limit (``max_pixels``, a decompression-bomb guard) can still be huge:
a 12000×9000 scan is 108 Mpx, 324 MB as RGB, and every analysis stage (motion gate, detector,
colour naming, crops, thumbnails) would work on it. Stills over :data:`STILL_MAX_PIXELS` are
analysed at a size scaled down to that many pixels (aspect ratio kept, even sides), and that
is the size stored for the recording: boxes are in its pixels, as they are in a video's
stored frame size, and the player scales them to what it shows. The file itself is untouched
(its SHA-256 and the original served to admins stay the file's).
"""

from __future__ import annotations

import math
from typing import Final

import av.container

#: Most pixels a still is analysed at (16 Mpx: more than any CCTV camera's frame).
STILL_MAX_PIXELS = 16_000_000
#: Demuxers of still images (FFmpeg's ``image2`` and ``*_pipe`` families).
IMAGE_DEMUXERS: Final = ("image2", "_pipe")


def analysis_size(width: int, height: int, max_pixels: int | None = None
                  ) -> tuple[int, int]:
    """``(width, height)`` scaled down to at most ``max_pixels`` pixels (default
    :data:`STILL_MAX_PIXELS`, read at call time), aspect ratio kept (sides even, at least
    2, so an extreme strip may stay a little over); unchanged when already small enough."""
    if max_pixels is None:
        max_pixels = STILL_MAX_PIXELS
    if width <= 0 or height <= 0 or width * height <= max_pixels:
        return width, height
    k = math.sqrt(max_pixels / (width * height))
    return max(2, int(width * k) // 2 * 2), max(2, int(height * k) // 2 * 2)


def is_still_container(container: av.container.InputContainer) -> bool:
    """True when FFmpeg opened ``container`` with a still-image demuxer (by content: a
    PNG named ``.mp4`` still comes through ``png_pipe``)."""
    names = str(container.format.name)
    return any(d in names for d in IMAGE_DEMUXERS)
