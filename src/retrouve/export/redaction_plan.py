"""What the redacted copy of an exhibit blurs besides faces: the plates of the *other*
vehicles seen in its span, and the step of the bundle that writes that copy.

The analysis keeps one plate box per vehicle track (on the frame of its best read) and the
vehicle's box on every analysed frame. A plate moves with its vehicle, so its box is carried
along: expressed as fractions of the vehicle's box on the analysed frame nearest the read,
then placed in the vehicle's box of every analysed frame inside the exhibit. Between
analysed frames ``redact_clip`` interpolates boxes sharing a key (the track id).

The exhibit's own track (the vehicle of interest) is never blurred: whose plate matters is
the operator's decision, recorded by the mark. Times: ``TimedBox.t_s`` is seconds from the
copy's first frame, which is the exhibit's ``t_from`` in recording seconds (the working copy
starts there, give or take half a frame); boxes are original-frame pixels, the working copy's
size (the caption is drawn inside the frame).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from retrouve.config import RedactionSettings
from retrouve.digest import sha256_file
from retrouve.export.exhibits import Exhibit
from retrouve.export.redact import TimedBox, redact_clip
from retrouve.store.records import TrackDetail
from retrouve.vision.faces import FaceDetector

#: ``others(exhibit)``: the stored tracks of the exhibit's recording overlapping its span.
OthersOf = Callable[[Exhibit], Sequence[TrackDetail]]

REDACTED = "redacted.mp4"
LOG = "redaction-log.json"


def plate_boxes(exhibit: Exhibit, others: Sequence[TrackDetail]) -> list[TimedBox]:
    """The plate boxes to blur in ``exhibit``: every track in ``others`` other than the
    exhibit's own, of the same recording, with a plate box, carried along its observations
    inside ``[t_from, t_to]`` (see the module docstring), in time order."""
    own = exhibit.track.id if exhibit.track is not None else None
    out = [box for t in others if t.id != own and t.recording_id == exhibit.recording.id
           for box in _carried(t, exhibit.t_from, exhibit.t_to)]
    return sorted(out, key=lambda b: (b.t_s, b.key))


def _carried(track: TrackDetail, t_from: float, t_to: float) -> Iterator[TimedBox]:
    plate = track.plate
    if plate is None or plate.box is None or not track.observations:
        return
    ref = min(track.observations, key=lambda o: abs(o[0] - plate.best_t))
    _, vx0, vy0, vx1, vy1, _ = ref
    vw, vh = vx1 - vx0, vy1 - vy0
    if vw <= 0 or vh <= 0:
        return
    pb = plate.box
    fx0, fy0 = (pb.x0 - vx0) / vw, (pb.y0 - vy0) / vh
    fx1, fy1 = (pb.x1 - vx0) / vw, (pb.y1 - vy0) / vh
    for t, x0, y0, x1, y1, _conf in track.observations:
        if not t_from <= t <= t_to:
            continue
        w, h = x1 - x0, y1 - y0
        bx0, by0 = x0 + fx0 * w, y0 + fy0 * h
        bw, bh = (fx1 - fx0) * w, (fy1 - fy0) * h
        if bw > 0 and bh > 0:
            yield TimedBox(t_s=t - t_from, x=bx0, y=by0, w=bw, h=bh, label="plate",
                           key=str(track.id))


def make_redactor(settings: RedactionSettings, others: OthersOf
                  ) -> Callable[[Exhibit, Path, Path], dict[str, Any]]:
    """The bundle's redaction step (``export.bundle.Redactor``): from the exhibit's working
    copy (never the master) write ``redacted.mp4`` and ``redaction-log.json`` into
    ``out_dir`` (``exhibits/<label>/redacted``) and return their manifest entry. One face
    detector serves every exhibit of the bundle."""
    detector: list[FaceDetector] = []

    def redact(exhibit: Exhibit, working: Path, out_dir: Path) -> dict[str, Any]:
        if not detector:
            detector.append(FaceDetector(settings.face_threshold, large=settings.large_frames,
                                         tile_overlap=settings.tile_overlap_px))
        boxes = plate_boxes(exhibit, others(exhibit))
        log = redact_clip(working, out_dir / REDACTED, boxes, settings=settings,
                          detector=detector[0])
        (out_dir / LOG).write_text(json.dumps(log.to_json(), indent=2, ensure_ascii=False),
                                   encoding="utf-8")
        rel = PurePosixPath("exhibits") / exhibit.label / "redacted"
        return {"file": str(rel / REDACTED), "sha256": sha256_file(out_dir / REDACTED),
                "log": str(rel / LOG), "log_sha256": sha256_file(out_dir / LOG),
                "from": "working copy", "faces_detected": log.faces_detected,
                "plate_boxes_given": len(boxes), "plate_boxes_blurred": log.plate_boxes_blurred,
                "review": "the detector suggests; a person must review the redacted copy "
                          "before disclosure"}

    return redact
