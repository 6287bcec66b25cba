"""Accumulate evidence per track over a unit, then decide the track's attributes.

Per analysed frame, each tracked detection adds: an observation (time, box, score), a class
vote weighted by score, colour evidence from the right body region, and a thumbnail candidate.
At the end, short tracks are dropped as noise, the class is the vote winner, colours are
decided over the whole track (one lucky frame does not decide), and the best view becomes the
thumbnail. Times are recording seconds; boxes original-frame pixels.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from retrouve.analysis import carried, spaced_views, vehicle_type
from retrouve.analysis.packs import make_model_attributes
from retrouve.analysis.plate_views import PlateViews
from retrouve.analysis.track_attributes import TrackView
from retrouve.analysis.track_merge import MergeRule, TrackSummary, merge_groups
from retrouve.domain import (
    CAR_LIKE_CLASSES,
    COLOURS,
    OBJECT_CLASSES,
    VEHICLE_CLASSES,
    Attribute,
    Box,
    Observation,
    Track,
)
from retrouve.video.motion import MotionResult
from retrouve.vision import colour as col
from retrouve.vision.appearance import AppearanceEmbedder
from retrouve.vision.models import ModelSet
from retrouve.vision.plates.ocr import PlateReader
from retrouve.vision.suppression import KIND_OF_CLASS

#: Secondary colour values are stored (and searchable, ranked lower) above this share.
SECONDARY_MIN = 0.25
_PERSON = OBJECT_CLASSES.index("person")
_VEHICLES = frozenset(
    i for i, c in enumerate(OBJECT_CLASSES) if c in VEHICLE_CLASSES or c == "bicycle"
)
#: Consecutive samples of one object whose appearance vectors have a cosine below this are
#: taken as two objects. Measured on the eval clips: samples of one vehicle 0.25 s apart
#: scored 0.60–1.0 (median 0.99) but once below 0.5 on a TfL clip, which split a real track;
#: different vehicles replacing each other in stills scored 0.32–0.8. So this only catches
#: blatant swaps; the motion-based rule (:func:`_replaced`) does most of the work.
SPLIT_SIMILARITY = 0.25
#: Share of a static box's pixels that must change for its object to count as replaced.
REPLACED_CHANGE = 0.5
#: After still frames, a box overlapping the object's last box less than this (IoU) is
#: another object (see :func:`_replaced`).
REPLACED_IOU = 0.7
#: A track seen once is kept if the frame then stayed unchanged this long (seconds): a
#: low-frame-rate export or a slideshow of stills shows each object on one sampled frame.
STILL_S = 1.0
#: Local ids of tracks created by a split start above any tracker id.
SPLIT_ID_BASE = 1_000_000
#: Classes with a licence plate worth reading.
_PLATED = frozenset(i for i, c in enumerate(OBJECT_CLASSES) if c in VEHICLE_CLASSES)
_CAR, _TRUCK = OBJECT_CLASSES.index("car"), OBJECT_CLASSES.index("truck")
#: Views per vehicle track kept for the per-track type and colour votes (the best view plus
#: up to ``TYPE_VIEWS - 1`` others, see :class:`_SideView`), and their least spacing in
#: seconds. One view alone is fragile: on the TfL dev clips the vehicle-attributes pack called
#: one bus ``bus`` 0.92 on one frame and ``car`` 0.86 a second later, and a red bus ``white``
#: from above (its roof) but ``red`` once it turned (docs/analysis.md, "Vehicle type").
TYPE_VIEWS = 3
TYPE_VIEW_SPACING_S = 1.0


@dataclass
class _SideView:
    """One kept view of a track for the type and colour votes: ``crop`` is the context crop
    (as the best view's), ``box`` the tracked box in frame pixels at ``t``."""

    quality: float
    t: float
    box: Box
    crop: npt.NDArray[np.uint8]


@dataclass(frozen=True)
class PlateOptions:
    """How plates are read: ``reader`` (``None``: not at all) and the view selection."""

    reader: PlateReader | None = None
    views: int = 3
    spacing_s: float = 0.4
    min_vehicle_px: int = 90


@dataclass
class _Evidence:
    observations: list[Observation] = field(default_factory=list)
    votes: npt.NDArray[np.float64] = field(
        default_factory=lambda: np.zeros(len(OBJECT_CLASSES))
    )
    #: Class votes per analysed frame (recording seconds → scores per class): two tracks of
    #: one object merge frame by frame (best score per class), not by adding both.
    frame_votes: dict[float, npt.NDArray[np.float64]] = field(default_factory=dict)
    #: Share of the first box's pixels that changed since the previous sampled frame.
    first_changed: float = 0.0
    colour: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)
    colour_weight: dict[str, float] = field(default_factory=dict)
    best_quality: float = -1.0
    best_t: float = 0.0
    best_box: Box | None = None
    best_crop: npt.NDArray[np.uint8] | None = None
    best_gains: npt.NDArray[np.float32] | None = None
    #: The best views :data:`TYPE_VIEW_SPACING_S` apart (the best view among them), kept
    #: only when a pack decides types per track (``ModelSet.coarse``).
    side_views: list[_SideView] = field(default_factory=list)
    appearance: npt.NDArray[np.float32] | None = None
    plate_views: PlateViews | None = None
    last_vector: npt.NDArray[np.float32] | None = None
    last_is_person: bool = False
    #: Recording seconds up to which the object is known to be still there: frames after
    #: its last detection that did not change at all (the gate skipped them).
    present_until: float = -1.0

    def add_appearance(self, vector: npt.NDArray[np.float32] | None) -> None:
        if vector is None:
            return
        self.appearance = vector if self.appearance is None else self.appearance + vector

    def add_colour(self, name: str, scores: npt.NDArray[np.float32], weight: float) -> None:
        if weight <= 0:
            return
        acc = self.colour.setdefault(name, np.zeros(len(COLOURS)))
        acc += weight * scores.astype(np.float64)
        self.colour_weight[name] = self.colour_weight.get(name, 0.0) + weight


@dataclass(frozen=True)
class FrameContext:
    """Per-frame facts the colour code needs: white-balance gains and night/IR flag."""

    gains: npt.NDArray[np.float32]
    greyscale: bool


class TrackBuilder:
    """Collects per-track evidence for one work unit.

    ``models`` gives the appearance embedder and the per-track packs (make/model classifier,
    embedder); without it, the built-in appearance vector only. Its detector and plate reader
    are not used here (plates come through ``plates``).
    """

    def __init__(self, recording_id: str, unit_id: str, thumbnail_px: int = 320,
                 plates: PlateOptions | None = None, models: ModelSet | None = None) -> None:
        self.recording_id = recording_id
        self.unit_id = unit_id
        self.thumbnail_px = thumbnail_px
        self.plates = plates or PlateOptions()
        self.models = models
        self._appearance = models.appearance if models is not None else AppearanceEmbedder()
        self._tracks: dict[int, _Evidence] = {}
        # Tracker id → local id of the track its evidence currently goes to (after splits).
        self._alias: dict[int, int] = {}
        self._next_split = 0
        # (before, after) local ids of each split: never merged back together.
        self._apart: list[tuple[int, int]] = []
        self.merge_rule = MergeRule()
        #: Tracks folded into another one by :meth:`finish` (for tests and benchmarks).
        self.merged = 0
        self.greyscale_frames = 0
        self.frames = 0
        #: Seconds spent reading plates in :meth:`finish` (for the pipeline's stage timings).
        self.plate_seconds = 0.0
        # Extra views serve the per-track type vote only (packs with coarse classes).
        self._side_views = models is not None and bool(models.coarse)
        #: (width, height) of the frames seen, for the relative-size vote's edge tests.
        self.frame_size: tuple[int, int] | None = None

    def add(
        self,
        track_id: int,
        t: float,
        box: Box,
        score: float,
        class_id: int,
        image: npt.NDArray[np.uint8],
        ctx: FrameContext,
        motion: MotionResult | None,
        changed: float = 0.0,
        sample_s: float = 0.25,
        votes: npt.NDArray[np.float32] | None = None,
        folded: npt.NDArray[np.float32] | None = None,
    ) -> None:
        """Add one tracked detection seen at ``t`` on the full-resolution RGB ``image``.

        ``votes`` (``(len(OBJECT_CLASSES),)``) is the class evidence of the duplicate boxes
        folded into this detection (:mod:`retrouve.vision.suppression`); by default it
        votes ``score`` for ``class_id`` alone. ``folded`` (``(K, 5)``: box, score) are those
        boxes themselves: they are offered as further plate views (a tile's piece of a
        large vehicle often holds the legible plate).

        If another object took this one's place (see :func:`_replaced`), or its look changes
        abruptly from its previous sample, the evidence is split into a new track from here
        on. ``changed`` is the share 0..1 of the box's pixels that changed since the previous
        sampled frame; ``sample_s`` the sampling interval in seconds.
        """
        h, w = image.shape[:2]
        self.frame_size = (w, h)
        x0, y0 = max(0, int(box.x0)), max(0, int(box.y0))
        x1, y1 = min(w, int(np.ceil(box.x1))), min(h, int(np.ceil(box.y1)))
        crop = image[y0:y1, x0:x1]
        vector = None
        if (class_id == _PERSON or class_id in _VEHICLES) and x1 - x0 >= 4 and y1 - y0 >= 4:
            vector = self._appearance.vector(crop, person=class_id == _PERSON)
        local = self._alias.get(track_id, track_id)
        ev = self._tracks.setdefault(local, _Evidence())
        if _abrupt_change(ev, vector, class_id == _PERSON) or _replaced(ev, t, box, changed,
                                                                        sample_s):
            self._next_split += 1
            previous = local
            local = self._alias[track_id] = SPLIT_ID_BASE + self._next_split
            self._apart.append((previous, local))
            ev = self._tracks.setdefault(local, _Evidence())
        if vector is not None:
            ev.last_vector, ev.last_is_person = vector, class_id == _PERSON
        if not ev.observations:
            ev.first_changed = changed
        ev.observations.append(Observation(t, box, score))
        row = np.zeros(len(OBJECT_CLASSES))
        if votes is None:
            row[class_id] = score
        else:
            row[:] = votes
        ev.frame_votes[t] = row
        ev.votes += row
        if x1 - x0 < 4 or y1 - y0 < 4:
            return
        foreground = None
        if motion is not None:
            foreground = motion.foreground(box, (crop.shape[0], crop.shape[1]))
        if class_id == _PERSON:
            (up, uw), (lo, lw) = col.clothing_colour_scores(crop, ctx.gains, foreground,
                                                            ctx.greyscale)
            ev.add_colour("upper", up, uw)
            ev.add_colour("lower", lo, lw)
            ev.add_appearance(vector)
        elif class_id in _VEHICLES:
            sc, sw = col.vehicle_colour_scores(crop, ctx.gains, foreground, ctx.greyscale)
            ev.add_colour("colour", sc, sw)
            ev.add_appearance(vector)
            opts = self.plates
            if opts.reader is not None and class_id in _PLATED:
                if ev.plate_views is None:
                    ev.plate_views = PlateViews(opts.views, opts.spacing_s, opts.min_vehicle_px)
                ev.plate_views.offer(t, box, score, image)
                for x0f, y0f, x1f, y1f, sf in (() if folded is None else folded.tolist()):
                    ev.plate_views.offer(t, Box(x0f, y0f, x1f, y1f), sf, image, piece=True)
        # Best view: confident, large, not cut by the frame edge.
        edge = x0 <= 1 or y0 <= 1 or x1 >= w - 1 or y1 >= h - 1
        quality = score * np.sqrt(box.area) * (0.5 if edge else 1.0)
        if quality > ev.best_quality:
            ev.best_quality, ev.best_t, ev.best_box = quality, t, box
            ev.best_crop = _context_crop(image, box)
            ev.best_gains = ctx.gains
        if (self._side_views and class_id in _VEHICLES
                and spaced_views.admits(ev.side_views, t, float(quality), TYPE_VIEWS,
                                        TYPE_VIEW_SPACING_S)):
            crop_now = ev.best_crop if ev.best_t == t and ev.best_crop is not None \
                else _context_crop(image, box)
            spaced_views.keep(ev.side_views, _SideView(float(quality), t, box, crop_now),
                              TYPE_VIEWS, TYPE_VIEW_SPACING_S)

    def still_frame(self, t: float, last_detection_t: float) -> None:
        """A sampled frame at ``t`` that did not change since the detection at
        ``last_detection_t``: every object seen then is still there."""
        for ev in self._tracks.values():
            if ev.observations and ev.observations[-1].t == last_detection_t:
                ev.present_until = t

    def finish(
        self, min_frames: int, pad_s: float, t_min: float, t_max: float, greyscale: bool
    ) -> list[Track]:
        """Decide every track with ≥ ``min_frames`` observations, or seen once and then
        unchanged for :data:`STILL_S` seconds.

        Track spans are padded by ``pad_s`` (half the sampling interval) on each side, within
        ``[t_min, t_max]``: the object was on screen between samples too.
        """
        self._merge()
        out: list[Track] = []
        for local_id, ev in sorted(self._tracks.items()):
            if ev.best_box is None or (len(ev.observations) < min_frames
                                       and ev.present_until - ev.observations[-1].t < STILL_S):
                continue
            total = float(ev.votes.sum())
            cls = int(np.argmax(ev.votes))
            share = float(ev.votes[cls]) / total if total > 0 else 0.0
            n_cls = len(ev.observations)
            mean_conf = float(ev.votes[cls]) / max(1, n_cls)
            object_conf = min(1.0, share * (0.5 + 0.5 * min(1.0, mean_conf / 0.6)))
            attributes = self._decide_colours(ev, cls, greyscale)
            obj = OBJECT_CLASSES[cls]
            if cls in (_CAR, _TRUCK):
                obj, type_attrs = _vehicle_type(ev)
                attributes.extend(type_attrs)
            t0 = max(t_min, ev.observations[0].t - pad_s)
            t1 = min(t_max, max(ev.observations[-1].t, ev.present_until) + pad_s)
            plate = None
            if ev.plate_views is not None and self.plates.reader is not None:
                started = time.perf_counter()
                plate = ev.plate_views.read(self.plates.reader)
                self.plate_seconds += time.perf_counter() - started
            vec = None if ev.appearance is None else self._appearance.normalise(ev.appearance)
            out.append(
                Track(
                    recording_id=self.recording_id, unit_id=self.unit_id, local_id=local_id,
                    object=obj, object_confidence=round(object_conf, 4),
                    t_start=t0, t_end=t1, best_t=ev.best_t, best_box=ev.best_box,
                    attributes=tuple(attributes), observations=tuple(ev.observations),
                    thumbnail_jpeg=self._jpeg(ev.best_crop), plate=plate,
                    vectors={} if vec is None else {self._appearance.kind: vec},
                )
            )
        if self.models is not None and self.models.any_pack:
            out = self._apply_packs(out, [self._tracks[t.local_id].best_crop for t in out])
        return carried.apply(out)

    def view(self, local_id: int) -> TrackView | None:
        """The best view and colour evidence of a track :meth:`finish` returned (for the
        per-track attribute packs), None for an unknown id."""
        ev = self._tracks.get(local_id)
        if ev is None:
            return None
        others = tuple((v.crop, v.box) for v in sorted(ev.side_views, key=lambda v: v.t)
                       if v.t != ev.best_t)
        return TrackView(ev.best_crop, ev.best_box, ev.best_gains,
                         {k: v.copy() for k, v in ev.colour.items()}, dict(ev.colour_weight),
                         others)

    def _apply_packs(self, tracks: list[Track],
                     crops: list[npt.NDArray[np.uint8] | None]) -> list[Track]:
        """Make/model of car-like tracks and pack vectors of every track, from the best view."""
        assert self.models is not None
        out = list(tracks)
        views = {i: c for i, c in enumerate(crops) if c is not None and c.size}
        if self.models.make_model is not None:
            cars = [i for i in views if out[i].object in CAR_LIKE_CLASSES]
            found = make_model_attributes(self.models.make_model, [views[i] for i in cars])
            for i, attrs in zip(cars, found, strict=True):
                out[i] = dataclasses.replace(out[i], attributes=out[i].attributes + tuple(attrs))
        embedder = self.models.embedder
        if embedder is not None and views:
            vecs = embedder.embed_images(list(views.values()))
            for row, i in enumerate(views):
                out[i] = dataclasses.replace(out[i],
                                             vectors={**out[i].vectors, embedder.kind: vecs[row]})
        return out

    def _merge(self) -> None:
        """Join the evidence of tracks on one object (:func:`merge_groups`)."""
        summaries = []
        for local_id, ev in self._tracks.items():
            if not ev.observations:
                continue
            app = None if ev.appearance is None else self._appearance.normalise(ev.appearance)
            summaries.append(TrackSummary(
                local_id, KIND_OF_CLASS[int(np.argmax(ev.votes))], tuple(ev.observations),
                ev.present_until, app, ev.first_changed))
        for group in merge_groups(summaries, self.merge_rule, self._apart):
            if len(group) > 1:
                self._tracks[group[0]] = _union([self._tracks.pop(i) for i in group])
                self.merged += len(group) - 1

    @staticmethod
    def _decide_colours(ev: _Evidence, cls: int, greyscale: bool) -> list[Attribute]:
        names = ("upper", "lower") if cls == _PERSON else ("colour",) if cls in _VEHICLES else ()
        attrs: list[Attribute] = []
        for name in names:
            if name not in ev.colour:
                continue
            est = col.decide(ev.colour[name], ev.colour_weight[name], greyscale)
            if est is None:
                continue
            attrs.append(Attribute(name, est.name, round(est.confidence, 4)))
            # Runner-up colours stay searchable (white/grey, brown/orange are often confused),
            # ranked by their lower confidence.
            top = float(est.scores.max())
            for i in np.argsort(-est.scores)[1:3]:
                if est.scores[i] >= SECONDARY_MIN and top > 0:
                    conf = est.confidence * float(est.scores[i]) / top
                    attrs.append(Attribute(name, COLOURS[int(i)], round(conf, 4)))
        return attrs

    def _jpeg(self, crop: npt.NDArray[np.uint8] | None) -> bytes:
        if crop is None or crop.size == 0:
            return b""
        h, w = crop.shape[:2]
        scale = min(1.0, self.thumbnail_px / max(h, w))
        if scale < 1.0:
            crop = np.asarray(
                cv2.resize(crop, (max(1, int(w * scale)), max(1, int(h * scale))),
                           interpolation=cv2.INTER_AREA), dtype=np.uint8)
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR),
                               [cv2.IMWRITE_JPEG_QUALITY, 85])
        return bytes(buf.tobytes()) if ok else b""


def _union(parts: list[_Evidence]) -> _Evidence:
    """One object's evidence from the tracks that followed it (see :meth:`TrackBuilder._merge`).

    Per analysed frame the best-scored observation and the best score per class; colour and
    appearance evidence summed; the best view, plate views and still-presence of all.
    """
    out = _Evidence()
    by_t: dict[float, Observation] = {}
    # The longest track's plate views stay the views; the others' become pieces.
    parts = sorted(parts, key=lambda ev: -len(ev.observations))
    for ev in parts:
        for o in ev.observations:
            if o.t not in by_t or o.confidence > by_t[o.t].confidence:
                by_t[o.t] = o
        for t, row in ev.frame_votes.items():
            out.frame_votes[t] = np.maximum(out.frame_votes[t], row) if t in out.frame_votes \
                else row.copy()
        for name, acc in ev.colour.items():
            out.colour[name] = out.colour.get(name, np.zeros(len(COLOURS))) + acc
            out.colour_weight[name] = out.colour_weight.get(name, 0.0) + ev.colour_weight[name]
        out.add_appearance(ev.appearance)
        if ev.best_quality > out.best_quality:
            out.best_quality, out.best_t, out.best_box = ev.best_quality, ev.best_t, ev.best_box
            out.best_crop = ev.best_crop
            out.best_gains = ev.best_gains
        for view in ev.side_views:
            spaced_views.offer(out.side_views, view, TYPE_VIEWS, TYPE_VIEW_SPACING_S)
        if ev.plate_views is not None:
            if out.plate_views is None:
                out.plate_views = ev.plate_views
            else:
                out.plate_views.absorb(ev.plate_views)
        out.present_until = max(out.present_until, ev.present_until)
    out.observations = [by_t[t] for t in sorted(by_t)]
    out.votes = np.sum(list(out.frame_votes.values()), axis=0) if out.frame_votes \
        else np.zeros(len(OBJECT_CLASSES))
    first = min(parts, key=lambda ev: ev.observations[0].t if ev.observations else np.inf)
    latest = max(parts, key=lambda ev: ev.observations[-1].t if ev.observations else -np.inf)
    out.first_changed = first.first_changed
    out.last_vector, out.last_is_person = latest.last_vector, latest.last_is_person
    return out


def _abrupt_change(ev: _Evidence, vector: npt.NDArray[np.float32] | None,
                   person: bool) -> bool:
    """Whether ``vector`` looks unlike the track's previous sample (see :meth:`add`)."""
    if vector is None or ev.last_vector is None or ev.last_is_person != person:
        return False
    a, b = AppearanceEmbedder.normalise(ev.last_vector), AppearanceEmbedder.normalise(vector)
    return a is not None and b is not None and float(a @ b) < SPLIT_SIMILARITY


def _replaced(ev: _Evidence, t: float, box: Box, changed: float, sample_s: float) -> bool:
    """A different object now stands where the track's object stood.

    The scene was still (frames after the track's last detection did not change at all, so
    the gate skipped them), then the pixels under the box changed almost entirely, or the box
    jumped (a parked car that drives off moves by a few pixels per sample at first). Seen in
    slideshows of stills and low-frame-rate NVR exports, where one vehicle replaces another
    between two frames.
    """
    if not ev.observations:
        return False
    last = ev.observations[-1]
    # Still frames followed its last detection (the gate saw nothing move), rather than the
    # detector merely missing a moving object for a few samples.
    if not (ev.present_until > last.t and t - last.t > 1.5 * sample_s):
        return False
    # Its pixels changed wholesale, or its box jumped: a parked object that starts moving
    # shifts by a few pixels between two samples (IoU well above this), a new one does not
    # line up with it. (The tracker's centre-distance fallback may still have paired them.)
    return changed >= REPLACED_CHANGE or last.box.iou(box) < REPLACED_IOU


def _vehicle_type(ev: _Evidence) -> tuple[str, list[Attribute]]:
    """Car, van or truck for a car/truck-voted track, plus the ranked ``vehicle_type`` values."""
    est = vehicle_type.estimate(float(ev.votes[_CAR]), float(ev.votes[_TRUCK]), ev.observations)
    ranked = est.ranked()
    attrs = [Attribute("vehicle_type", name, round(p, 4)) for name, p in ranked[:2] if p > 0.05]
    return ranked[0][0], attrs


def _context_crop(image: npt.NDArray[np.uint8], box: Box, margin: float = 0.15) -> npt.NDArray[
    np.uint8
]:
    """The box plus a margin of context, copied (the frame buffer is reused)."""
    h, w = image.shape[:2]
    mx, my = box.width * margin, box.height * margin
    x0, y0 = max(0, int(box.x0 - mx)), max(0, int(box.y0 - my))
    x1, y1 = min(w, int(box.x1 + mx) + 1), min(h, int(box.y1 + my) + 1)
    return image[y0:y1, x0:x1].copy()
