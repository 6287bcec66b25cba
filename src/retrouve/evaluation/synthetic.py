"""A synthetic index of the shape a real analysis writes, for benchmarks at 100 k – 3 M tracks.

No footage is decoded: :func:`generate` draws tracks and writes them through the store's real
write path — ``add_camera``, ``add_recording``, ``ensure_units``, one
``save_unit_result`` per work unit (one transaction: tracks, attributes, plate reads,
appearance vectors, as the runner writes them) — then links fragments into objects with the
runner's own :func:`~retrouve.analysis.objects.link_recordings`, so row counts, indexes and
value distributions are those of a real index, not a look-alike bulk insert.
``generate(..., bulk=True)`` writes those very rows in large batches
(:mod:`retrouve.store.bulk`, ~6–10× less CPU per track), for 1 M tracks and
more; ``tests/test_synthetic.py`` checks both ways give the same rows.

Distributions (seeded, deterministic):

- **cameras**: ``cameras`` of them, activity Zipf-like (weight ``1 / rank ** 0.8``): a few busy
  junctions, many quiet streets;
- **time**: ``days`` days from ``start`` (UTC), hour of day from a two-peak urban traffic
  profile (:data:`HOURLY`), uniform within the hour; one recording per camera and day that
  has tracks (an NVR daily export, 86,400 s), analysed as one work unit (``slice_seconds``
  of a day: far fewer ``work_units`` rows than the default 10-minute slices, the same track
  tables);
- **classes** (:data:`CLASSES`): mostly cars and people, then vans, trucks, two-wheelers,
  buses and carried objects; colours from :data:`COLOUR_WEIGHTS` (white, black, grey first,
  as on French roads), a runner-up colour on one track in three;
- **plates**: ``plate_rate`` of motor vehicles carry a consensus read, French SIV
  (``AB123CD``, ``fr-siv``; letters without I, O, U) or one in twenty an old FNI
  (``1234AB75``, ``fr-fni``); plates are drawn from a pool with Zipf reuse so a vehicle is
  seen again on other cameras; most reads have one or two OCR runner-ups (a look-alike
  character swapped: 0/D, 8/B, 5/S…);
- **fragments**: ``fragment_rate`` of tracks are followed, 0.5–3 s after they end, by a second
  fragment starting on their last box (the short-gap rule of ``analysis/objects.py``: a
  tracker losing an object behind a bus), so search groups them into one object as it would
  on real footage.

Times: recording seconds inside each unit; wall clock = recording start + seconds.
"""

from __future__ import annotations

import itertools
import json
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from retrouve.analysis.objects import link_recordings
from retrouve.analysis.planning import plan_units
from retrouve.domain import (
    Attribute,
    Box,
    Camera,
    Observation,
    PlateRead,
    Recording,
    RecordingStatus,
    RunStatus,
    StageStats,
    Track,
    UnitResult,
    WorkUnit,
)
from retrouve.store.db import Store
from retrouve.vision import appearance

#: Relative traffic per hour of day (local time ≈ UTC here): night trough, 8 h and 18 h peaks.
HOURLY: tuple[float, ...] = (0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.2, 2.0, 2.2, 1.6, 1.4, 1.5,
                             1.6, 1.5, 1.5, 1.7, 2.0, 2.3, 2.0, 1.4, 1.0, 0.8, 0.6, 0.4)
#: Track classes and their shares.
CLASSES: dict[str, float] = {
    "car": 0.50, "person": 0.26, "van": 0.06, "truck": 0.03, "bus": 0.015,
    "motorcycle": 0.03, "bicycle": 0.035, "backpack": 0.01, "handbag": 0.01,
    "suitcase": 0.005, "umbrella": 0.005,
}
#: Colour shares (vehicle bodies and clothes alike, near enough for latency).
COLOUR_WEIGHTS: dict[str, float] = {
    "white": 0.22, "black": 0.2, "grey": 0.2, "blue": 0.1, "red": 0.08, "brown": 0.05,
    "green": 0.04, "yellow": 0.03, "orange": 0.02, "purple": 0.02, "pink": 0.02,
}
MOTOR: frozenset[str] = frozenset({"car", "van", "truck", "bus", "motorcycle"})
#: SIV letters: I, O and U are never issued.
SIV_LETTERS = "ABCDEFGHJKLMNPQRSTVWXYZ"
#: Look-alike characters an OCR runner-up swaps in.
LOOK_ALIKE: dict[str, str] = {"0": "D", "D": "0", "8": "B", "B": "8", "5": "S", "S": "5",
                              "2": "Z", "Z": "2", "1": "L", "L": "1", "6": "G", "G": "6",
                              "7": "T", "T": "7", "4": "A", "A": "4", "Q": "0", "V": "U"}
UNIT_S = 3600.0
DAY_S = 86400.0
FRAME_W, FRAME_H = 1920, 1080


@dataclass(frozen=True)
class SyntheticSpec:
    """What to generate: ``tracks`` tracks over ``cameras`` cameras and ``days`` days."""

    tracks: int
    cameras: int = 1000
    days: int = 30
    start: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    seed: int = 1
    plate_rate: float = 0.55
    fragment_rate: float = 0.1
    #: Distinct plates in the pool, as a share of ``tracks``.
    plate_pool: float = 0.3


@dataclass(frozen=True)
class SyntheticIndex:
    """What :func:`generate` wrote: counts and the draw's parameters (for the report)."""

    spec: SyntheticSpec
    cameras: tuple[str, ...]
    recordings: int
    units: int
    tracks: int
    plates: int
    objects_linked: int
    #: A few plates that were written (benchmarks query them).
    sample_plates: tuple[str, ...]


def siv_plate(rng: random.Random) -> str:
    """A French SIV plate, normalised (``AB123CD``)."""
    letters = [rng.choice(SIV_LETTERS) for _ in range(4)]
    return f"{letters[0]}{letters[1]}{rng.randint(1, 999):03d}{letters[2]}{letters[3]}"


def fni_plate(rng: random.Random) -> str:
    """An old FNI plate, normalised (``1234AB75``)."""
    return (f"{rng.randint(1, 9999)}{rng.choice(SIV_LETTERS)}{rng.choice(SIV_LETTERS)}"
            f"{rng.randint(1, 95):02d}")


def _runner_up(rng: random.Random, text: str) -> str | None:
    spots = [i for i, c in enumerate(text) if c in LOOK_ALIKE]
    if not spots:
        return None
    i = rng.choice(spots)
    return text[:i] + LOOK_ALIKE[text[i]] + text[i + 1:]


def _zipf_weights(n: int, s: float, rng: random.Random) -> list[float]:
    w = [1.0 / (r + 1) ** s for r in range(n)]
    rng.shuffle(w)
    return w


class _Draw:
    """The seeded draws of one generation."""

    def __init__(self, spec: SyntheticSpec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.np = np.random.default_rng(spec.seed)
        self.classes, self.class_w = list(CLASSES), list(CLASSES.values())
        self.colours, self.colour_w = list(COLOUR_WEIGHTS), list(COLOUR_WEIGHTS.values())
        pool = max(1, int(spec.tracks * spec.plate_pool))
        self.plates = [fni_plate(self.rng) if self.rng.random() < 0.05 else siv_plate(self.rng)
                       for _ in range(pool)]
        # Cumulative once: choices() would re-sum the whole pool on every draw.
        self.plate_cum = list(itertools.accumulate(_zipf_weights(pool, 0.6, self.rng)))

    def colour_attrs(self, name: str) -> list[Attribute]:
        first, second = self.rng.choices(self.colours, self.colour_w, k=2)
        attrs = [Attribute(name, first, round(self.rng.uniform(0.45, 0.98), 4))]
        if second != first and self.rng.random() < 0.33:
            attrs.append(Attribute(name, second, round(self.rng.uniform(0.1, 0.4), 4)))
        return attrs

    def attributes(self, kind: str) -> tuple[Attribute, ...]:
        rng = self.rng
        if kind == "person":
            attrs = self.colour_attrs("upper") + self.colour_attrs("lower")
            if rng.random() < 0.2:
                attrs.append(Attribute("accessory", rng.choice(("backpack", "handbag",
                                                                 "suitcase", "umbrella")),
                                       round(rng.uniform(0.3, 0.9), 4)))
            return tuple(attrs)
        attrs = self.colour_attrs("colour")
        if kind in ("car", "van", "truck"):
            p = round(rng.uniform(0.5, 0.97), 4)
            other = rng.choice([k for k in ("car", "van", "truck") if k != kind])
            attrs += [Attribute("vehicle_type", kind, p),
                      Attribute("vehicle_type", other, round(1 - p, 4))]
        return tuple(attrs)

    def plate(self, best_t: float, box: Box) -> PlateRead:
        rng = self.rng
        text = rng.choices(self.plates, cum_weights=self.plate_cum)[0]
        conf = round(rng.uniform(0.55, 0.99), 3)
        alts: list[tuple[str, float]] = []
        for _ in range(rng.choice((0, 1, 1, 2))):
            alt = _runner_up(rng, text)
            if alt and alt != text and alt not in (a for a, _ in alts):
                alts.append((alt, round(conf * rng.uniform(0.3, 0.8), 3)))
        grammar = "fr-fni" if text[0].isdigit() else "fr-siv"
        chars = tuple((c, round(min(1.0, conf + rng.uniform(-0.1, 0.1)), 3)) for c in text)
        w = box.width * 0.25
        pbox = Box(box.x0 + w, box.y1 - 30, box.x0 + 2 * w, box.y1 - 10)
        return PlateRead(text, conf, chars, tuple(alts), grammar, rng.randint(1, 8), best_t,
                         pbox)

    def box(self, kind: str) -> Box:
        rng = self.rng
        sizes: dict[str, tuple[float, float]] = {
            "person": (60, 160), "bicycle": (80, 120), "motorcycle": (90, 110),
            "bus": (500, 300), "truck": (420, 280), "backpack": (40, 50),
            "handbag": (40, 50), "suitcase": (40, 50), "umbrella": (40, 50)}
        w, h = sizes.get(kind, (260.0, 160.0))
        scale = rng.uniform(0.6, 1.4)
        w, h = w * scale, h * scale
        x0 = rng.uniform(0, FRAME_W - w - 1)
        y0 = rng.uniform(0, FRAME_H - h - 1)
        return Box(round(x0, 1), round(y0, 1), round(x0 + w, 1), round(y0 + h, 1))

    def vector(self) -> npt.NDArray[np.float32]:
        v = self.np.random(appearance.DIM).astype(np.float32) ** 3
        return (v / np.linalg.norm(v)).astype(np.float32)


def _observations(t0: float, t1: float, box: Box, conf: float) -> tuple[Observation, ...]:
    """Samples at 4 per second (the default ``sample_fps``), at most 40, box drifting."""
    n = max(2, min(40, int((t1 - t0) * 4)))
    step = (t1 - t0) / (n - 1)
    dx = box.width * 0.05
    return tuple(Observation(round(t0 + i * step, 3),
                             Box(box.x0 + i * dx, box.y0, box.x1 + i * dx, box.y1), conf)
                 for i in range(n))


def _track(draw: _Draw, rec_id: str, unit: WorkUnit, local: int, kind: str, t0: float,
           t1: float, box: Box, attrs: tuple[Attribute, ...], plate: PlateRead | None) -> Track:
    conf = round(draw.rng.uniform(0.35, 0.97), 4)
    best = round((t0 + t1) / 2, 3)
    return Track(rec_id, unit.id, local, kind, conf, round(t0, 3), round(t1, 3), best, box,
                 attrs, _observations(t0, t1, box, conf), b"", plate,
                 {appearance.KIND: draw.vector()})


def generate(store: Store, spec: SyntheticSpec, now: datetime,
             progress: Callable[[int, int], None] | None = None, *,
             bulk: bool = False) -> SyntheticIndex:
    """Write about ``spec.tracks`` synthetic tracks into ``store`` (module docstring), plus
    the second fragments of the objects split in two.

    ``now`` stamps the writes (ingest and run times); ``progress(tracks drawn, spec.tracks)``
    is called after each work unit (``bulk``: after each batch written).

    ``bulk``: the same draws and the same rows, written by
    :class:`~retrouve.store.bulk.BulkWriter` in large batches (SQLite:
    ``executemany`` in one transaction per batch, ``synchronous=OFF`` while loading;
    PostgreSQL: ``COPY``) instead of one store transaction per unit: minutes, not hours, for
    1 M tracks. Only into a store holding no tracks yet (it numbers the tracks itself)."""
    from retrouve.store.bulk import BulkWriter

    draw = _Draw(spec)
    rng = draw.rng
    cams = tuple(f"cam-{i:04d}" for i in range(spec.cameras))
    cam_w = _zipf_weights(spec.cameras, 0.8, rng)
    # (camera, day) → hours of the tracks starting that day.
    slots: dict[tuple[int, int], list[int]] = defaultdict(list)
    cam_idx = rng.choices(range(spec.cameras), cam_w, k=spec.tracks)
    hours = rng.choices(range(24), HOURLY, k=spec.tracks)
    for c, h in zip(cam_idx, hours, strict=True):
        slots[(c, rng.randrange(spec.days))].append(h)
    for c in sorted({c for c, _ in slots}):
        store.add_camera(Camera(cams[c], f"Synthetic camera {c}", "Europe/Paris"), now)
    run_id = store.start_run(now, {"synthetic": json.dumps(spec.__dict__, default=str)},
                             {"synthetic": "retrouve.evaluation.synthetic"}, "synthetic")
    writer = BulkWriter(store, run_id, now) if bulk else None
    recs: list[Recording] = []
    drawn = written = plates = 0
    sample: list[str] = []
    for c, d in sorted(slots):
        rec = Recording(f"{cams[c]}-day{d:02d}", cams[c], f"/synthetic/{cams[c]}/day{d:02d}.mp4",
                        f"{c:08x}{d:04x}".ljust(64, "0"), 0, spec.start + timedelta(days=d),
                        DAY_S, 25.0, FRAME_W, FRAME_H, "h264")
        [unit] = plan_units(rec, DAY_S)
        if writer is None:
            store.add_recording(rec, now)
            store.ensure_units([unit])
        recs.append(rec)
        tracks: list[Track] = []
        for h in sorted(slots[(c, d)]):
            kind = rng.choices(draw.classes, draw.class_w)[0]
            dur = rng.uniform(1.5, 25.0) if kind != "person" else rng.uniform(3.0, 60.0)
            box = draw.box(kind)
            attrs = draw.attributes(kind)
            t0 = h * UNIT_S + rng.uniform(0.0, UNIT_S - dur - 15.0)
            plate = (draw.plate(round(t0 + dur / 2, 3), box)
                     if kind in MOTOR and rng.random() < spec.plate_rate else None)
            if plate is not None:
                plates += 1
                if len(sample) < 50 and plate.grammar == "fr-siv":
                    sample.append(plate.text)
            first = _track(draw, rec.id, unit, len(tracks) + 1, kind, t0, t0 + dur, box,
                           attrs, plate)
            tracks.append(first)
            if rng.random() < spec.fragment_rate:
                # Lost behind a bus for a second or two, found again where it was: the
                # short-gap rule of analysis/objects.py links the two fragments.
                b0 = first.t_end + rng.uniform(0.5, 3.0)
                last = first.observations[-1].box
                tracks.append(_track(draw, rec.id, unit, len(tracks) + 1, kind, b0,
                                     b0 + rng.uniform(1.5, 10.0), last, attrs, None))
        result = UnitResult(unit.id, tuple(tracks), StageStats())
        drawn += len(slots[(c, d)])
        written += len(tracks)
        if writer is not None:
            if writer.add(rec, unit, result) and progress:
                progress(drawn, spec.tracks)
            continue
        store.save_unit_result(run_id, result, now)
        store.set_recording_status(rec.id, RecordingStatus.DONE, None)
        if progress:
            progress(drawn, spec.tracks)
    if writer is not None:
        writer.close()
        if progress:
            progress(drawn, spec.tracks)
    linked = link_recordings(store, recs)
    store.finish_run(run_id, now, RunStatus.DONE)
    store.optimize()
    return SyntheticIndex(spec, cams, len(recs), len(recs), written, plates, linked,
                          tuple(sample))
