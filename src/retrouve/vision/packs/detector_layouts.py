"""Detector output layouts → raw candidates, and per-class NMS. Pure numpy, no runtime.

Every decoder returns :data:`Candidates`: boxes ``(N, 4)`` ``x0, y0, x1, y1`` in *input-tensor*
pixels, scores ``(N,)`` and the pack-label index ``(N,)`` (an index into ``labels``). The pack
detector (:mod:`retrouve.vision.packs.pack_detector`) maps labels, thresholds and brings boxes
back to original pixels.

Layouts (``nc = len(labels)``):

* ``yolo`` v8: ``(1, 4 + nc, N)`` (or its transpose), ``cx, cy, w, h`` in input pixels, then one
  score per label; v5: ``(1, N, 5 + nc)``, ``cx, cy, w, h, objectness, class probabilities``.
* ``detr``: ``logits (1, Q, nc [+1])``, ``pred_boxes (1, Q, 4)`` ``cx, cy, w, h`` normalised 0..1.
* ``ssd``: OpenVINO/Caffe ``DetectionOutput`` ``(1, 1, N, 7)`` rows ``(image_id, label, conf,
  x0, y0, x1, y1)``, coordinates normalised 0..1; rows after the first ``image_id < 0`` are
  padding; NMS already done inside the graph.
* ``atss``: ``boxes (N, 5)`` ``x0, y0, x1, y1, score`` in input pixels and ``labels (N,)``
  integers; NMS already done inside the graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

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


def decode_ssd(out: F32, nc: int, background: int | None, width: int,
               height: int) -> Candidates:
    """Rows of a ``DetectionOutput`` ``(1, 1, N, 7)``; boxes in input pixels (``width`` x
    ``height`` is the input tensor size the coordinates are normalised to).

    Dropped: the padding after the first row with ``image_id < 0``, rows labelled
    ``background``, rows of another image than 0, and labels outside ``0..nc-1``.
    """
    if out.ndim != 4 or out.shape[0] != 1 or out.shape[1] != 1 or out.shape[3] != 7:
        raise ValueError(f"SSD DetectionOutput must be (1, 1, N, 7), got {tuple(out.shape)}")
    rows = out[0, 0].astype(np.float32)
    ends = np.flatnonzero(rows[:, 0] < 0)
    if ends.size:
        rows = rows[:ends[0]]
    label = np.rint(rows[:, 1]).astype(np.intp)
    ok = (rows[:, 0] == 0) & (label >= 0) & (label < nc)
    if background is not None:
        ok &= label != background
    rows, label = rows[ok], label[ok]
    boxes = rows[:, 3:7] * np.array([width, height, width, height], np.float32)
    return boxes.astype(np.float32), rows[:, 2].astype(np.float32), label


def decode_atss(boxes: F32, labels: npt.NDArray[Any], nc: int) -> Candidates:
    """``boxes (N, 5)`` ``x0, y0, x1, y1, score`` (input pixels) and ``labels (N,)``; a
    leading batch axis of 1 is accepted on both. Labels outside ``0..nc-1`` are dropped."""
    b = boxes[0] if boxes.ndim == 3 and boxes.shape[0] == 1 else boxes
    lb = labels[0] if labels.ndim == 2 and labels.shape[0] == 1 else labels
    if b.ndim != 2 or b.shape[1] != 5 or lb.ndim != 1 or len(lb) != len(b):
        raise ValueError(f"ATSS outputs must be boxes (N, 5) and labels (N,), got "
                         f"{tuple(boxes.shape)} and {tuple(labels.shape)}")
    label = np.rint(lb).astype(np.intp)
    ok = (label >= 0) & (label < nc)
    b, label = b[ok].astype(np.float32), label[ok]
    return b[:, :4].copy(), b[:, 4].copy(), label


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
