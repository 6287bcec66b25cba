"""Decide a vehicle's type per track when the detector only says ``vehicle`` or ``bike``.

The Open Model Zoo surveillance detectors have one class for car, van, truck and bus, and one
for bicycles and motorcycles (mapped to ``car`` and ``bicycle`` by their packs, see
``catalogue.json`` ``label_map``). The type then comes from votes over the track's best view:

* **crop SSD** — the built-in COCO SSD run on the track's best crop (upscaled to its 300x300
  input, so a 40 px vehicle is seen at ~230 px): its best score per COCO class among the boxes
  that cover the object. COCO has no van: its car and truck scores go through
  :func:`retrouve.analysis.vehicle_type.estimate`, which also reads the **box shape** (a van is
  taller for its width than a car);
* **type head** — the vehicle-attributes pack's car/van/truck/bus probabilities (trained on
  front/rear barrier views: weak on top-down and low-resolution views, so a low weight);
* **relative size** — the track's size against the typical vehicle size at the same image row
  of its camera (:mod:`retrouve.analysis.relative_size`): buses and trucks are larger than the
  cars around them, vans slightly; one log-normal likelihood per type;
* **motion** — for two-wheelers only: speed in box heights per second (a cyclist moves ~1-3
  of its own heights per second in town, a motorcycle more). Weak, since both stop at lights.

The votes are pooled log-linearly (a weighted product of distributions, each floored so one
source cannot veto a type), then sharpened or flattened by a temperature. Pure functions of
the evidence: no model is run here.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from retrouve.analysis import vehicle_type
from retrouve.domain import Observation

#: The types a ``vehicle`` track may become, and those of a ``bike`` track.
FOUR_WHEELED: tuple[str, ...] = ("car", "van", "truck", "bus")
TWO_WHEELED: tuple[str, ...] = ("bicycle", "motorcycle")
FAMILIES: Mapping[str, tuple[str, ...]] = {"vehicle": FOUR_WHEELED, "bike": TWO_WHEELED}

#: Weights of each source in the log-linear pool (see module docstring and docs/analysis.md).
W_CROP_SSD = 1.0
#: The crop SSD is the main vote for two-wheelers (the type head knows no bikes).
W_CROP_SSD_BIKE = 1.0
W_TYPE_HEAD = 0.7
W_MOTION = 0.3
#: Box shape (van vs the rest only).
W_SHAPE = 0.5
#: Relative size (log-normal likelihood of the size ratio per type, see :func:`size_vote`).
W_SIZE = 1.5
#: Mean and spread of the natural log of the size ratio per type: the track medians of the
#: TfL dev CVAT boxes (38 cars, 3 vans of which 2 measurable, 8 trucks, 4 buses;
#: ``scripts/calibrate_type_vote.py``), spreads floored at :data:`SIZE_MIN_SPREAD` (two vans
#: say little about their spread) and widened by :data:`SIZE_DETECTOR_SPREAD` (detector boxes
#: are looser than hand-drawn ones).
SIZE_LOG: Mapping[str, tuple[float, float]] = {
    "car": (-0.08, 0.14), "van": (0.11, 0.09), "truck": (0.28, 0.22), "bus": (0.50, 0.22)}
SIZE_MIN_SPREAD = 0.15
SIZE_DETECTOR_SPREAD = 0.10
#: Every source's probability is floored here before pooling (no veto by one source).
FLOOR = 0.05
#: Weight of the prior (< 1: the dev share of each type must not outvote what is seen).
W_PRIOR = 0.5
#: Temperature of the pooled log-probabilities (> 1 flattens: the votes are not independent).
#: 1.0 gives a lower Brier score of the winner on the dev tracks (0.110 vs 0.125) but pushes
#: runner-up types under the search's 0.15 floor: the van and bus queries then miss their
#: vehicles (docs/analysis.md), so the flatter 1.6 stays.
TEMPERATURE = 1.6
#: Prior of each family when no source speaks: the share of each type among the 58 typed
#: four-wheeled tracks of the TfL dev annotations (42 car, 9 truck, 4 bus, 3 van), rounded.
#: Two-wheelers (one motorbike track there) get no preference.
PRIORS: Mapping[str, Mapping[str, float]] = {
    "vehicle": {"car": 0.72, "van": 0.06, "truck": 0.15, "bus": 0.07},
    "bike": {"bicycle": 0.5, "motorcycle": 0.5},
}
#: Speed (box heights per second) at which a two-wheeler is as likely a motorcycle as not,
#: and the spread of that ramp.
MOTORCYCLE_SPEED = 3.0
SPEED_SPREAD = 1.5


@dataclass(frozen=True)
class TypeEvidence:
    """What is known about one track's type.

    ``family``: ``vehicle`` or ``bike``; ``crop_ssd``: the crop SSD's best score 0..1 per
    Retrouve class (``car``, ``truck``, ``bus``, ``motorcycle``, ``bicycle``; absent = not
    seen; empty = the SSD did not run or found nothing); ``type_head``: the attribute pack's
    probabilities over :data:`FOUR_WHEELED` (empty = no pack); ``observations``: the track's
    boxes over time (original-frame pixels, recording seconds) for shape and motion;
    ``size_ratio``: its size over the camera's typical vehicle size at its row (None =
    unknown, :mod:`retrouve.analysis.relative_size`).
    """

    family: str
    crop_ssd: Mapping[str, float] = field(default_factory=dict)
    type_head: Mapping[str, float] = field(default_factory=dict)
    observations: Sequence[Observation] = ()
    size_ratio: float | None = None

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"TypeEvidence.family: expected one of {sorted(FAMILIES)}, "
                             f"got {self.family!r}")


@dataclass(frozen=True)
class TypeDecision:
    """Ranked ``(type, probability)`` of one track, best first, probabilities summing to 1;
    ``sources``: the names of the votes that spoke."""

    ranked: tuple[tuple[str, float], ...]
    sources: tuple[str, ...]

    @property
    def best(self) -> str:
        return self.ranked[0][0]


def _normalise(d: Mapping[str, float], types: Sequence[str]) -> dict[str, float]:
    total = sum(max(0.0, d.get(t, 0.0)) for t in types)
    if total <= 0:
        return {t: 1.0 / len(types) for t in types}
    return {t: max(0.0, d.get(t, 0.0)) / total for t in types}


def confident(shares: Mapping[str, float], confidence: float) -> dict[str, float]:
    """``shares`` (summing to 1) mixed with the uniform distribution: a detector score of
    ``confidence`` 0..1 says that much; a 0.1 "car" on a blurred crop says almost nothing."""
    c = min(1.0, max(0.0, confidence))
    n = len(shares)
    return {k: c * v + (1.0 - c) / n for k, v in shares.items()}


def crop_ssd_vote(scores: Mapping[str, float]) -> dict[str, float] | None:
    """The crop SSD's distribution over :data:`FOUR_WHEELED`, or None when it saw no car,
    truck or bus: the shares of its best car/truck/bus scores, mixed with uniform by the best
    score (:func:`confident`). COCO has no van (it calls vans car or truck), so van gets the
    mean of the car and truck shares: the SSD neither favours nor rules out a van."""
    car, truck, bus = (max(0.0, scores.get(k, 0.0)) for k in ("car", "truck", "bus"))
    total = car + truck + bus
    if total <= 0:
        return None
    top = max(car, truck, bus)
    car, truck, bus = car / total, truck / total, bus / total
    van = 0.5 * (car + truck)
    norm = car + truck + bus + van
    return confident({"car": car / norm, "van": van / norm, "truck": truck / norm,
                      "bus": bus / norm}, top)


def shape_vote(observations: Sequence[Observation]) -> dict[str, float] | None:
    """The box shape: tall boxes lean van (see :mod:`retrouve.analysis.vehicle_type`), no
    opinion between car, truck and bus; None without boxes."""
    if not observations:
        return None
    tall = vehicle_type._tallness(observations)
    van = 0.25 * (1.0 + tall)  # 0.25 (neutral) .. 0.5 for the tallest boxes
    rest = (1.0 - van) / 3.0
    return {"car": rest, "van": van, "truck": rest, "bus": rest}


def size_vote(ratio: float | None) -> dict[str, float] | None:
    """The four-wheeled types' likelihoods of a size ``ratio`` (see :data:`SIZE_LOG`),
    normalised; None when the ratio is unknown."""
    if ratio is None or ratio <= 0:
        return None
    x = math.log(ratio)
    like = {}
    for t, (mu, sd) in SIZE_LOG.items():
        s = math.hypot(max(sd, SIZE_MIN_SPREAD), SIZE_DETECTOR_SPREAD)
        like[t] = math.exp(-0.5 * ((x - mu) / s) ** 2) / s
    total = sum(like.values())
    if total <= 0:
        return None
    return {t: v / total for t, v in like.items()}


def speed(observations: Sequence[Observation]) -> float | None:
    """Median speed of the box centre in box heights per second, None under two samples."""
    steps = []
    for a, b in itertools.pairwise(observations):
        dt = b.t - a.t
        h = 0.5 * (a.box.height + b.box.height)
        if dt > 0 and h > 0:
            (ax, ay), (bx, by) = a.box.center, b.box.center
            steps.append(math.hypot(bx - ax, by - ay) / h / dt)
    if not steps:
        return None
    steps.sort()
    return steps[len(steps) // 2]


def motion_vote(observations: Sequence[Observation]) -> dict[str, float] | None:
    """Bicycle vs motorcycle from speed (see :data:`MOTORCYCLE_SPEED`), None when unknown."""
    v = speed(observations)
    if v is None:
        return None
    p = 1.0 / (1.0 + math.exp(-(v - MOTORCYCLE_SPEED) / SPEED_SPREAD))
    return {"bicycle": 1.0 - p, "motorcycle": p}


def pool(votes: Sequence[tuple[Mapping[str, float], float]], types: Sequence[str],
         prior: Mapping[str, float], temperature: float = TEMPERATURE,
         w_prior: float = W_PRIOR) -> dict[str, float]:
    """Log-linear pool: ``p(t) ∝ (prior(t)^w_prior · Π_s max(p_s(t), FLOOR)^w_s)^(1/T)``."""
    logs = {t: w_prior * math.log(max(prior.get(t, 0.0), 1e-6)) for t in types}
    for dist, weight in votes:
        d = _normalise(dist, types)
        for t in types:
            logs[t] += weight * math.log(max(d[t], FLOOR))
    top = max(logs.values())
    e = {t: math.exp((v - top) / temperature) for t, v in logs.items()}
    total = sum(e.values())
    return {t: v / total for t, v in e.items()}


def decide_type(ev: TypeEvidence) -> TypeDecision:
    """The ranked types of one track from every vote that has something to say."""
    types = FAMILIES[ev.family]
    votes: list[tuple[Mapping[str, float], float]] = []
    sources: list[str] = []
    if ev.family == "vehicle":
        ssd = crop_ssd_vote(ev.crop_ssd)
        if ssd is not None:
            votes.append((ssd, W_CROP_SSD))
            sources.append("crop_ssd")
        shape = shape_vote(ev.observations)
        if shape is not None:
            votes.append((shape, W_SHAPE))
            sources.append("shape")
        if ev.type_head:
            votes.append((ev.type_head, W_TYPE_HEAD))
            sources.append("type_head")
        size = size_vote(ev.size_ratio)
        if size is not None:
            votes.append((size, W_SIZE))
            sources.append("size")
    else:
        bi, mo = ev.crop_ssd.get("bicycle", 0.0), ev.crop_ssd.get("motorcycle", 0.0)
        if bi + mo > 0:
            votes.append((confident({"bicycle": bi / (bi + mo), "motorcycle": mo / (bi + mo)},
                                    max(bi, mo)), W_CROP_SSD_BIKE))
            sources.append("crop_ssd")
        mv = motion_vote(ev.observations)
        if mv is not None:
            votes.append((mv, W_MOTION))
            sources.append("motion")
    probs = pool(votes, types, PRIORS[ev.family], TEMPERATURE, W_PRIOR)
    ranked = tuple(sorted(probs.items(), key=lambda kv: (-kv[1], types.index(kv[0]))))
    return TypeDecision(ranked, tuple(sources))
