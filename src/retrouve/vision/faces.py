"""Face *detection* for blurring faces in redacted copies: where a face is, nothing else.

LEGAL.md row 10: no face recognition, no biometric categorisation. This module returns boxes
and detection scores only. YuNet (``yuface``) also returns five landmarks per face; they are
dropped here on purpose, and nothing in Retrouve computes, stores or compares any property of
a face (no embedding, no identity, no sex, age or expression). The boxes are used once, to
blur pixels, and are not kept beyond the redaction log's counts.

The built-in detector is YuNet compiled into ``yuface`` (BSD-3, ``../shared/MODELS.md``). The
library warns, and misses faces, above 960 px on a side, so larger frames are either
downscaled to fit (one pass, fast; faces under about twice the detector's minimum size in the
original are missed) or, in ``tile`` mode, scanned by that downscaled pass *plus* overlapping
full-resolution tiles of at most 960 px (small faces are found; several passes per frame).
Boxes are ``x0, y0, x1, y1`` in pixels of the frame given, float32.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt

from retrouve.errors import ModelError

#: The distribution that carries the built-in face detector, and the version pinned in
#: pyproject.toml (named in the error when it is missing).
YUFACE_DIST = "yuface"
YUFACE_PIN = "2023.5.1"
#: Longest side the library accepts without degrading (it warns above this).
YUFACE_MAX_SIDE = 960

#: How frames larger than the detector's limit are scanned.
LargeFrames = Literal["downscale", "tile"]

_Detect = Callable[..., tuple[Any, Any, Any]]


def _load_yuface() -> _Detect:
    """``yuface.detect``, or :class:`ModelError` naming the package to install."""
    # yuface runs on its own bundled OpenMP (libgomp), whose idle threads spin by default:
    # beside PyAV's decoding and x264's encoding threads that spinning halves the redaction's
    # speed (measured on bikes.mp4: 21 → 38 frames/s with PASSIVE). libgomp reads this when
    # it loads, i.e. on the import below; a value the operator set is kept.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        module = importlib.import_module("yuface")
    except ImportError as exc:  # not installed, or its compiled library cannot load
        raise ModelError(
            f"the face detector for redacted copies is not available ({exc}): install it "
            f"with pip install 'yuface=={YUFACE_PIN}' (a dependency of retrouve)") from exc
    detect: _Detect = module.detect
    return detect


def yuface_version() -> str:
    """Installed ``yuface`` version (``unknown`` when its metadata is missing)."""
    try:
        return importlib.metadata.version(YUFACE_DIST)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class FaceScan:
    """Faces found in one frame: ``boxes`` ``(N, 4)`` float32 ``x0, y0, x1, y1`` in frame
    pixels (clipped to the frame), ``scores`` ``(N,)`` float32 in ``[0, 1]``; ``downscaled``
    when a pass ran on a reduced image, ``tiles`` the number of full-resolution tiles scanned
    (0 when the frame was scanned whole)."""

    boxes: npt.NDArray[np.float32]
    scores: npt.NDArray[np.float32]
    downscaled: bool
    tiles: int

    def __post_init__(self) -> None:
        if self.boxes.dtype != np.float32 or self.boxes.ndim != 2 or self.boxes.shape[1] != 4:
            raise ValueError(f"face boxes must be (N, 4) float32, got {self.boxes.shape} "
                             f"{self.boxes.dtype}")
        if self.scores.shape != (self.boxes.shape[0],):
            raise ValueError(f"face scores must be ({self.boxes.shape[0]},), got "
                             f"{self.scores.shape}")


def _tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of ``tile`` px covering ``length`` px with at least
    ``overlap`` px shared between neighbours (last tile flush with the end)."""
    if length <= tile:
        return [0]
    step = max(1, tile - overlap)
    starts = list(range(0, length - tile, step))
    starts.append(length - tile)
    return starts


def _nms(boxes: npt.NDArray[np.float32], scores: npt.NDArray[np.float32],
         iou: float) -> npt.NDArray[np.intp]:
    """Indices kept by greedy non-maximum suppression (the same face seen by two passes)."""
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        ix0 = np.maximum(boxes[i, 0], boxes[rest, 0])
        iy0 = np.maximum(boxes[i, 1], boxes[rest, 1])
        ix1 = np.minimum(boxes[i, 2], boxes[rest, 2])
        iy1 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.clip(ix1 - ix0, 0, None) * np.clip(iy1 - iy0, 0, None)
        union = areas[i] + areas[rest] - inter
        # Also drop a box mostly inside a kept one (a tile's partial view of a face).
        inside = inter / np.maximum(np.minimum(areas[i], areas[rest]), 1e-6)
        order = rest[(inter / np.maximum(union, 1e-6) <= iou) & (inside < 0.8)]
    return np.asarray(keep, dtype=np.intp)


class FaceDetector:
    """YuNet face boxes for blurring. ``threshold`` is the detection score in ``[0, 1]``;
    ``large`` says how frames above ``max_side`` px are scanned (module docstring);
    ``tile_overlap`` is the overlap of neighbouring tiles in pixels (a face narrower than
    this always lies whole in one tile; wider ones are found by the downscaled pass).

    Raises :class:`ModelError` naming the package when ``yuface`` is not installed."""

    name = "yuface (YuNet)"

    def __init__(self, threshold: float, *, large: LargeFrames = "downscale",
                 max_side: int = YUFACE_MAX_SIDE, tile_overlap: int = 192) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"face threshold must be in (0, 1), got {threshold}")
        if not 0 <= tile_overlap < max_side:
            raise ValueError(f"tile overlap must be in [0, {max_side}), got {tile_overlap}")
        self._detect = _load_yuface()
        self.version = yuface_version()
        self.threshold = threshold
        self.large = large
        self.max_side = max_side
        self.tile_overlap = tile_overlap

    def _pass(self, bgr: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.float32],
                                                           npt.NDArray[np.float32]]:
        """One detector call on an image of at most ``max_side`` px: xyxy boxes, scores."""
        confs, boxes, _landmarks = self._detect(np.ascontiguousarray(bgr), self.threshold)
        # The library's values are int16 (its docstring says uint16): a box at the frame's
        # edge may start at a negative coordinate, kept signed and clipped by the caller.
        xywh = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        xyxy = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
        scores = np.asarray(confs, dtype=np.float32).reshape(-1) / 100.0
        return xyxy.astype(np.float32), scores.astype(np.float32)

    def detect(self, bgr: npt.NDArray[np.uint8]) -> FaceScan:
        """Faces of one ``(H, W, 3)`` uint8 BGR frame."""
        if bgr.ndim != 3 or bgr.shape[2] != 3 or bgr.dtype != np.uint8:
            raise ValueError(f"expected an (H, W, 3) uint8 BGR image, got {bgr.shape} "
                             f"{bgr.dtype}")
        h, w = bgr.shape[:2]
        found_boxes: list[npt.NDArray[np.float32]] = []
        found_scores: list[npt.NDArray[np.float32]] = []
        downscaled, tiles = False, 0
        if max(h, w) <= self.max_side:
            b, s = self._pass(bgr)
            found_boxes.append(b)
            found_scores.append(s)
        else:
            downscaled = True
            scale = self.max_side / max(h, w)
            small = np.asarray(cv2.resize(bgr, (max(1, round(w * scale)),
                                                max(1, round(h * scale))),
                                          interpolation=cv2.INTER_AREA), dtype=np.uint8)
            b, s = self._pass(small)
            found_boxes.append(b / np.float32(scale))
            found_scores.append(s)
            if self.large == "tile":
                tile = self.max_side
                for y in _tile_starts(h, tile, self.tile_overlap):
                    for x in _tile_starts(w, tile, self.tile_overlap):
                        b, s = self._pass(bgr[y:y + tile, x:x + tile])
                        found_boxes.append(b + np.array([x, y, x, y], dtype=np.float32))
                        found_scores.append(s)
                        tiles += 1
        boxes = np.concatenate(found_boxes).astype(np.float32).reshape(-1, 4)
        scores = np.concatenate(found_scores).astype(np.float32)
        boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], 0, w)
        boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, h)
        ok = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        boxes, scores = boxes[ok], scores[ok]
        if len(found_boxes) > 1 and boxes.shape[0] > 1:
            keep = _nms(boxes, scores, 0.4)
            boxes, scores = boxes[keep], scores[keep]
        return FaceScan(np.ascontiguousarray(boxes, dtype=np.float32),
                        np.ascontiguousarray(scores, dtype=np.float32), downscaled, tiles)
