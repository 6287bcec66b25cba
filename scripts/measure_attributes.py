"""Measure the per-track attribute decisions of an analysed data folder against the dev labels.

Run after ``retrouve --data-dir DIR eval ../shared/eval/dev/dataset.json`` (the evaluation
ingests and analyses the dev clips into DIR)::

    python scripts/measure_attributes.py DIR ../shared/eval/dev

Prints (1) the analysis time per stage summed over the work units, (2) the vehicle type of
each stored track matched to a typed CVAT track of the TfL clips (IoU ≥ 0.3 on the frame
nearest the track's best time) — accuracy of rank 0, of rank 0 or 1, and by confidence bin,
(3) the vehicle colour of each track matched to an expected sighting of a labelled colour
query — accuracy by confidence bin. Reads the SQLite file directly (a measuring script, not
product code); never used by the tests.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import sys
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

FPS = 25.0  # the TfL clips
BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.01)


def iou(a: list[float], b: list[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def cvat_tracks(path: Path) -> list[tuple[str, dict[int, list[float]]]]:
    """(majority type, frame → box) of each CVAT track."""
    out = []
    for t in ET.parse(path).getroot().iter("track"):
        boxes: dict[int, list[float]] = {}
        types = Counter()
        for b in t.findall("box"):
            if b.get("outside") == "1":
                continue
            boxes[int(b.get("frame", "0"))] = [float(b.get(k, "0"))
                                               for k in ("xtl", "ytl", "xbr", "ybr")]
            for a in b.findall("attribute"):
                if a.get("name") == "type" and a.text:
                    types[a.text] += 1
        if boxes and types:
            out.append((types.most_common(1)[0][0], boxes))
    return out


def binned(rows: list[tuple[float, bool]]) -> list[str]:
    lines = ["| confidence | tracks | right | accuracy |", "|---|---|---|---|"]
    for lo, hi in itertools.pairwise(BINS):
        sel = [ok for c, ok in rows if lo <= c < hi]
        if sel:
            lines.append(f"| {lo:.1f}–{min(hi, 1.0):.1f} | {len(sel)} | {sum(sel)} | "
                         f"{sum(sel) / len(sel):.2f} |")
    return lines


def main(data_dir: Path, dev: Path) -> None:
    db = sqlite3.connect(data_dir / "retrouve.db")
    secs: dict[str, float] = defaultdict(float)
    for (stats,) in db.execute("select stats_json from work_units where stats_json is not null"):
        for k, v in json.loads(stats).get("seconds", {}).items():
            secs[k] += v
    print("stage seconds:", {k: round(v, 2) for k, v in sorted(secs.items())},
          "total", round(sum(secs.values()), 2))
    tracks: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for tid, rec, obj, best_t, x0, y0, x1, y1, obs in db.execute(
            "select t.id, r.camera_id, t.object, t.best_t, t.box_x0, t.box_y0, t.box_x1, "
            "t.box_y1, t.observations_json from tracks t join recordings r "
            "on r.id = t.recording_id"):
        attrs: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for name, value, conf in db.execute("select name, value, confidence from "
                                            "track_attributes where track_id = ? order by "
                                            "rank", (tid,)):
            attrs[name].append((value, conf))
        tracks[rec].append({"object": obj, "best_t": best_t, "box": [x0, y0, x1, y1],
                            "obs": json.loads(obs), "attrs": attrs})
    # ---- types against CVAT
    rows: list[tuple[float, bool]] = []
    top1 = top2 = n = 0
    confusion: Counter[tuple[str, str]] = Counter()
    for xml in sorted((dev / "annotations").glob("*.cvat.xml")):
        cam = xml.name.split(".")[0]
        for label, boxes in cvat_tracks(xml):
            if label not in ("car", "van", "truck", "bus", "motorbike"):
                continue
            want = "motorcycle" if label == "motorbike" else label
            best = None
            for t in tracks.get(cam, []):
                f = round(t["best_t"] * FPS)
                near = min(boxes, key=lambda k: abs(k - f))
                if abs(near - f) <= 3 and iou(boxes[near], t["box"]) >= 0.3:
                    score = iou(boxes[near], t["box"])
                    if best is None or score > best[0]:
                        best = (score, t)
            if best is None:
                continue
            t = best[1]
            n += 1
            ranked = t["attrs"].get("vehicle_type") or [(t["object"], 1.0)]
            got = t["object"]
            confusion[(want, got)] += 1
            top1 += got == want
            top2 += want in [v for v, _ in ranked[:2]] or got == want
            conf = next((c for v, c in ranked if v == got), ranked[0][1])
            rows.append((conf, got == want))
    print(f"\nvehicle type: {n} labelled tracks matched; rank 0 right {top1} "
          f"({top1 / max(1, n):.2f}), rank 0 or 1 right {top2} ({top2 / max(1, n):.2f})")
    print("confusion (label → decided):", dict(sorted(confusion.items())))
    print("\n".join(binned(rows)))
    # ---- colours against the colour queries' expected sightings
    crow: list[tuple[float, bool]] = []
    for line in (dev / "queries.jsonl").read_text().splitlines():
        q = json.loads(line)
        colour = q["query"].get("colour")
        if not colour:
            continue
        for s in q["expected"]:
            best = None
            for t in tracks.get(s["camera"], []):
                if t["object"] == "person":
                    continue
                for bt, *box in s.get("boxes", []):
                    ob = min(t["obs"], key=lambda o: abs(o[0] - bt))
                    if abs(ob[0] - bt) <= 0.6 and iou(box, ob[1:5]) >= 0.3:
                        score = iou(box, ob[1:5])
                        if best is None or score > best[0]:
                            best = (score, t)
                if not s.get("boxes") and t["obs"] and \
                        t["obs"][0][0] <= s["t1"] and t["obs"][-1][0] >= s["t0"]:
                    best = best or (0.0, t)
            if best is None:
                continue
            ranked = best[1]["attrs"].get("colour")
            if ranked:
                crow.append((ranked[0][1], ranked[0][0] == colour))
    right = sum(ok for _, ok in crow)
    print(f"\nvehicle colour: {len(crow)} labelled sightings matched; rank 0 right {right} "
          f"({right / max(1, len(crow)):.2f})")
    print("\n".join(binned(crow)))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
