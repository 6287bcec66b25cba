"""Time one huge still through ingest and analysis (shape detector, inline executor).

Usage: ``PYTHONPATH=src:tests /usr/bin/time -f "%e s %M KB" python scripts/measure_still.py
DIR [WIDTH HEIGHT]`` (default 12000×9000): writes ``DIR/big.png`` once, analyses it in a fresh
``DIR/data`` with ``max_pixels`` raised so the still is accepted, prints the stage times and
the stored size. Needs the test helpers (``tests/clips.py``) on the path.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from clips import RED, Moving, make_still
from retrouve.config import AnalysisSettings, Settings
from retrouve.domain import Camera
from retrouve.services import build_services
from retrouve.vision.detector import Detector, ShapeDetector


def _detector(_settings: AnalysisSettings) -> Detector:
    return ShapeDetector()


def main(argv: list[str]) -> None:
    root = Path(argv[1])
    w, h = (int(argv[2]), int(argv[3])) if len(argv) > 3 else (12000, 9000)
    img = root / "big.png"
    if not img.exists():
        car = Moving(RED, (w // 5, h // 10), (w // 3, h // 2), (w // 3, h // 2), 0.0, 1.0)
        make_still(img, size=(w, h), objects=(car,))
    shutil.rmtree(root / "data", ignore_errors=True)
    settings = Settings(data_dir=root / "data", workers=1, executor="inline",
                        max_pixels=max(w * h, 1))
    svc = build_services(settings, detector_factory=_detector)
    try:
        svc.catalogue.add_camera(Camera("c", "C", "UTC"))
        t0 = time.perf_counter()
        [rec] = svc.catalogue.ingest(str(img), "c", start="2026-01-04T10:00:00+00:00").added
        t1 = time.perf_counter()
        report = svc.analyser.analyse()
        t2 = time.perf_counter()
        print(f"ingest {t1 - t0:.2f} s, analysis {t2 - t1:.2f} s, "
              f"stored {rec.width}x{rec.height}, tracks {report.tracks}, "
              f"failed {report.units_failed}")
    finally:
        svc.close()


if __name__ == "__main__":
    main(sys.argv)
