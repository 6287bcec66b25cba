"""One whole decoded frame of a recording, at full (stored) resolution, nearest a given time.

The frame is taken with :func:`retrouve.video.decode.sample_frames`, the analysis's own
decoder: the same time rule (recording seconds, :mod:`retrouve.video.timeline`) and the same
geometry (upright, at the stored size, see :mod:`retrouve.video.orient`), so a track's boxes,
in stored-frame pixels at their recording second, lie exactly on the picture returned here.
The web's full-frame view (``retrouve.web.full_frame``) serves it as a JPEG.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image

from retrouve.errors import MediaError
from retrouve.video.decode import sample_frames

#: Seconds searched on either side of the wanted time: the nearest frame of any stream of
#: at least 1 fps lies within this.
SEARCH_S: Final = 1.0
#: JPEG quality of a served frame: visually lossless for an operator looking at details
#: (the frame is a view, not an exhibit; exhibits are PNG stills in the export).
JPEG_QUALITY: Final = 92


@dataclass(frozen=True)
class WholeFrame:
    """A decoded frame: ``t`` its recording second, ``rgb`` ``(height, width, 3)`` uint8,
    upright, at the stored size."""

    t: float
    rgb: npt.NDArray[np.uint8]

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    def jpeg(self, quality: int = JPEG_QUALITY) -> bytes:
        """The frame as a baseline JPEG at its own size (no scaling)."""
        out = io.BytesIO()
        Image.fromarray(self.rgb).save(out, format="JPEG", quality=quality)
        return out.getvalue()


def frame_at(path: Path | str, t: float, label: str, search_s: float = SEARCH_S) -> WholeFrame:
    """The decoded frame whose time is nearest ``t`` (recording seconds) among the frames of
    ``[t - search_s, t + search_s)``; a still image gives its one frame. Raises
    :class:`MediaError` naming ``label`` when there is no frame there or the file cannot be
    decoded."""
    best = None
    # A sampling rate far above any camera's: every decoded frame of the span is yielded.
    for frame in sample_frames(path, max(0.0, t - search_s), t + search_s, 1000.0, label=label):
        if best is None or abs(frame.t - t) < abs(best.t - t):
            best = frame
        elif frame.t > t:
            break  # times only grow: the frames from here on are further away
    if best is None:
        raise MediaError(f"no frame of {label} near {t:.2f}s")
    return WholeFrame(best.t, best.rgb())


__all__ = ["JPEG_QUALITY", "SEARCH_S", "WholeFrame", "frame_at"]
