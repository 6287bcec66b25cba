"""Detector packs, run by ONNX Runtime or OpenVINO: YOLO (v5/v8), DETR, SSD DetectionOutput and
ATSS (boxes + labels) output layouts (:mod:`retrouve.vision.packs.detector_layouts`).

Pipeline for one RGB image: letterbox (or stretch) to the pack's input size → normalise →
run (the manifest's ``runtime``) → decode boxes in *input-tensor* pixels → keep scores ≥
threshold and labels present in the pack's ``label_map`` → NMS per Retrouve class (so two pack
labels mapped to one class do not both report the same object) → boxes back to
*original-image* pixels. Layouts whose graph suppresses duplicates itself (``ssd``, ``atss``)
skip that NMS unless several pack labels map to one Retrouve class. Suppression *across*
classes (one object reported as car and truck) is not done here: it belongs to
:mod:`retrouve.vision.detector`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from retrouve.domain import OBJECT_CLASSES, Detections
from retrouve.errors import PackError
from retrouve.vision.packs.detector_layouts import (
    F32,
    Candidates,
    decode_atss,
    decode_detr,
    decode_ssd,
    decode_yolo,
    nms_per_class,
)
from retrouve.vision.packs.manifest import NMS_INSIDE_FORMATS, PackManifest
from retrouve.vision.packs.registry import InstalledPack
from retrouve.vision.packs.runtime import check_image, open_session, pack_label, prepare

#: Output names found by name for two-output layouts (else the manifest's order is taken).
_NAMED_OUTPUTS = {"detr": ("logits", "pred_boxes"), "atss": ("boxes", "labels")}


class PackDetector:
    """A ``detector`` pack behind the :class:`retrouve.vision.detector.Detector` protocol.

    ``threshold``/``iou`` override the manifest's ``decode.confidence``/``decode.iou``;
    ``providers`` are ONNX Runtime providers or the shorthands ``cpu``/``gpu`` (``gpu`` needs
    the ``gpu`` extra; for OpenVINO packs they pick the device); ``threads`` caps inference
    threads (see :func:`runtime.open_session`).
    """

    def __init__(
        self,
        pack: InstalledPack,
        *,
        threshold: float | None = None,
        iou: float | None = None,
        providers: Sequence[str] | None = None,
        threads: int | None = None,
    ) -> None:
        m = pack.manifest
        self._what = pack_label(m)
        if m.task != "detector":
            raise PackError(f"{self._what}: is a {m.task} pack, not a detector")
        assert m.preprocess is not None  # guaranteed by the manifest validation
        self.manifest: PackManifest = m
        self.name = m.name
        self.version = m.version
        self.runtime = m.runtime
        self.threshold = m.decode.confidence if threshold is None else threshold
        self.iou = m.decode.iou if iou is None else iou
        self._pre = m.preprocess
        graph = m.graphs["model"]
        self._input = graph.inputs[0]
        self._outputs = [o.name for o in graph.outputs]
        named = _NAMED_OUTPUTS.get(m.format)
        if named is not None and set(named) <= set(self._outputs):
            self._outputs = list(named)
        self._session = open_session(m, pack.path, "model", providers, threads)
        # Pack label index → OBJECT_CLASSES index, -1 for labels the analysis ignores.
        self._class_of = np.array(
            [OBJECT_CLASSES.index(m.label_map[lb]) if lb in m.label_map else -1
             for lb in m.labels], np.int32)
        merged = Counter(m.label_map.values())
        self._nms = m.format not in NMS_INSIDE_FORMATS or max(merged.values()) > 1

    def detect(self, image: npt.NDArray[np.uint8]) -> Detections:
        """Objects on one RGB uint8 ``(H, W, 3)`` image; boxes in that image's pixels."""
        check_image(image, self._what)
        h, w = image.shape[:2]
        tensor, (transform,) = prepare([image], self._pre, self._input.dtype)
        outs = self._session.run(self._outputs, {self._input.name: tensor})
        boxes, scores, labels = self._decode(outs)
        cls = self._class_of[labels]
        ok = (scores >= self.threshold) & (cls >= 0)
        boxes, scores, cls = boxes[ok], scores[ok], cls[ok]
        xyxy = transform.to_original(boxes, w, h)
        # Boxes squeezed to nothing by clipping (entirely in the letterbox padding) are noise.
        ok = (xyxy[:, 2] - xyxy[:, 0] >= 1) & (xyxy[:, 3] - xyxy[:, 1] >= 1)
        xyxy, scores, cls = xyxy[ok], scores[ok], cls[ok]
        limit = self.manifest.decode.max_detections
        if self._nms:
            keep = nms_per_class(xyxy, scores, cls, self.iou, limit)
        else:
            keep = np.argsort(-scores, kind="stable")[:limit]
        return Detections(xyxy[keep].astype(np.float32), scores[keep].astype(np.float32),
                          cls[keep].astype(np.int32))

    def _decode(self, outs: list[npt.NDArray[np.generic]]) -> Candidates:
        m = self.manifest
        nc = len(m.labels)
        p = self._pre
        floats: list[F32] = [np.asarray(o, np.float32) for o in outs]
        try:
            if m.format == "yolo":
                return decode_yolo(floats[0], nc, m.decode.yolo_layout)
            if m.format == "detr":
                return decode_detr(floats[0], floats[1], nc, m.decode.detr_activation,
                                   p.width, p.height)
            if m.format == "ssd":
                return decode_ssd(floats[0], nc, m.decode.background_label, p.width, p.height)
            return decode_atss(floats[0], np.asarray(outs[1]), nc)
        except ValueError as exc:
            raise PackError(f"{self._what}: cannot decode output: {exc}") from exc
