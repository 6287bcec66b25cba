"""The complementary carried-object pass: the detector's gap from its label map, regions and
mosaics (pure tables), then the whole pipeline with a pack-like detector that has no bag class
plus a built-in-like fake that has."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from clips import RED, YELLOW, Moving, make_clip
from retrouve.analysis import pipeline
from retrouve.analysis.complement import (
    INTERVAL_S,
    MAX_UPSCALE,
    MIN_PERSON_PX,
    MOSAIC_PX,
    PER_MOSAIC,
    ComplementaryPass,
    Placement,
    detect_in_regions,
    layout,
    merge_regions,
    plan_regions,
    widen,
    with_extra,
)
from retrouve.analysis.type_vote import FAMILIES
from retrouve.config import AnalysisSettings, Settings
from retrouve.domain import CARRIED_CLASSES, OBJECT_CLASSES, Box, Detections, WorkUnit
from retrouve.vision.detector import ShapeDetector
from retrouve.vision.models import FAMILY_CLASSES, ModelSet, missing_classes
from retrouve.vision.suppression import VotedDetections

U8 = npt.NDArray[np.uint8]
RGB = tuple[int, int, int]
OMZ_MAP = {"vehicle": "car", "person": "person", "bike": "bicycle"}


class Manifest:
    def __init__(self, label_map: dict[str, str]) -> None:
        self.label_map = label_map


class ColourDetector:
    """Fake detector: one box per connected blob of each listed colour (within 60 in RGB
    sum), of that colour's class, confidence 0.9. ``manifest`` (optional) makes it look like
    a pack with that ``label_map``."""

    name = "colour-fake"
    version = "1"

    def __init__(self, classes: dict[RGB, str], label_map: dict[str, str] | None = None
                 ) -> None:
        self.classes = classes
        self.passes = 0
        self.sizes: list[tuple[int, int]] = []
        if label_map is not None:
            self.manifest = Manifest(label_map)

    def detect(self, image: U8) -> Detections:
        self.passes += 1
        self.sizes.append((image.shape[1], image.shape[0]))
        boxes, classes = [], []
        for rgb, cls in self.classes.items():
            near = np.abs(image.astype(np.int16) - np.array(rgb, np.int16)).sum(axis=2) < 60
            n, _, stats, _ = cv2.connectedComponentsWithStats(near.astype(np.uint8), 8)
            for i in range(1, n):
                x, y, w, h, area = (int(v) for v in stats[i])
                if area >= 12:
                    boxes.append([x, y, x + w, y + h])
                    classes.append(OBJECT_CLASSES.index(cls))
        if not boxes:
            return Detections.empty()
        return Detections(np.array(boxes, np.float32), np.full(len(boxes), 0.9, np.float32),
                          np.array(classes, np.int32))


# ------------------------------------------------------------------ the gap
@pytest.mark.parametrize(
    ("label_map", "expected"),
    [
        (OMZ_MAP, CARRIED_CLASSES),                                   # OMZ pvb packs
        ({"person": "person", "handbag": "handbag"}, CARRIED_CLASSES - {"handbag"}),
        ({c: c for c in OBJECT_CLASSES}, frozenset()),                # a COCO pack
        ({"vehicle": "suitcase"}, CARRIED_CLASSES),                   # coarse: the family only
        (None, frozenset()),                                          # no manifest: built-in
    ],
)
def test_missing_classes_from_the_label_map(label_map: dict[str, str] | None,
                                            expected: frozenset[str]) -> None:
    det = ColourDetector({}, label_map)
    assert missing_classes(det) == expected


def test_builtin_detector_has_no_gap() -> None:
    assert missing_classes(ShapeDetector()) == frozenset()


def test_family_classes_match_the_type_vote() -> None:
    assert {k: set(v) for k, v in FAMILY_CLASSES.items()} == {
        k: set(v) for k, v in FAMILIES.items()}


# ------------------------------------------------------------------ regions
@pytest.mark.parametrize(
    ("box", "margins", "expected"),
    [
        (Box(100, 100, 140, 200), (0.5, 0.15), Box(80, 85, 160, 215)),
        (Box(0, 0, 40, 100), (0.5, 0.15), Box(0, 0, 60, 115)),          # clipped at 0
        (Box(300, 200, 320, 240), (1.0, 1.0), Box(280, 160, 320, 240)),  # clipped at size
    ],
)
def test_widen(box: Box, margins: tuple[float, float], expected: Box) -> None:
    assert widen(box, *margins, 320, 240) == expected


@pytest.mark.parametrize(
    ("regions", "expected"),
    [
        ([], []),
        ([Box(0, 0, 10, 10), Box(50, 50, 60, 60)], [Box(0, 0, 10, 10), Box(50, 50, 60, 60)]),
        ([Box(0, 0, 10, 10), Box(5, 0, 15, 10)], [Box(0, 0, 15, 10)]),      # half overlap
        ([Box(0, 0, 10, 10), Box(9, 0, 19, 10)], [Box(0, 0, 10, 10), Box(9, 0, 19, 10)]),
        # a chain merges transitively
        ([Box(0, 0, 10, 10), Box(20, 0, 30, 10), Box(5, 0, 25, 10)], [Box(0, 0, 30, 10)]),
    ],
)
def test_merge_regions(regions: list[Box], expected: list[Box]) -> None:
    assert merge_regions(regions) == expected


@pytest.mark.parametrize(
    ("people", "items", "n"),
    [
        ([], [], 0),
        ([Box(100, 100, 120, 150)], [], 1),
        ([Box(100, 100, 120, 150), Box(105, 100, 125, 150)], [], 1),  # walking together
        ([Box(10, 10, 30, 60), Box(250, 150, 270, 200)], [], 2),
        ([Box(100, 100, 120, 150)], [Box(200, 20, 210, 30)], 2),      # a bag left apart
        ([Box(100, 100, 120, 150)], [Box(95, 130, 105, 140)], 1),     # the bag they carry
        ([Box(100, 100, 108, 120)], [], 0),                          # too small to see a bag
        ([Box(100, 100, 108, 120)], [Box(101, 110, 105, 114)], 1),   # but a bag seen: watched
    ],
)
def test_plan_regions(people: list[Box], items: list[Box], n: int) -> None:
    regions = plan_regions(people, items, 320, 240)
    assert len(regions) == n
    for p in (p for p in people if p.height >= MIN_PERSON_PX):  # inside a region
        assert any(r.x0 <= p.x0 and r.x1 >= p.x1 and r.y0 <= p.y0 and r.y1 >= p.y1
                   for r in regions)


@pytest.mark.parametrize(
    ("n", "mosaics", "cell"),
    [(1, 1, (300, 300)), (2, 1, (150, 300)), (3, 1, (150, 150)), (4, 1, (150, 150)),
     (5, 2, (300, 300)), (6, 2, (150, 300)), (9, 3, (300, 300))],
)
def test_layout_fills_mosaics(n: int, mosaics: int, cell: tuple[int, int]) -> None:
    regions = [Box(10 * i, 0, 10 * i + 40, 100) for i in range(n)]
    places = layout(regions)
    assert len(places) == n and max(p.mosaic for p in places) + 1 == mosaics
    first = [p for p in places if p.mosaic == 0]
    assert len(first) == min(n, PER_MOSAIC)
    last = [p for p in places if p.mosaic == mosaics - 1]
    cw, ch = cell
    for p in last:  # in its cell, within the mosaic, aspect kept, upscale bounded
        assert p.w <= cw and p.h <= ch and p.scale <= MAX_UPSCALE
        assert p.ox >= 0 and p.ox + p.w <= MOSAIC_PX and p.oy >= 0 and p.oy + p.h <= MOSAIC_PX
        assert p.w / p.h == pytest.approx(40 / 100, rel=0.05)
    # no two placements of one mosaic overlap
    for m in range(mosaics):
        ps = [p for p in places if p.mosaic == m]
        for i, a in enumerate(ps):
            for b in ps[i + 1:]:
                assert (a.ox + a.w <= b.ox or b.ox + b.w <= a.ox
                        or a.oy + a.h <= b.oy or b.oy + b.h <= a.oy)


def test_placement_maps_back_to_the_frame() -> None:
    p = Placement(Box(100, 50, 150, 150), 0, 10, 0, 150, 300, 3.0)
    mosaic_box = np.array([10 + 3 * 5, 3 * 20, 10 + 3 * 15, 3 * 40], np.float32)
    assert p.to_frame(mosaic_box) == Box(105, 70, 115, 90)
    assert p.contains(11, 1) and not p.contains(5, 1)


# ------------------------------------------------------------------ detection in regions
def scene() -> U8:
    img = np.full((240, 320, 3), 128, np.uint8)
    img[100:180, 150:180] = RED            # a person 30 x 80
    img[150:160, 138:146] = YELLOW         # a bag beside their hip, 8 x 10
    img[20:30, 20:30] = YELLOW             # a bag nobody is near
    return img


def test_detect_in_regions_finds_the_carried_bag_only() -> None:
    det = ColourDetector({RED: "person", YELLOW: "handbag"})
    ids = np.array([OBJECT_CLASSES.index("handbag")], np.int32)
    regions = plan_regions([Box(150, 100, 180, 180)], [], 320, 240)
    found, passes = detect_in_regions(det, scene(), regions, ids)
    assert passes == 1 and det.sizes == [(MOSAIC_PX, MOSAIC_PX)]
    assert [OBJECT_CLASSES[int(c)] for c in found.class_id] == ["handbag"]  # no person box
    x0, y0, x1, y1 = (float(v) for v in found.xyxy[0])
    assert Box(x0, y0, x1, y1).iou(Box(138, 150, 146, 160)) > 0.6


@pytest.mark.parametrize(
    ("people", "sweep", "expected", "passes"),
    [
        ([], False, 0, 0),                           # nobody, nothing watched: no cost
        ([Box(150, 100, 180, 180)], False, 1, 1),    # the carried bag
        ([], True, 2, 1),                            # a sweep finds both bags
    ],
)
def test_pass_runs_only_where_bags_can_be(people: list[Box], sweep: bool, expected: int,
                                          passes: int) -> None:
    det = ColourDetector({RED: "person", YELLOW: "handbag"})
    cp = ComplementaryPass(det, frozenset({"handbag"}))
    main = Detections(np.array([b.as_list() for b in people], np.float32).reshape(-1, 4),
                      np.full(len(people), 0.9, np.float32),
                      np.zeros(len(people), np.int32))
    found = cp.run(scene(), 0.0, main, sweep)
    assert len(found) == expected and cp.passes == passes


def test_found_bags_stay_watched_then_expire() -> None:
    det = ColourDetector({YELLOW: "handbag"})
    cp = ComplementaryPass(det, frozenset({"handbag"}))
    assert len(cp.run(scene(), 0.0, Detections.empty(), sweep=True)) == 2
    assert len(cp.run(scene(), 1.0, Detections.empty(), sweep=False)) == 2  # watched
    empty = np.full((240, 320, 3), 128, np.uint8)
    assert len(cp.run(empty, 2.0, Detections.empty(), sweep=False)) == 0   # gone: last seen 1 s
    assert len(cp.run(scene(), 4.0, Detections.empty(), sweep=False)) == 0  # watch expired


@pytest.mark.parametrize(
    ("bag", "passes_between"),
    [(False, 0),   # nothing near the person: looked at again only after INTERVAL_S
     (True, 1)],   # a bag found near them: searched on every frame
)
def test_people_are_searched_every_interval_unless_they_hold_an_item(
        bag: bool, passes_between: int) -> None:
    det = ColourDetector({YELLOW: "handbag"})
    cp = ComplementaryPass(det, frozenset({"handbag"}))
    image = scene()
    if not bag:
        image[150:160, 138:146] = 128
    person = Detections(np.array([[150, 100, 180, 180]], np.float32),
                        np.array([0.9], np.float32), np.array([0], np.int32))
    cp.run(image, 0.0, person, sweep=False)
    assert cp.passes == 1
    cp.run(image, INTERVAL_S / 2, person, sweep=False)
    assert cp.passes == 1 + passes_between
    cp.run(image, INTERVAL_S, person, sweep=False)
    assert cp.passes == 2 + passes_between


def test_with_extra_appends_own_class_votes() -> None:
    main = VotedDetections.single(Detections(np.array([[0, 0, 10, 20]], np.float32),
                                             np.array([0.8], np.float32),
                                             np.array([0], np.int32)))
    bag = Detections(np.array([[1, 1, 4, 4]], np.float32), np.array([0.6], np.float32),
                     np.array([OBJECT_CLASSES.index("suitcase")], np.int32))
    out = with_extra(main, bag)
    assert len(out) == 2
    assert out.votes[1, OBJECT_CLASSES.index("suitcase")] == pytest.approx(0.6)
    assert out.votes[1].sum() == pytest.approx(0.6)
    assert with_extra(main, Detections.empty()) is main


# ------------------------------------------------------------------ the whole pipeline
def bag_clip(tmp_path: Path) -> Path:
    """A person (red, 40 x 80) walking right at 30 px/s for 8 s with a bag (yellow, 10 x 10)
    at their trailing hip, put down at 3 s and left there."""
    person = Moving(RED, (40, 80), (20, 100), (260, 100), 0.0, 8.0)
    carried = Moving(YELLOW, (10, 10), (6, 140), (96, 140), 0.0, 3.0)
    left = Moving(YELLOW, (10, 10), (96, 140), (96, 140), 3.05, 8.0)
    return make_clip(tmp_path / "cam_20260104_100000.mp4", seconds=8.0, fps=10,
                     objects=[person, carried, left]).path


@pytest.mark.parametrize("with_complement", [True, False])
def test_pipeline_finds_and_associates_the_bag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               with_complement: bool) -> None:
    pack_like = ColourDetector({RED: "person"}, OMZ_MAP)       # no bag class
    builtin_like = ColourDetector({RED: "person", YELLOW: "handbag"})
    missing = missing_classes(pack_like)
    models = ModelSet(detector=pack_like, plate_reader=None,
                      complement=builtin_like if with_complement else None,
                      complement_classes=missing)
    monkeypatch.setattr(pipeline, "load_models", lambda *a, **k: models)
    # Motion gate off: every sampled frame is detected (the gate's still frames are not
    # what this test is about).
    settings = Settings(data_dir=tmp_path / "data",
                        analysis=AnalysisSettings(plates=False, motion_min_area=0.0))
    unit = WorkUnit("rec@0", "rec", str(bag_clip(tmp_path)), 0.0, math.inf, 10.0)
    result = pipeline.process_unit(unit, settings)
    assert result.error is None
    objects = sorted(t.object for t in result.tracks)
    person = next(t for t in result.tracks if t.object == "person")
    if not with_complement:  # the regression: the bag is never seen
        assert objects == ["person"] and person.attribute("accessory") is None
        assert "complement" not in result.stats.seconds
        return
    assert objects == ["handbag", "person"]
    accessory = person.attribute("accessory")
    assert accessory is not None and accessory.value == "handbag"
    assert accessory.confidence >= 0.5
    bag = next(t for t in result.tracks if t.object == "handbag")
    left = bag.attribute("left_behind")
    assert left is not None and left.value == "yes"
    assert result.stats.seconds["complement"] > 0
