"""The per-track attribute stage: after a unit's tracks are built, run the attribute packs and
the crop classifier on each track's best view, and decide from their votes.

* **Vehicle type** of tracks whose detector class stands for a whole family
  (``ModelSet.coarse``, e.g. OMZ ``vehicle`` → ``car``): :mod:`retrouve.analysis.type_vote`
  over the crop SSD (``ModelSet.crop_classifier`` on the best crop), the vehicle-attributes
  type head, box shape and motion. The track's ``object`` becomes the winner and its
  ``vehicle_type`` attributes the top two (rank 0 and 1 once stored), replacing any earlier.
* **Vehicle colour** with a vehicle-attributes pack: the pixel statistics fused with its colour
  head (:func:`retrouve.analysis.colour_fusion.fuse_vehicle_colour`).
* **Person** with a person-attributes pack: bag/backpack flags as ``accessory`` votes (combined
  with carried-object evidence by noisy-OR) and the upper/lower sample points as one more
  colour vote each. Nothing biometric is ever read (the pack manifest refuses such heads).

Boxes are original-frame pixels; crops RGB uint8. Models run in one batch per model per unit.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from retrouve.analysis import relative_size
from retrouve.analysis.colour_fusion import add_point_vote, fuse_vehicle_colour, point_colour
from retrouve.analysis.type_vote import TypeEvidence, decide_type
from retrouve.domain import (
    COLOURS,
    OBJECT_CLASSES,
    Attribute,
    Box,
    Track,
)
from retrouve.errors import AnalysisError
from retrouve.vision import colour as col
from retrouve.vision.detector import Detector
from retrouve.vision.packs.attributes import AttributePredictor, CropAttributes

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

#: Runner-up colours are stored above this share of the winner's scores (as the builder does).
SECONDARY_MIN = 0.25
#: Runner-up types below this probability are not stored.
TYPE_MIN = 0.05
#: A crop-SSD box counts for the tracked object when it overlaps it at least this much (IoU).
CROP_IOU = 0.3
#: Crops per mosaic side for the crop classifier (see :func:`crop_scores`), and the cell size
#: in pixels (the built-in SSD's 300 px input / 2).
CROP_GRID = 2
MOSAIC_CELL = 150
#: Pack flag → accessory value, and the weight of a pack flag as accessory evidence.
ACCESSORY_FLAGS: Mapping[str, str] = {"has_bag": "handbag", "has_backpack": "backpack"}
W_FLAG = 0.6
#: A pack-only accessory is stored when its weighted probability reaches this (below it is
#: noise, not evidence: the same floor as make/model labels, ``analysis.packs``). Low values
#: rank low in search; the pack's flags are weak (``../shared/models`` README).
ACCESSORY_MIN = 0.1
#: Margin of the builder's context crop around the box (``track_builder._context_crop``).
CONTEXT_MARGIN = 0.15
#: Object types with a body colour worth fusing with a vehicle pack (four-wheeled).
_FOUR_WHEELED = frozenset({"car", "van", "truck", "bus"})


@dataclass(frozen=True)
class TrackView:
    """A track's best view and colour evidence, as the builder kept them.

    ``crop``: RGB uint8 context crop (the box plus :data:`CONTEXT_MARGIN` each side, clipped to
    the frame) at the best time; ``box``: that box in frame pixels; ``gains``: the frame's
    white-balance gains (3,); ``colour_sum`` / ``colour_weight``: per region (``colour``,
    ``upper``, ``lower``) the ``Σ scores·weight`` (11,) and ``Σ weight`` over the track;
    ``others``: further ``(context crop, box)`` views of the track at other times (the
    builder keeps them for the type votes, ``track_builder.TYPE_VIEWS``).
    """

    crop: U8 | None
    box: Box | None
    gains: F32 | None = None
    colour_sum: Mapping[str, F64] = field(default_factory=dict)
    colour_weight: Mapping[str, float] = field(default_factory=dict)
    others: tuple[tuple[U8, Box], ...] = ()

    def all_views(self) -> list[TrackView]:
        """This view and each of :attr:`others` as a view of its own (crop and box only)."""
        return [self, *(TrackView(c, b) for c, b in self.others)]

    def inner_box(self) -> Box | None:
        """The tracked box in crop pixels (the context crop's origin undone)."""
        if self.crop is None or self.box is None or self.crop.size == 0:
            return None
        b = self.box
        ox = max(0, int(b.x0 - b.width * CONTEXT_MARGIN))
        oy = max(0, int(b.y0 - b.height * CONTEXT_MARGIN))
        h, w = self.crop.shape[:2]
        return Box(max(0.0, b.x0 - ox), max(0.0, b.y0 - oy),
                   min(float(w), b.x1 - ox), min(float(h), b.y1 - oy))

    def object_crop(self) -> U8 | None:
        """The box alone (no margin), None when empty or under 4 px a side."""
        inner = self.inner_box()
        if inner is None or self.crop is None:
            return None
        x0, y0 = int(inner.x0), int(inner.y0)
        x1, y1 = int(np.ceil(inner.x1)), int(np.ceil(inner.y1))
        if x1 - x0 < 4 or y1 - y0 < 4:
            return None
        return np.ascontiguousarray(self.crop[y0:y1, x0:x1])


@dataclass
class StageTimes:
    """Seconds spent per part of this stage, and how many tracks each part handled."""

    seconds: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, part: str, seconds: float, n: int) -> None:
        self.seconds[part] = self.seconds.get(part, 0.0) + seconds
        self.counts[part] = self.counts.get(part, 0) + n


@dataclass(frozen=True)
class AttributeModels:
    """The models this stage uses (from ``ModelSet``): any may be ``None``/empty."""

    coarse: Mapping[str, str] = field(default_factory=dict)
    crop_classifier: Detector | None = None
    vehicle: AttributePredictor | None = None
    person: AttributePredictor | None = None


def crop_scores(detector: Detector, views: Sequence[TrackView], grid: int | None = None
                ) -> list[dict[str, float]]:
    """Per view, the best score per class name of ``detector``'s boxes that overlap the
    tracked box (IoU ≥ :data:`CROP_IOU`).

    The context crops are laid out ``grid`` x ``grid`` (default :data:`CROP_GRID`) in one
    square mosaic per detector pass, each letterboxed into its cell: the built-in SSD sees
    every crop at 300/grid px (still larger than most tracked vehicles) for 1/grid² of the
    cost of a pass per crop. A box is assigned to the cell whose tracked box it overlaps.
    """
    grid = grid or CROP_GRID
    out: list[dict[str, float]] = [{} for _ in views]
    todo = [(i, v) for i, v in enumerate(views)
            if v.crop is not None and v.crop.size and v.inner_box() is not None]
    per = grid * grid
    for start in range(0, len(todo), per):
        chunk = todo[start:start + per]
        mosaic = np.full((grid * MOSAIC_CELL, grid * MOSAIC_CELL, 3), 114, np.uint8)
        targets: list[tuple[int, Box]] = []
        for k, (i, v) in enumerate(chunk):
            assert v.crop is not None
            inner = v.inner_box()
            assert inner is not None
            h, w = v.crop.shape[:2]
            scale = MOSAIC_CELL / max(h, w)
            nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
            cx, cy = (k % grid) * MOSAIC_CELL, (k // grid) * MOSAIC_CELL
            ox, oy = cx + (MOSAIC_CELL - nw) // 2, cy + (MOSAIC_CELL - nh) // 2
            interp = cv2.INTER_LINEAR if scale > 1 else cv2.INTER_AREA
            mosaic[oy:oy + nh, ox:ox + nw] = cv2.resize(v.crop, (nw, nh), interpolation=interp)
            targets.append((i, Box(ox + inner.x0 * scale, oy + inner.y0 * scale,
                                   ox + inner.x1 * scale, oy + inner.y1 * scale)))
        dets = detector.detect(mosaic)
        for j in range(len(dets)):
            b = Box(*(float(v) for v in dets.xyxy[j]))
            i, overlap = max(((i, b.iou(t)) for i, t in targets), key=lambda it: it[1])
            if overlap < CROP_IOU:
                continue
            name = OBJECT_CLASSES[int(dets.class_id[j])]
            out[i][name] = max(out[i].get(name, 0.0), float(dets.confidence[j]))
    return out


def colour_attributes(name: str, scores_sum: npt.ArrayLike, weight: float,
                      greyscale: bool) -> list[Attribute]:
    """The winner and runner-up colours of one region, as the builder stores them."""
    est = col.decide(np.asarray(scores_sum, np.float64), weight, greyscale)
    if est is None:
        return []
    attrs = [Attribute(name, est.name, round(est.confidence, 4))]
    top = float(est.scores.max())
    for i in np.argsort(-est.scores)[1:3]:
        if est.scores[i] >= SECONDARY_MIN and top > 0:
            conf = est.confidence * float(est.scores[i]) / top
            attrs.append(Attribute(name, COLOURS[int(i)], round(conf, 4)))
    return attrs


def _replace(track: Track, names: set[str], new: Sequence[Attribute], **changes: object
             ) -> Track:
    kept = tuple(a for a in track.attributes if a.name not in names)
    return dataclasses.replace(track, attributes=kept + tuple(new), **changes)  # type: ignore[arg-type]


def accessory_attributes(existing: Sequence[Attribute], flags: Mapping[str, float]
                         ) -> list[Attribute]:
    """``accessory`` values: carried-object evidence and pack flags combined by noisy-OR
    (``1 - (1 - c)(1 - W_FLAG·p)``); a value only the pack gives needs
    ``W_FLAG·p ≥ ACCESSORY_MIN``."""
    conf = {a.value: a.confidence for a in existing if a.name == "accessory"}
    for flag, value in ACCESSORY_FLAGS.items():
        p = W_FLAG * float(flags.get(flag, 0.0))
        if value in conf:
            conf[value] = 1.0 - (1.0 - conf[value]) * (1.0 - p)
        elif p >= ACCESSORY_MIN:
            conf[value] = p
    return [Attribute("accessory", v, round(c, 4))
            for v, c in sorted(conf.items(), key=lambda kv: -kv[1])]


def mean_scores(per_view: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Per class, the mean over views of the crop classifier's best score (a view where the
    class was not found counts 0): one lucky view does not decide."""
    if not per_view:
        return {}
    names = {k for d in per_view for k in d}
    return {k: sum(d.get(k, 0.0) for d in per_view) / len(per_view) for k in sorted(names)}


def mean_classes(per_view: Sequence[CropAttributes]) -> CropAttributes:
    """One crop's worth of class-head answers from several views of a track: per head, the
    mean probability of each label (still summing to 1), best first; flags and points of the
    first (best) view."""
    first = per_view[0]
    if len(per_view) == 1:
        return first
    classes: dict[str, tuple[tuple[str, float], ...]] = {}
    for head in first.classes:
        sums: dict[str, float] = {}
        for ca in per_view:
            for label, p in ca.classes.get(head, ()):
                sums[label] = sums.get(label, 0.0) + p / len(per_view)
        classes[head] = tuple(sorted(sums.items(), key=lambda kv: -kv[1]))
    return CropAttributes(classes, first.flags, first.points)


def _size_ratios(tracks: Sequence[Track], coarse_idx: Sequence[int], coarse: Mapping[str, str],
                 frame_size: tuple[int, int] | None) -> dict[int, float]:
    """Index → size ratio of the unit's ``vehicle``-family tracks against the line fitted
    over all of them (:mod:`retrouve.analysis.relative_size`); empty when it cannot be fitted
    or the frame size is unknown."""
    if frame_size is None:
        return {}
    fam = [i for i in coarse_idx if coarse.get(tracks[i].object) == "vehicle"]
    line = relative_size.fit([tracks[i].observations for i in fam], *frame_size)
    if line is None:
        return {}
    return {i: r for i in fam
            if (r := line.ratio(tracks[i].observations, *frame_size)) is not None}


def _predict(model: AttributePredictor | None, crops: list[U8]) -> list[CropAttributes]:
    if model is None or not crops:
        return []
    out = model.predict(crops)
    if len(out) != len(crops):
        raise AnalysisError(f"attribute model {model.name}: {len(out)} answers for "
                            f"{len(crops)} crops")
    return out


def refine_tracks(tracks: Sequence[Track], views: Sequence[TrackView | None],
                  models: AttributeModels, greyscale: bool,
                  times: StageTimes | None = None,
                  frame_size: tuple[int, int] | None = None) -> list[Track]:
    """``tracks`` with type, colours and accessories decided from their ``views`` (one per
    track, ``None`` when none) by ``models``; unchanged when no model applies.
    ``frame_size``: ``(width, height)`` of the unit's frames, for the relative-size vote
    (none without it)."""
    times = times if times is not None else StageTimes()
    out = list(tracks)
    # ---- vehicle attribute pack, one batch
    started = time.perf_counter()
    veh = [i for i, t in enumerate(out)
           if views[i] is not None and (t.object in _FOUR_WHEELED
                                        or models.coarse.get(t.object) == "vehicle")]
    veh_crops = [(i, c) for i in veh for v in views[i].all_views()  # type: ignore[union-attr]
                 if (c := v.object_crop()) is not None]
    veh_found = _predict(models.vehicle, [c for _, c in veh_crops])
    per_track: dict[int, list[CropAttributes]] = {}
    for (i, _), answer in zip(veh_crops, veh_found, strict=False):
        per_track.setdefault(i, []).append(answer)
    # One answer per track: each head's probabilities averaged over its views.
    veh_attrs = {i: mean_classes(found) for i, found in per_track.items()}
    if models.vehicle is not None:
        times.add("vehicle_pack", time.perf_counter() - started, len(veh_crops))
    # ---- vehicle type of coarse tracks
    started = time.perf_counter()
    coarse = [i for i, t in enumerate(out) if t.object in models.coarse and views[i] is not None]
    ssd_of: dict[int, dict[str, float]] = {}
    if models.crop_classifier is not None and coarse:
        flat = [(i, v) for i in coarse for v in views[i].all_views()]  # type: ignore[union-attr]
        scores = crop_scores(models.crop_classifier, [v for _, v in flat])
        by_track: dict[int, list[dict[str, float]]] = {}
        for (i, _), sc in zip(flat, scores, strict=True):
            by_track.setdefault(i, []).append(sc)
        ssd_of = {i: mean_scores(sc) for i, sc in by_track.items()}
    sizes = _size_ratios(out, coarse, models.coarse, frame_size)
    for i in coarse:
        t = out[i]
        family = models.coarse[t.object]
        ssd = ssd_of.get(i, {})
        head = veh_attrs.get(i)
        ranked_head = dict(head.classes.get("vehicle_type", ())) if head is not None else {}
        decision = decide_type(TypeEvidence(family, ssd, ranked_head, t.observations,
                                            sizes.get(i)))
        attrs = [Attribute("vehicle_type", name, round(p, 4))
                 for name, p in decision.ranked[:2] if p > TYPE_MIN]
        out[i] = _replace(t, {"vehicle_type"}, attrs, object=decision.best)
    if coarse:
        times.add("vehicle_type", time.perf_counter() - started, len(coarse))
    # ---- vehicle colour fusion
    for i, ca in veh_attrs.items():
        view = views[i]
        assert view is not None
        colour_head = dict(ca.classes.get("colour", ()))
        vote = fuse_vehicle_colour(view.colour_sum.get("colour", np.zeros(len(COLOURS))),
                                   view.colour_weight.get("colour", 0.0), colour_head)
        if vote.weight <= 0:
            continue
        attrs = colour_attributes("colour", vote.scores * vote.weight, vote.weight, greyscale)
        out[i] = _replace(out[i], {"colour"}, attrs)
    # ---- person attribute pack
    if models.person is not None:
        started = time.perf_counter()
        people = [(i, c) for i, t in enumerate(out) if t.object == "person"
                  and views[i] is not None
                  and (c := views[i].object_crop()) is not None]  # type: ignore[union-attr]
        found = _predict(models.person, [c for _, c in people])
        for (i, crop), ca in zip(people, found, strict=True):
            view = views[i]
            assert view is not None
            new = accessory_attributes(out[i].attributes, ca.flags.get("person_flags", {}))
            for region in ("upper", "lower"):
                point = ca.points.get(f"{region}_colour_point")
                patch = point_colour(crop, point, view.gains, greyscale) if point else None
                s, w = add_point_vote(view.colour_sum.get(region, np.zeros(len(COLOURS))),
                                      view.colour_weight.get(region, 0.0), patch)
                if w > 0:
                    new.extend(colour_attributes(region, s, w, greyscale))
                else:
                    new.extend(a for a in out[i].attributes if a.name == region)
            out[i] = _replace(out[i], {"accessory", "upper", "lower"}, new)
        times.add("person_pack", time.perf_counter() - started, len(people))
    return out
