"""Multi-object tracking by detection (ByteTrack-style) for sparsely sampled CCTV frames.

Conventions:

* **Time.** ``t`` is ``float`` seconds in the recording time base (seconds from the recording's
  first frame). Calls are strictly increasing in ``t`` but irregularly spaced (2–6 sampled frames
  per second, longer gaps where a motion gate skipped static stretches), so every motion model
  below uses the real elapsed time ``dt`` in seconds, never a frame count.
* **Pixels.** Boxes are ``x0, y0, x1, y1`` in pixels of the original frame, origin top-left, as in
  :class:`retrouve.domain.Detections`. The Kalman state is in the same pixels, velocities in
  pixels per second.
* **Ids.** Track ids are ``int`` ≥ 1, unique for the life of one tracker (never reused, not even
  after :meth:`ByteTracker.reset`). ``-1`` marks a detection that belongs to no track.

Association per frame, in order (each step only sees what the previous ones left unmatched):

1. high-score detections × all live tracks, by IoU against the Kalman-predicted box;
2. fallback for the leftovers of step 1: normalised centre distance, for small fast objects whose
   boxes do not overlap from one sparse frame to the next (see :func:`_centre_cost`);
3. low-score detections × remaining tracks, by IoU (ByteTrack's second association);
4. unmatched high-score detections start new tracks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from retrouve.domain import OBJECT_CLASSES, Detections

F64 = npt.NDArray[np.float64]
Pairs = list[tuple[int, int]]

#: Added to a pair's cost when the detection's class differs from the track's majority class:
#: association stays class-agnostic (the detector flips car/truck) but prefers same-class pairs.
_CLASS_MISMATCH_COST: Final = 0.1
#: Measurement noise: std of a detected box's centre and sides, as a fraction of the box size.
_MEAS_STD: Final = 0.05
#: Process noise: std of acceleration of the centre / of the sides, in box sizes per s².
_ACC_STD: Final = 1.5
_SIZE_ACC_STD: Final = 0.2
#: Prior std of a new track's velocity (box sizes per s): wide, so the second detection alone
#: sets the velocity (a car at 50 km/h moves about three of its lengths per second).
_INIT_VEL_STD: Final = 3.0
_INIT_SIZE_VEL_STD: Final = 0.2
#: A predicted box keeps its sides within this factor of the last estimate, so a drifting size
#: velocity cannot grow or shrink a lost track's box without bound.
_MAX_SIZE_DRIFT: Final = 2.0
#: The centre-distance fallback only pairs boxes whose sides agree within this factor.
_FALLBACK_MAX_SIDE_RATIO: Final = 2.0
#: Cost of an infeasible pair for the solver; such pairs are discarded after solving.
_INFEASIBLE: Final = 1e6


class Tracker(Protocol):
    def update(self, detections: Detections, t: float) -> npt.NDArray[np.int64]:
        """Track ids aligned with ``detections`` (``-1``: no track), for the frame at ``t``."""
        ...

    def reset(self) -> None:
        """Forget all tracks and the time base; keep the id counter."""
        ...


@dataclass(frozen=True)
class TrackerConfig:
    """Thresholds (scores 0..1, IoU 0..1, seconds of recording time)."""

    high_threshold: float = 0.5  # detections >= this start/extend tracks in the first association
    low_threshold: float = 0.2  # detections in [low, high) only extend tracks (second association)
    new_track_threshold: float = 0.5  # an unmatched high detection needs this much to start one
    match_iou: float = 0.2  # min IoU against the predicted box, first association
    low_match_iou: float = 0.3  # min IoU against the predicted box, second association
    max_lost_s: float = 2.0  # a track unmatched for longer than this is dropped
    centre_gate: float = 1.5  # fallback radius, in diagonals of the predicted box

    def __post_init__(self) -> None:
        if not 0.0 <= self.low_threshold <= self.high_threshold <= 1.0:
            raise ValueError("TrackerConfig: need 0 <= low_threshold <= high_threshold <= 1")
        if self.new_track_threshold < self.high_threshold:
            raise ValueError("TrackerConfig: new_track_threshold must be >= high_threshold")
        if not (0.0 < self.match_iou <= 1.0 and 0.0 < self.low_match_iou <= 1.0):
            raise ValueError("TrackerConfig: match_iou and low_match_iou must be in (0, 1]")
        if self.max_lost_s < 0.0 or self.centre_gate < 0.0:
            raise ValueError("TrackerConfig: max_lost_s and centre_gate must be >= 0")


@dataclass(slots=True)
class _Track:
    """Live state of one track. Mutable on purpose: it is corrected on every matched frame."""

    track_id: int
    mean: F64  # (8,) cx, cy, w, h and their velocities (px, px/s), estimated at t_seen
    cov: F64  # (8, 8)
    t_seen: float  # recording time of the last matched detection
    class_votes: F64  # summed confidence per class index; the argmax is the track's class


def _to_cxcywh(xyxy: F64) -> F64:
    return np.stack(
        [
            (xyxy[..., 0] + xyxy[..., 2]) / 2,
            (xyxy[..., 1] + xyxy[..., 3]) / 2,
            xyxy[..., 2] - xyxy[..., 0],
            xyxy[..., 3] - xyxy[..., 1],
        ],
        axis=-1,
    )


def _to_xyxy(cxcywh: F64) -> F64:
    c, half = cxcywh[..., :2], cxcywh[..., 2:4] / 2
    return np.concatenate([c - half, c + half], axis=-1)


def _size(cxcywh: F64) -> float:
    # One scale for all axes: a person's box is narrow but walks sideways about a height a second.
    return float(max((cxcywh[2] + cxcywh[3]) / 2, 1.0))


def _new_state(z: F64) -> tuple[F64, F64]:
    s = _size(z)
    std = s * np.array([_MEAS_STD] * 4 + [_INIT_VEL_STD] * 2 + [_INIT_SIZE_VEL_STD] * 2)
    return np.concatenate([z, np.zeros(4)]), np.diag(std**2)


def _predict(mean: F64, cov: F64, dt: float) -> tuple[F64, F64]:
    """Constant-velocity prediction over ``dt`` seconds (continuous white-noise acceleration).

    Predicting once over the whole gap equals predicting frame by frame for this model, so lost
    tracks are always predicted from their last correction and never accumulate extra noise.
    """
    f = np.eye(8)
    f[:4, 4:] = dt * np.eye(4)
    q = (_size(mean) * np.array([_ACC_STD] * 2 + [_SIZE_ACC_STD] * 2)) ** 2
    noise = np.zeros((8, 8))
    i = np.arange(4)
    noise[i, i] = q * dt**3 / 3
    noise[i, i + 4] = noise[i + 4, i] = q * dt**2 / 2
    noise[i + 4, i + 4] = q * dt
    return f @ mean, f @ cov @ f.T + noise


def _correct(mean: F64, cov: F64, z: F64) -> tuple[F64, F64]:
    """Kalman update with a measured ``cx, cy, w, h`` (the first four state components)."""
    innovation_cov = cov[:4, :4] + np.diag((_MEAS_STD * _size(z)) ** 2 * np.ones(4))
    gain = np.linalg.solve(innovation_cov, cov[:4, :]).T  # (8, 4); innovation_cov is symmetric
    mean = mean + gain @ (z - mean[:4])
    cov = cov - gain @ cov[:4, :]
    return mean, (cov + cov.T) / 2  # keep it symmetric against rounding drift


def _iou(a: F64, b: F64) -> F64:
    """Pairwise IoU of ``a`` (K, 4) and ``b`` (M, 4) xyxy boxes, shape (K, M)."""
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0.0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def _centre_cost(pred: F64, det: F64, gate: float) -> tuple[F64, npt.NDArray[np.bool_]]:
    """Fallback cost for boxes of the same object that do not overlap between sparse frames.

    The centre distance is normalised by the radius ``gate ×`` the predicted box's diagonal, so
    the cost is in ``[0, 1)`` inside the gate. Pairs whose sides differ by more than
    ``_FALLBACK_MAX_SIDE_RATIO`` are refused: distance alone must not link a person to a bus.
    Both arguments are ``cx, cy, w, h``, shapes (K, 4) and (M, 4).
    """
    dist = np.linalg.norm(pred[:, None, :2] - det[None, :, :2], axis=2)
    radius = gate * np.hypot(pred[:, 2], pred[:, 3])[:, None]
    cost = dist / np.maximum(radius, 1e-9)
    ratio = det[None, :, 2:4] / np.maximum(pred[:, None, 2:4], 1e-9)
    similar = np.all(
        (ratio <= _FALLBACK_MAX_SIDE_RATIO) & (ratio >= 1 / _FALLBACK_MAX_SIDE_RATIO), axis=2
    )
    return cost, (cost < 1.0) & similar


def _assign(cost: F64, feasible: npt.NDArray[np.bool_]) -> Pairs:
    """Matching over feasible pairs only, as ``(row, col)`` pairs.

    Infeasible pairs get a huge cost, so the solver first maximises the number of feasible pairs
    and then minimises their total cost (the usual SORT behaviour); they are dropped afterwards.
    """
    if not feasible.any():
        return []
    rows, cols = linear_sum_assignment(np.where(feasible, cost, _INFEASIBLE))
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if feasible[r, c]]


class ByteTracker:
    """ByteTrack-style tracker with a dt-aware Kalman filter and a centre-distance fallback."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config if config is not None else TrackerConfig()
        self._next_id = 1
        self._tracks: list[_Track] = []
        self._t_last: float | None = None

    def reset(self) -> None:
        # The id counter survives: ids must stay unique across work units sharing one tracker.
        self._tracks = []
        self._t_last = None

    def update(self, detections: Detections, t: float) -> npt.NDArray[np.int64]:
        """Track id per detection of the frame at recording time ``t`` (``-1``: no track)."""
        cfg = self.config
        if self._t_last is not None and not t > self._t_last:
            raise ValueError(f"tracker: time must increase, got {t} after {self._t_last}")
        self._t_last = t
        ids = np.full(len(detections), -1, np.int64)
        # Drop tracks lost for too long before matching, so they cannot be re-found at t.
        self._tracks = [k for k in self._tracks if t - k.t_seen <= cfg.max_lost_s]

        xyxy = detections.xyxy.astype(np.float64)
        conf = detections.confidence.astype(np.float64)
        cls = detections.class_id
        valid = np.all(np.isfinite(xyxy), axis=1) & np.all(xyxy[:, 2:] > xyxy[:, :2], axis=1)
        high = np.flatnonzero(valid & (conf >= cfg.high_threshold))
        low = np.flatnonzero(valid & (conf >= cfg.low_threshold) & (conf < cfg.high_threshold))
        meas = _to_cxcywh(xyxy)

        preds = [_predict(k.mean, k.cov, t - k.t_seen) for k in self._tracks]
        pred_box = np.zeros((len(preds), 4))
        for i, (m, _) in enumerate(preds):
            last_wh = np.maximum(self._tracks[i].mean[2:4], 1.0)
            wh = np.clip(m[2:4], last_wh / _MAX_SIZE_DRIFT, last_wh * _MAX_SIZE_DRIFT)
            pred_box[i] = np.concatenate([m[:2], np.maximum(wh, 1.0)])
        track_cls = np.array([int(np.argmax(k.class_votes)) for k in self._tracks], np.int64)

        free = np.arange(len(self._tracks))
        matches: Pairs = []  # (track index, detection index)

        def match_stage(dets: npt.NDArray[np.intp], min_iou: float | None) -> None:
            """Match free tracks to ``dets`` by IoU >= ``min_iou``, or by centre if ``None``."""
            nonlocal free
            if not len(free) or not len(dets):
                return
            penalty = _CLASS_MISMATCH_COST * (track_cls[free][:, None] != cls[dets][None, :])
            if min_iou is None:
                cost, feasible = _centre_cost(pred_box[free], meas[dets], cfg.centre_gate)
            else:
                iou = _iou(_to_xyxy(pred_box[free]), xyxy[dets])
                cost, feasible = 1.0 - iou, iou >= min_iou
            pairs = _assign(cost + penalty, feasible)
            matches.extend((int(free[r]), int(dets[c])) for r, c in pairs)
            taken = {r for r, _ in pairs}
            free = np.array([k for j, k in enumerate(free) if j not in taken], np.intp)

        match_stage(high, cfg.match_iou)
        matched_dets = {d for _, d in matches}
        # The fallback only sees what IoU left over, so it can never take a pair IoU would make.
        match_stage(np.array([d for d in high.tolist() if d not in matched_dets], np.intp), None)
        match_stage(low, cfg.low_match_iou)

        for ti, di in matches:
            track = self._tracks[ti]
            track.mean, track.cov = _correct(*preds[ti], meas[di])
            track.t_seen = t
            track.class_votes[cls[di]] += conf[di]
            ids[di] = track.track_id

        matched_dets = {d for _, d in matches}
        for dn in high.tolist():
            if dn in matched_dets or conf[dn] < cfg.new_track_threshold:
                continue
            mean, cov = _new_state(meas[dn])
            votes = np.zeros(len(OBJECT_CLASSES))
            votes[cls[dn]] = conf[dn]
            self._tracks.append(_Track(self._next_id, mean, cov, t, votes))
            ids[dn] = self._next_id
            self._next_id += 1
        return ids
