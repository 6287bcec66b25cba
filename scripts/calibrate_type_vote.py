"""Measure the vehicle-type votes per track against the TfL dev annotations (CVAT types).

Usage, with the recommended packs installed in DIR (``retrouve --data-dir DIR models install
NAME --from ../shared/models`` for a detector, 0039 and 0230)::

    python scripts/calibrate_type_vote.py DIR ../shared/eval/dev [GRID]

(``GRID``: crops per mosaic side of the crop classifier, default ``CROP_GRID``.)

Analyses each annotated TfL clip with the packs of DIR (in this process), records the
:class:`~retrouve.analysis.type_vote.TypeEvidence` of every coarse track, matches each to the
CVAT track it overlaps most (IoU ≥ 0.3 on the frame of its middle observation) and prints the
accuracy of each vote alone, of the pooled decision as configured, and of a few weight
settings, with the pooled confidence by bin. A measuring tool, never used by the tests.
"""

from __future__ import annotations

import itertools
import json
import math
import sys
from collections import Counter
from pathlib import Path

from measure_attributes import FPS, binned, cvat_tracks, iou

from retrouve.analysis import pipeline, track_attributes, type_vote
from retrouve.config import Settings
from retrouve.domain import WorkUnit
from retrouve.services import build_services
from retrouve.vision.models import load_models


def main(data_dir: Path, dev: Path, grid: int | None = None) -> None:
    if grid is not None:
        track_attributes.CROP_GRID = grid
    svc = build_services(Settings(data_dir=data_dir))
    settings = svc.settings
    svc.close()
    models = load_models(settings.analysis)
    recorded: list[type_vote.TypeEvidence] = []
    real = type_vote.decide_type

    def spy(ev: type_vote.TypeEvidence) -> type_vote.TypeDecision:
        recorded.append(ev)
        return real(ev)

    track_attributes.decide_type = spy  # type: ignore[assignment]
    dataset = json.loads((dev / "dataset.json").read_text())
    files = {r["id"]: (dev / r["file"]).resolve() for c in dataset["cameras"]
             for r in c["recordings"]}
    labelled: list[tuple[str, type_vote.TypeEvidence]] = []
    for xml in sorted((dev / "annotations").glob("*.cvat.xml")):
        cam = xml.name.split(".")[0]
        recorded.clear()
        unit = WorkUnit(f"{cam}@0", cam, str(files[cam]), 0.0, math.inf, FPS)
        result = pipeline._process(unit, settings.analysis, models)
        print(f"{cam}: {len(result.tracks)} tracks, stages {result.stats.seconds}")
        gt = cvat_tracks(xml)
        for ev in recorded:
            if ev.family != "vehicle" or not ev.observations:
                continue
            mid = ev.observations[len(ev.observations) // 2]
            f = round(mid.t * FPS)
            box = [mid.box.x0, mid.box.y0, mid.box.x1, mid.box.y1]
            best = None
            for label, boxes in gt:
                if f in boxes and (o := iou(boxes[f], box)) >= 0.3 and \
                        (best is None or o > best[0]):
                    best = (o, label)
            if best is not None and best[1] in type_vote.FOUR_WHEELED:
                labelled.append((best[1], ev))
    print(f"\n{len(labelled)} coarse vehicle tracks matched to a typed CVAT track:",
          dict(Counter(lb for lb, _ in labelled)))

    def accuracy(decide: object, show: str = "") -> tuple[float, list[tuple[float, bool]]]:
        rows = []
        confusion: Counter[str] = Counter()
        for label, ev in labelled:
            d = decide(ev)  # type: ignore[operator]
            rows.append((d.ranked[0][1], d.best == label))
            confusion[f"{label}>{d.best}"] += 1
        if show:
            print(f"  {show} confusion (label>decided):", dict(sorted(confusion.items())))
        return sum(ok for _, ok in rows) / max(1, len(rows)), rows

    def only(**weights: float) -> object:
        def decide(ev: type_vote.TypeEvidence) -> type_vote.TypeDecision:
            saved = {k: getattr(type_vote, k) for k in weights}
            for k, v in weights.items():
                setattr(type_vote, k, v)
            try:
                return real(ev)
            finally:
                for k, v in saved.items():
                    setattr(type_vote, k, v)
        return decide

    print("prior alone (always car):", round(accuracy(only(W_CROP_SSD=0.0, W_TYPE_HEAD=0.0,
                                                           W_SHAPE=0.0, W_SIZE=0.0))[0], 3))
    print("crop SSD alone (no prior):",
          round(accuracy(only(W_TYPE_HEAD=0.0, W_SHAPE=0.0, W_PRIOR=0.0, W_SIZE=0.0),
                         "ssd")[0], 3))
    print("shape alone (no prior):",
          round(accuracy(only(W_TYPE_HEAD=0.0, W_CROP_SSD=0.0, W_PRIOR=0.0, W_SIZE=0.0),
                         "shape")[0], 3))
    print("type head alone (no prior):",
          round(accuracy(only(W_CROP_SSD=0.0, W_SHAPE=0.0, W_PRIOR=0.0, W_SIZE=0.0),
                         "head")[0], 3))
    print("relative size alone (no prior):",
          round(accuracy(only(W_CROP_SSD=0.0, W_SHAPE=0.0, W_PRIOR=0.0, W_TYPE_HEAD=0.0),
                         "size")[0], 3))
    print("without relative size:", round(accuracy(only(W_SIZE=0.0), "no size")[0], 3))
    acc, rows = accuracy(real, "pooled")
    print(f"pooled as configured (W_CROP_SSD={type_vote.W_CROP_SSD}, "
          f"W_TYPE_HEAD={type_vote.W_TYPE_HEAD}, W_PRIOR={type_vote.W_PRIOR}, "
          f"T={type_vote.TEMPERATURE}): {acc:.3f}")
    print("\n".join(binned(rows)))
    print("\ntemperature → Brier score of the winner's probability (lower is better), "
          "mean winner probability vs accuracy:")
    for temp in (0.5, 0.7, 1.0, 1.3, 1.6, 2.0, 2.5):
        _, r = accuracy(only(TEMPERATURE=temp))
        brier = sum((c - ok) ** 2 for c, ok in r) / max(1, len(r))
        print(f"  T {temp:.1f}: Brier {brier:.3f}, mean p {sum(c for c, _ in r) / len(r):.3f}"
              f", accuracy {sum(ok for _, ok in r) / len(r):.3f}")
    print("\nweight grid → accuracy:")
    for ws, wh, wp, wg, wz in itertools.product((0.0, 0.5, 1.0), (0.35, 0.7, 1.0), (0.5, 1.0),
                                                (0.0, 0.5), (0.0, 0.5, 1.0, 1.5)):
        a = accuracy(only(W_CROP_SSD=ws, W_TYPE_HEAD=wh, W_PRIOR=wp, W_SHAPE=wg,
                          W_SIZE=wz))[0]
        print(f"  ssd {ws:.1f} head {wh:.2f} prior {wp:.1f} shape {wg:.1f} size {wz:.1f}: "
              f"{a:.3f}")
    print("\nSSD scores on the crops of each labelled type (mean over tracks):")
    for t in type_vote.FOUR_WHEELED:
        evs = [ev for lb, ev in labelled if lb == t]
        if evs:
            mean = {k: round(sum(e.crop_ssd.get(k, 0.0) for e in evs) / len(evs), 2)
                    for k in ("car", "truck", "bus")}
            none = sum(not e.crop_ssd for e in evs)
            print(f"  {t} ({len(evs)}): {mean}, nothing found on {none}")
    print("\nrelative size of each labelled type (track medians; None: no fit):")
    for t in type_vote.FOUR_WHEELED:
        got = sorted(round(ev.size_ratio, 2) for lb, ev in labelled
                     if lb == t and ev.size_ratio is not None)
        print(f"  {t}: {got}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else None)
