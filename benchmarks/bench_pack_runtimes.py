"""Per-frame latency of the OMZ detector packs, OpenVINO vs ONNX Runtime, against the built-in
SSD-MobileNet-v2 on the same frames in the same run.

Measured: person-vehicle-bike-detection-2001 as OpenVINO IR (OpenVINO), as its ONNX conversion
in ONNX Runtime and in OpenVINO; -2004 (ATSS, OpenVINO IR); the built-in detector (cv2.dnn).
Each is a full ``detect`` call (resize, normalise, inference, decoding, NMS) on RGB frames of
``../shared/eval/media`` clips, at the given thread count (default 1: one analysis per core).
Prints the median and 90th percentile milliseconds per frame and the detections per frame;
asserts nothing. Needs ``../shared/models`` and ``../shared/eval/media`` and the
``openvino`` extra.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_pack_runtimes.py [--frames 60] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from omz_packs import SHARED_EVAL, SHARED_MODELS, write_pack
from retrouve.vision.detector import Detector, SsdMobileNetDetector
from retrouve.vision.packs import InstalledPack
from retrouve.vision.packs.pack_detector import PackDetector

CLIPS = ("tfl-blackfriars-a.mp4", "tfl-pentonville.mp4", "tfl-blackfriars-b.mp4")
PACKS = {
    "2001 IR, OpenVINO": "pvb-2001-ir",
    "2001 ONNX, ONNX Runtime": "pvb-2001-onnx",
    "2001 ONNX, OpenVINO": "pvb-2001-onnx-ov",
    "2004 IR (ATSS), OpenVINO": "pvb-2004",
}


def frames(media: Path, n: int) -> list[np.ndarray[Any, Any]]:
    """``n`` RGB frames, every 5th frame, spread over the clips."""
    out: list[np.ndarray[Any, Any]] = []
    per = max(1, n // len(CLIPS))
    for name in CLIPS:
        with av.open(str(media / name)) as c:
            for i, f in enumerate(c.decode(video=0)):
                if i % 5 == 0:
                    out.append(f.to_ndarray(format="rgb24"))
                if len(out) >= per * (CLIPS.index(name) + 1):
                    break
    return out[:n]


def measure(det: Detector, imgs: list[np.ndarray[Any, Any]]) -> tuple[float, float, float]:
    det.detect(imgs[0])  # warm-up: first-run allocations and compilation
    times, found = [], 0
    for img in imgs:
        t = time.perf_counter()
        found += len(det.detect(img))
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.9 * (len(times) - 1))], found / len(imgs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    if SHARED_MODELS is None or SHARED_EVAL is None:
        print("../shared/models or ../shared/eval/media absent: nothing to measure")
        return
    cv2.setNumThreads(args.threads)
    imgs = frames(SHARED_EVAL / "media", args.frames)
    h, w = imgs[0].shape[:2]
    print(f"{len(imgs)} frames ({w}x{h}) of {', '.join(CLIPS)}; {args.threads} thread(s); "
          f"threshold 0.3")
    print(f"{'detector':34} {'median ms':>10} {'p90 ms':>8} {'dets/frame':>11}")
    rows: list[tuple[str, Detector]] = [
        ("built-in SSD-MobileNet-v2 (cv2.dnn)", SsdMobileNetDetector(threshold=0.3))]
    with tempfile.TemporaryDirectory() as tmp:
        for label, name in PACKS.items():
            pack = InstalledPack.load(write_pack(name, Path(tmp) / name))
            rows.append((label, PackDetector(pack, threshold=0.3, threads=args.threads)))
        for label, det in rows:
            med, p90, per = measure(det, imgs)
            print(f"{label:34} {med:10.1f} {p90:8.1f} {per:11.1f}")


if __name__ == "__main__":
    main()
