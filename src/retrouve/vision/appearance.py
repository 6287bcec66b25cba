"""The built-in appearance vector for "find similar" (no model needed).

A track's appearance is summarised as hue/saturation/value histograms of its body regions:
torso and legs for a person (head excluded: this is not a face descriptor), the body band for a
vehicle (windows and wheels mostly excluded). Each region gives ``8 hue × 3 saturation`` bins
for chromatic pixels plus ``4 value`` bins for achromatic ones (black/grey/white have no
reliable hue), square-rooted (Hellinger) so cosine similarity behaves like the Bhattacharyya
coefficient. Per-frame vectors are averaged over the track, then L2-normalised.

It compares colours and their layout, not identity: two people in the same red coat and blue
jeans look alike to it. A re-identification or CLIP pack gives better vectors when installed.

:class:`AppearanceEmbedder` is this vector behind the :class:`~retrouve.vision.embedder.Embedder`
seam (the functions below do the work; the class adds no arithmetic of its own, so its vectors
are bit-identical to theirs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]

KIND: Final = "builtin-colour"
_HUE_BINS, _SAT_BINS, _VAL_BINS = 8, 3, 4
_REGION_DIM = _HUE_BINS * _SAT_BINS + _VAL_BINS
#: Person: torso rows 0.18–0.55 and legs 0.55–0.95 of the box height; vehicle: one body band.
_PERSON_REGIONS: Final = ((0.18, 0.55), (0.55, 0.95))
_VEHICLE_REGIONS: Final = ((0.35, 0.85),)
#: Both layouts give vectors of the same length (vehicles pad with zeros) so a single column
#: type stores them; they are never compared across kinds (the search filters by object).
DIM: Final = _REGION_DIM * 2
_MIN_SAT = 0.25  # below this saturation a pixel counts as achromatic
_CROP_PX = 64  # regions are resized to at most this side: histograms need few pixels


def appearance_vector(crop_rgb: npt.NDArray[np.uint8], person: bool) -> F32 | None:
    """Unnormalised appearance vector ``(DIM,)`` of one box crop (RGB), or ``None`` if tiny."""
    h, w = crop_rgb.shape[:2]
    if h < 8 or w < 4:
        return None
    regions = _PERSON_REGIONS if person else _VEHICLE_REGIONS
    out = np.zeros(DIM, np.float32)
    for i, (r0, r1) in enumerate(regions):
        # Central 80 % of the width: the box edges are mostly background.
        part = crop_rgb[int(h * r0): max(int(h * r0) + 1, int(h * r1)),
                        int(w * 0.1): max(int(w * 0.1) + 1, int(w * 0.9))]
        out[i * _REGION_DIM:(i + 1) * _REGION_DIM] = _region_histogram(part)
    return out


def _region_histogram(part: npt.NDArray[np.uint8]) -> F32:
    ph, pw = part.shape[:2]
    scale = min(1.0, _CROP_PX / max(ph, pw))
    if scale < 1.0:
        part = np.asarray(cv2.resize(part, (max(1, int(pw * scale)), max(1, int(ph * scale))),
                                     interpolation=cv2.INTER_AREA), np.uint8)
    hsv = cv2.cvtColor(np.ascontiguousarray(part), cv2.COLOR_RGB2HSV_FULL).reshape(-1, 3)
    hue = hsv[:, 0].astype(np.int32) * _HUE_BINS // 256
    sat = hsv[:, 1].astype(np.float32) / 255.0
    val = hsv[:, 2].astype(np.float32) / 255.0
    hist = np.zeros(_REGION_DIM, np.float32)
    chroma = (sat >= _MIN_SAT) & (val >= 0.15)
    sat_bin = np.minimum(((sat - _MIN_SAT) / (1 - _MIN_SAT) * _SAT_BINS).astype(np.int32),
                         _SAT_BINS - 1)
    np.add.at(hist, hue[chroma] * _SAT_BINS + sat_bin[chroma], 1.0)
    val_bin = np.minimum((val[~chroma] * _VAL_BINS).astype(np.int32), _VAL_BINS - 1)
    np.add.at(hist, _HUE_BINS * _SAT_BINS + val_bin, 1.0)
    total = float(hist.sum())
    return np.sqrt(hist / total).astype(np.float32) if total > 0 else hist


def normalise(vector: F32) -> F32 | None:
    """L2-normalised copy of ``vector``, or ``None`` when it is all zeros."""
    norm = float(np.linalg.norm(vector))
    return (vector / norm).astype(np.float32) if norm > 0 else None


def to_bytes(vector: F32) -> bytes:
    """Little-endian float32 bytes (the store's vector format)."""
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(blob: bytes) -> F32:
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


class AppearanceEmbedder:
    """The built-in appearance vector as an :class:`~retrouve.vision.embedder.Embedder`
    (kind :data:`KIND`, ``dim`` :data:`DIM`, no text side).

    The analysis accumulates :meth:`vector` (unnormalised, so frames add up) over a track and
    normalises the sum once with :meth:`normalise`; :meth:`embed_images` gives one normalised
    vector per crop. ``person`` selects the body layout (torso + legs, else one vehicle band).
    """

    kind: str = KIND
    name: str = KIND
    version: str = "1"
    dim: int = DIM

    def vector(self, crop_rgb: npt.NDArray[np.uint8], person: bool) -> F32 | None:
        """Unnormalised ``(DIM,)`` vector of one RGB crop, ``None`` if the crop is tiny."""
        return appearance_vector(crop_rgb, person)

    @staticmethod
    def normalise(vector: F32) -> F32 | None:
        """L2-normalised copy of ``vector``, ``None`` when it is all zeros."""
        return normalise(vector)

    def embed_images(self, crops: Sequence[npt.NDArray[np.uint8]], *,
                     person: bool = False) -> F32:
        """float32 ``(N, DIM)``: each crop's normalised vector, zeros for a tiny/blank crop."""
        out = np.zeros((len(crops), DIM), np.float32)
        for i, crop in enumerate(crops):
            v = appearance_vector(crop, person)
            unit = None if v is None else normalise(v)
            if unit is not None:
                out[i] = unit
        return out

    def embed_text(self, text: str) -> F32 | None:
        """Always ``None``: colour histograms have no text side."""
        return None
