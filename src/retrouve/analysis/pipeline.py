"""Analyse one work unit: decode → motion gate → detect → track → per-track attributes.

:func:`process_unit` is top-level and picklable: it gets its models from the settings through
:func:`retrouve.vision.models.load_models` (loaded once per process), so a process pool or a
cluster executor ships only ``(unit, settings)`` (plus any injected, picklable factories).
It never raises for a bad file: the failure comes back in ``UnitResult.error`` so the batch goes
on.
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict

import cv2
import numpy as np
import numpy.typing as npt

from retrouve.analysis.complement import ComplementaryPass, with_extra
from retrouve.analysis.track_attributes import AttributeModels, StageTimes, refine_tracks
from retrouve.analysis.track_builder import FrameContext, PlateOptions, TrackBuilder
from retrouve.config import AnalysisSettings, Settings
from retrouve.domain import Box, StageStats, Track, UnitResult, WorkUnit
from retrouve.errors import RetrouveError
from retrouve.video.decode import DecodeCounter, sample_frames
from retrouve.video.motion import MotionGate, MotionResult
from retrouve.vision import colour as col
from retrouve.vision.detector import detect_voted
from retrouve.vision.models import DetectorFactory, ModelSet, PlateReaderFactory, load_models
from retrouve.vision.suppression import VotedDetections
from retrouve.vision.tracker import ByteTracker, TrackerConfig

log = logging.getLogger(__name__)


def tracker_config(settings: AnalysisSettings) -> TrackerConfig:
    """Tracker thresholds derived from the detector threshold (low-score second pass)."""
    # SSD-MobileNet scores small, far objects at 0.2-0.35: a higher bar to start a track
    # drops most of a traffic camera's vehicles (measured on the TfL eval clips).
    high = max(settings.detect_threshold + 0.1, 0.3)
    # Tracks may be lost for several samples (occlusion) and through gated static stretches.
    return TrackerConfig(
        high_threshold=high,
        low_threshold=settings.detect_threshold,
        new_track_threshold=high,
        max_lost_s=max(2.0, 6.0 / settings.sample_fps),
    )


def process_unit(
    unit: WorkUnit,
    settings: Settings,
    detector_factory: DetectorFactory | None = None,
    plate_reader_factory: PlateReaderFactory | None = None,
) -> UnitResult:
    """Analyse ``unit``; failures are returned in ``UnitResult.error``, never raised.

    The models are :func:`~retrouve.vision.models.load_models` of ``settings.analysis``;
    ``detector_factory`` / ``plate_reader_factory`` (tests' fakes) replace the defaults and
    are called once per unit.
    """
    try:
        models = load_models(
            settings.analysis, detector=detector_factory, plate_reader=plate_reader_factory
        )
        return _process(unit, settings.analysis, models)
    except RetrouveError as exc:
        log.warning("unit %s failed: %s", unit.id, exc)
        return UnitResult(unit.id, (), StageStats(), error=str(exc))
    except Exception as exc:
        log.exception("unit %s crashed", unit.id)
        return UnitResult(
            unit.id, (), StageStats(), error=f"unexpected {type(exc).__name__}: {exc}"
        )


def _process(unit: WorkUnit, cfg: AnalysisSettings, models: ModelSet) -> UnitResult:
    detector = models.detector
    reader = models.plate_reader if cfg.plates else None
    tracker = ByteTracker(tracker_config(cfg))
    gate = MotionGate()
    builder = TrackBuilder(
        unit.recording_id,
        unit.id,
        cfg.thumbnail_px,
        PlateOptions(reader, cfg.plate_views, cfg.plate_view_spacing_s, cfg.plate_min_vehicle_px),
        models,
    )
    # A detector pack without carried-object classes: the built-in SSD finds them around
    # people (analysis.complement), timed as its own stage.
    complement = (
        ComplementaryPass(models.complement, models.complement_classes)
        if models.complement is not None and models.complement_classes
        else None
    )
    counter = DecodeCounter()
    secs: dict[str, float] = defaultdict(float)
    sampled = detected = passes = grey_votes = 0
    last_detect = -math.inf
    t_last = unit.t0
    frames = sample_frames(
        unit.path,
        unit.t0,
        unit.t1,
        cfg.sample_fps,
        counter,
        label=f"{unit.recording_id} ({unit.path})",
    )
    mark = time.perf_counter()
    for sf in frames:
        now = time.perf_counter()
        secs["decode"] += now - mark
        sampled += 1
        t_last = sf.t
        motion = gate.update(sf.small_gray(), sf.width)
        now2 = time.perf_counter()
        secs["motion"] += now2 - now
        mark = now2
        due = sf.t - last_detect >= cfg.refresh_seconds
        if motion.fraction < cfg.motion_min_area and not due and not unit.is_image:
            # Nothing changed: what was seen at the last detection is still in view.
            builder.still_frame(sf.t, last_detect)
            continue
        image = sf.rgb()
        if motion.cut:
            # A new scene (the next still, an edit): no box continues an object seen before.
            tracker.reset()
        regions = None if due else motion.boxes()
        voted, n = detect_voted(detector, image, cfg.tile_px, regions)
        now3 = time.perf_counter()
        secs["detect"] += now3 - mark
        if complement is not None:
            extra = complement.run(image, sf.t, voted.detections, sweep=regions is None)
            voted = with_extra(voted, extra)
            mark, now3 = now3, time.perf_counter()
            secs["complement"] += now3 - mark
        dets = voted.detections
        detected += 1
        passes += n
        last_detect = sf.t
        ids = tracker.update(dets, sf.t)
        now4 = time.perf_counter()
        secs["track"] += now4 - now3
        if (ids >= 0).any():  # frame-level colour facts only matter when something is tracked
            small = np.asarray(
                cv2.resize(
                    image,
                    (160, max(2, image.shape[0] * 160 // image.shape[1])),
                    interpolation=cv2.INTER_AREA,
                ),
                dtype=np.uint8,
            )
            ctx = FrameContext(col.white_balance_gains(small), col.is_greyscale(small))
            grey_votes += 1 if ctx.greyscale else -1
            _add_tracked(builder, voted, ids, sf.t, image, ctx, motion, 1.0 / cfg.sample_fps)
        mark = time.perf_counter()
        secs["attributes"] += mark - now4
    now = time.perf_counter()
    secs["decode"] += now - mark  # the decoder's tail after the last sampled frame
    mark = now
    pad = 0.0 if unit.is_image else 0.5 / cfg.sample_fps
    t_end = t_last + pad if math.isinf(unit.t1) else unit.t1
    if math.isinf(unit.t1) and not unit.is_image and counter.last_t >= 0:
        # Never past the end of the last decoded frame, which is the stored duration
        # (video.timeline); 1 µs inside so float rounding cannot cross it.
        t_end = min(t_end, counter.last_t + counter.period - 1e-6)
    tracks = builder.finish(
        1 if unit.is_image else cfg.min_track_frames, pad, unit.t0, t_end, grey_votes > 0
    )
    # Plate OCR runs inside finish(); its share is reported separately from colours.
    secs["plates"] += builder.plate_seconds
    secs["attributes"] += time.perf_counter() - mark - builder.plate_seconds
    tracks = _refine(tracks, builder, models, grey_votes > 0, secs)
    stats = StageStats(
        counter.decoded, sampled, detected, passes, {k: round(v, 4) for k, v in secs.items()}
    )
    until = None if unit.is_image else counter.decoded_until
    return UnitResult(
        unit.id,
        tuple(tracks),
        stats,
        decoded_until=unit.t0 if until is None else until,
        damage=counter.damage.note(),
    )


def _refine(
    tracks: list[Track],
    builder: TrackBuilder,
    models: ModelSet,
    greyscale: bool,
    secs: dict[str, float],
) -> list[Track]:
    """The per-track attribute stage (type votes, attribute packs) on the built tracks; its
    parts are timed as their own stages (``vehicle_type``, ``vehicle_pack``, ``person_pack``)."""
    am = AttributeModels(
        models.coarse, models.crop_classifier, models.vehicle_attributes, models.person_attributes
    )
    if not am.coarse and am.vehicle is None and am.person is None:
        return tracks  # the built-in path: nothing to do, no cost
    times = StageTimes()
    out = refine_tracks(tracks, [builder.view(t.local_id) for t in tracks], am, greyscale, times,
                        builder.frame_size)
    for part, s in times.seconds.items():
        secs[part] += s
    return out


def _add_tracked(
    builder: TrackBuilder,
    voted: VotedDetections,
    ids: npt.NDArray[np.int64],
    t: float,
    image: npt.NDArray[np.uint8],
    ctx: FrameContext,
    motion: MotionResult,
    sample_s: float,
) -> None:
    dets = voted.detections
    # The motion mask only separates object from road when most of the frame is static.
    fg_source = motion if motion.fraction < 0.5 else None
    for i in range(len(dets)):
        tid = int(ids[i])
        if tid < 0:
            continue
        x0, y0, x1, y1 = (float(v) for v in dets.xyxy[i])
        box = Box(x0, y0, x1, y1)
        mask = motion.foreground(box, (16, 16))
        changed = float(mask.mean()) if mask is not None else 0.0
        builder.add(
            tid,
            t,
            box,
            float(dets.confidence[i]),
            int(dets.class_id[i]),
            image,
            ctx,
            fg_source,
            changed,
            sample_s,
            voted.votes[i],
            voted.folded_boxes(i),
        )
