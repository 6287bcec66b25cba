"""Former home of the detector pack backend, kept so existing imports work.

The backend is :class:`retrouve.vision.packs.pack_detector.PackDetector` (ONNX Runtime or
OpenVINO, every output layout); the layouts are in
:mod:`retrouve.vision.packs.detector_layouts`.
"""

from __future__ import annotations

from retrouve.vision.packs.detector_layouts import (
    decode_detr,
    decode_yolo,
    nms_per_class,
    yolo_layout,
)
from retrouve.vision.packs.pack_detector import PackDetector

#: The pack detector under its first name (it ran ONNX Runtime only then).
OnnxDetector = PackDetector

__all__ = ["OnnxDetector", "PackDetector", "decode_detr", "decode_yolo", "nms_per_class",
           "yolo_layout"]
