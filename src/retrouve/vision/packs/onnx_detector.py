"""Detector packs run by ONNX Runtime: YOLO (v5 and v8 output layouts) and DETR family.

Pipeline for one RGB image: letterbox (or stretch) to the pack's input size → normalise →
run → decode boxes in *input-tensor* pixels → keep scores ≥ threshold and labels present in
the pack's ``label_map`` → per-class NMS (on Retrouve classes, so two pack labels mapped to one
class do not both report the same object) → boxes back to *original-image* pixels.

Output formats (``N`` candidates, ``nc = len(labels)``):

* ``yolo`` v8 (YOLOv8/v11 exports): ``(1, 4 + nc, N)``, rows ``cx, cy, w, h`` in input pixels,
  then one (already sigmoid) score per label. A ``(1, N, 4 + nc)`` transpose is accepted too.
* ``yolo`` v5 (YOLOv5/v7 exports): ``(1, N, 5 + nc)``, rows ``cx, cy, w, h, objectness``, then
  class probabilities; score = objectness x class probability.
* ``detr`` (DETR, Conditional/Deformable DETR, RT-DETR HF exports): ``logits (1, Q, nc [+1])``
  and ``pred_boxes (1, Q, 4)`` ``cx, cy, w, h`` normalised 0..1 to the input tensor. With
  ``softmax`` activation the last logit is "no object" (DETR); with ``sigmoid`` there is none.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from retrouve.domain import OBJECT_CLASSES, Detections
from retrouve.errors import PackError
from retrouve.vision.packs.manifest import PackManifest
from retrouve.vision.packs.registry import InstalledPack
from retrouve.vision.packs.runtime import check_image, open_session, pack_label, prepare

F32 = npt.NDArray[np.float32]
#: Raw candidates: boxes ``(N, 4)`` xyxy in input pixels, scores ``(N,)``, label index ``(N,)``.
Candidates = tuple[F32, F32, npt.NDArray[np.intp]]


def _cxcywh_to_xyxy(b: F32) -> F32:
    half = b[:, 2:4] / 2
    return np.concatenate([b[:, 0:2] - half, b[:, 0:2] + half], axis=1).astype(np.float32)


def yolo_layout(shape: Sequence[int], nc: int, layout: str = "auto") -> tuple[str, bool]:
    """``(layout, transposed)`` for a YOLO output of ``shape`` ``(1, A, B)`` and ``nc`` labels.

    ``transposed`` means candidates are along axis 1 (rows), i.e. no transpose is needed
    before reading one candidate per row. ValueError when the shape fits neither layout.
    """
    if len(shape) != 3 or shape[0] != 1:
        raise ValueError(f"YOLO output must be (1, A, B), got {tuple(shape)}")
    a, b = shape[1], shape[2]
    options = {
        "v8": [(a == 4 + nc, False), (b == 4 + nc, True)],
        "v5": [(b == 5 + nc, True), (a == 5 + nc, False)],
    }
    order = ["v8", "v5"] if layout == "auto" else [layout]
    for name in order:
        for fits, rows in options[name]:
            if fits:
                return name, rows
    raise ValueError(f"YOLO output {tuple(shape)} fits neither (1, 4+{nc}, N) (v8) nor "
                     f"(1, N, 5+{nc}) (v5) for {nc} labels")


def decode_yolo(out: F32, nc: int, layout: str = "auto") -> Candidates:
    """Every candidate of a YOLO output with its best label; boxes in input pixels."""
    name, rows_first = yolo_layout(out.shape, nc, layout)
    rows = out[0] if rows_first else out[0].T  # (N, 4+nc) or (N, 5+nc)
    boxes = _cxcywh_to_xyxy(rows[:, :4].astype(np.float32))
    if name == "v8":
        cls = rows[:, 4:4 + nc]
        label = cls.argmax(axis=1)
        score = cls[np.arange(len(rows)), label]
    else:
        cls = rows[:, 5:5 + nc]
        label = cls.argmax(axis=1)
        score = rows[:, 4] * cls[np.arange(len(rows)), label]
    return boxes, score.astype(np.float32), label.astype(np.intp)


def decode_detr(logits: F32, pred_boxes: F32, nc: int, activation: str,
                width: int, height: int) -> Candidates:
    """Every query of a DETR output with its best real label; boxes in input pixels
    (``width`` x ``height`` is the input tensor size the boxes are normalised to)."""
    lg = logits[0].astype(np.float32)
    want = nc + 1 if activation == "softmax" else nc
    if lg.ndim != 2 or lg.shape[1] != want:
        raise ValueError(f"DETR logits {tuple(logits.shape)}: expected (1, Q, {want}) for {nc} "
                         f"labels with {activation}")
    if activation == "softmax":
        e = np.exp(lg - lg.max(axis=1, keepdims=True))
        probs = (e / e.sum(axis=1, keepdims=True))[:, :nc]  # drop the "no object" column
    else:
        probs = 1.0 / (1.0 + np.exp(-lg))
    label = probs.argmax(axis=1)
    score = probs[np.arange(len(probs)), label]
    boxes = _cxcywh_to_xyxy(pred_boxes[0].astype(np.float32))
    boxes *= np.array([width, height, width, height], np.float32)
    return boxes, score.astype(np.float32), label.astype(np.intp)


def nms_per_class(xyxy: F32, scores: F32, classes: npt.NDArray[np.integer[Any]], iou: float,
                  max_detections: int) -> npt.NDArray[np.intp]:
    """Indices kept by greedy NMS run separately per class, best score first."""
    if len(xyxy) == 0:
        return np.zeros((0,), np.intp)
    # Shift each class into its own region so one pass never suppresses across classes.
    offset = classes.astype(np.float32)[:, None] * (float(np.abs(xyxy).max()) + 1.0) * 2
    b = xyxy + offset
    area = (b[:, 2] - b[:, 0]).clip(0) * (b[:, 3] - b[:, 1]).clip(0)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size and len(keep) < max_detections:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        ix = (np.minimum(b[i, 2], b[rest, 2]) - np.maximum(b[i, 0], b[rest, 0])).clip(0)
        iy = (np.minimum(b[i, 3], b[rest, 3]) - np.maximum(b[i, 1], b[rest, 1])).clip(0)
        inter = ix * iy
        union = area[i] + area[rest] - inter
        overlap = np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)
        order = rest[overlap <= iou]
    return np.array(keep, np.intp)


class OnnxDetector:
    """A ``detector`` pack behind the :class:`retrouve.vision.detector.Detector` protocol.

    ``threshold``/``iou`` override the manifest's ``decode.confidence``/``decode.iou``;
    ``providers`` are ONNX Runtime providers or the shorthands ``cpu``/``gpu`` (``gpu`` needs
    the ``gpu`` extra); ``threads`` caps intra-op threads (see :func:`runtime.open_session`).
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
        self.threshold = m.decode.confidence if threshold is None else threshold
        self.iou = m.decode.iou if iou is None else iou
        self._pre = m.preprocess
        graph = m.graphs["model"]
        self._input = graph.inputs[0]
        self._outputs = [o.name for o in graph.outputs]
        if m.format == "detr":
            names = set(self._outputs)
            # HF names first; otherwise the manifest's order is logits, then boxes.
            if {"logits", "pred_boxes"} <= names:
                self._outputs = ["logits", "pred_boxes"]
        self._session = open_session(m, pack.path, "model", providers, threads)
        # Pack label index → OBJECT_CLASSES index, -1 for labels the analysis ignores.
        self._class_of = np.array(
            [OBJECT_CLASSES.index(m.label_map[lb]) if lb in m.label_map else -1
             for lb in m.labels], np.int32)

    def detect(self, image: npt.NDArray[np.uint8]) -> Detections:
        """Objects on one RGB uint8 ``(H, W, 3)`` image; boxes in that image's pixels."""
        check_image(image, self._what)
        h, w = image.shape[:2]
        tensor, (transform,) = prepare([image], self._pre, self._input.dtype)
        try:
            outs = self._session.run(self._outputs, {self._input.name: tensor})
        except Exception as exc:  # ORT's own exception classes are untyped
            raise PackError(f"{self._what}: inference failed: {exc}") from exc
        boxes, scores, labels = self._decode([np.asarray(o, np.float32) for o in outs])
        cls = self._class_of[labels]
        ok = (scores >= self.threshold) & (cls >= 0)
        boxes, scores, cls = boxes[ok], scores[ok], cls[ok]
        xyxy = transform.to_original(boxes, w, h)
        # Boxes squeezed to nothing by clipping (entirely in the letterbox padding) are noise.
        ok = (xyxy[:, 2] - xyxy[:, 0] >= 1) & (xyxy[:, 3] - xyxy[:, 1] >= 1)
        xyxy, scores, cls = xyxy[ok], scores[ok], cls[ok]
        keep = nms_per_class(xyxy, scores, cls, self.iou, self.manifest.decode.max_detections)
        return Detections(xyxy[keep].astype(np.float32), scores[keep].astype(np.float32),
                          cls[keep].astype(np.int32))

    def _decode(self, outs: list[F32]) -> Candidates:
        m = self.manifest
        nc = len(m.labels)
        try:
            if m.format == "yolo":
                return decode_yolo(outs[0], nc, m.decode.yolo_layout)
            p = self._pre
            return decode_detr(outs[0], outs[1], nc, m.decode.detr_activation,
                               p.width, p.height)
        except ValueError as exc:
            raise PackError(f"{self._what}: cannot decode output: {exc}") from exc
