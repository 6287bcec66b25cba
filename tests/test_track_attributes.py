"""The per-track attribute stage: fake crop classifier and attribute models, then the whole
pipeline with them, then the real OMZ packs when ``../shared/models`` is present."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from clips import BLUE, RED, Moving, make_clip
from omz_packs import SHARED_MODELS, write_pack
from retrouve.analysis import pipeline
from retrouve.analysis.track_attributes import (
    AttributeModels,
    StageTimes,
    TrackView,
    accessory_attributes,
    crop_scores,
    refine_tracks,
)
from retrouve.analysis.track_builder import TYPE_VIEWS
from retrouve.config import AnalysisSettings, Settings
from retrouve.domain import (
    COLOURS,
    OBJECT_CLASSES,
    Attribute,
    Box,
    Detections,
    Observation,
    Track,
    WorkUnit,
)
from retrouve.vision.detector import ShapeDetector
from retrouve.vision.models import ModelSet, coarse_classes
from retrouve.vision.packs import InstalledPack
from retrouve.vision.packs.attributes import CropAttributes, FakeAttributeModel

U8 = npt.NDArray[np.uint8]


class FixedCropClassifier:
    """Crop-classifier fake: one box of ``cls`` over the middle of whatever it is shown,
    per mosaic cell of ``cell`` px (so every crop of a mosaic gets one)."""

    name = "fixed-crop"
    version = "1"

    def __init__(self, cls: str, score: float = 0.8, cell: int = 150) -> None:
        self.cls, self.score, self.cell = cls, score, cell
        self.passes = 0

    def detect(self, image: U8) -> Detections:
        self.passes += 1
        h, w = image.shape[:2]
        boxes = [[x + self.cell * 0.2, y + self.cell * 0.3, x + self.cell * 0.8,
                  y + self.cell * 0.7]
                 for y in range(0, h, self.cell) for x in range(0, w, self.cell)]
        n = len(boxes)
        return Detections(np.array(boxes, np.float32), np.full(n, self.score, np.float32),
                          np.full(n, OBJECT_CLASSES.index(self.cls), np.int32))


def vehicle_view(colour: tuple[int, int, int] = (200, 200, 200), w: int = 60, h: int = 30
                 ) -> TrackView:
    """A view of a ``w`` x ``h`` box at (100, 100) with its 15 % context margin."""
    mx, my = int(w * 0.15), int(h * 0.15)
    crop = np.full((h + 2 * my + 1, w + 2 * mx + 1, 3), 90, np.uint8)
    crop[my:my + h, mx:mx + w] = colour
    box = Box(100, 100, 100 + w, 100 + h)
    scores = np.zeros(len(COLOURS))
    scores[COLOURS.index("white")], scores[COLOURS.index("grey")] = 0.48, 0.52
    return TrackView(crop, box, np.ones(3, np.float32), {"colour": scores * 2.0},
                     {"colour": 2.0})


def track(obj: str, *attrs: Attribute, local_id: int = 1) -> Track:
    obs = tuple(Observation(i * 0.25, Box(100 + 5 * i, 100, 160 + 5 * i, 130), 0.7)
                for i in range(6))
    return Track("rec", "rec@0", local_id, obj, 0.8, 0.0, 1.5, 0.5, obs[2].box, attrs, obs)


def va_answer(types: dict[str, float], colours: dict[str, float]) -> CropAttributes:
    def ranked(d: dict[str, float]) -> tuple[tuple[str, float], ...]:
        return tuple(sorted(d.items(), key=lambda kv: -kv[1]))

    return CropAttributes({"vehicle_type": ranked(types), "colour": ranked(colours)})


CAR_HEAD = {"car": 0.85, "van": 0.05, "truck": 0.05, "bus": 0.05}
BUS_HEAD = {"car": 0.2, "van": 0.05, "truck": 0.05, "bus": 0.7}
WHITE = {"white": 0.9, "gray": 0.1}


@pytest.mark.parametrize(
    ("obj", "coarse", "crop_cls", "head", "best", "second"),
    [
        # OMZ "vehicle" (mapped to car), the crop SSD and the head see a bus: bus, car second.
        ("car", {"car": "vehicle"}, "bus", BUS_HEAD, "bus", "car"),
        # The crop SSD alone sees a bus, the head a car: car, bus as the runner-up.
        ("car", {"car": "vehicle"}, "bus", CAR_HEAD, "car", "bus"),
        # The crop SSD and the head agree on car.
        ("car", {"car": "vehicle"}, "car", CAR_HEAD, "car", None),
        # OMZ "bike" (mapped to bicycle), the crop SSD sees a motorcycle.
        ("bicycle", {"car": "vehicle", "bicycle": "bike"}, "motorcycle", None, "motorcycle",
         "bicycle"),
        # A COCO detector's car is left as it is (not coarse).
        ("car", {}, "bus", CAR_HEAD, "car", None),
    ],
)
def test_type_is_decided_for_coarse_tracks(obj: str, coarse: dict[str, str], crop_cls: str,
                                           head: dict[str, float] | None, best: str,
                                           second: str | None) -> None:
    va = None if head is None else FakeAttributeModel("vehicle_attributes",
                                                      va_answer(head, WHITE))
    crop = FixedCropClassifier(crop_cls)
    models = AttributeModels(coarse, crop if coarse else None, va, None)
    [out] = refine_tracks([track(obj)], [vehicle_view()], models, greyscale=False)
    assert out.object == best
    types = [(a.value, a.confidence) for a in out.attributes if a.name == "vehicle_type"]
    if coarse:
        assert types[0][0] == best
        assert len(types) <= 2 and all(0 < c <= 1 for _, c in types)
        if second is not None:
            assert types[1][0] == second
    else:
        assert types == []


def test_earlier_vehicle_types_are_replaced() -> None:
    t = track("car", Attribute("vehicle_type", "car", 0.9), Attribute("vehicle_type", "van", 0.1))
    va = FakeAttributeModel("vehicle_attributes",
                            va_answer({"truck": 0.8, "car": 0.1, "van": 0.05, "bus": 0.05}, WHITE))
    models = AttributeModels({"car": "vehicle"}, FixedCropClassifier("truck", 0.9), va)
    [out] = refine_tracks([t], [vehicle_view()], models, greyscale=False)
    assert next(a.value for a in out.attributes if a.name == "vehicle_type") == "truck"
    assert sum(a.name == "vehicle_type" for a in out.attributes) <= 2


@pytest.mark.parametrize(
    ("colours", "greyscale", "expected"),
    [
        (WHITE, False, "white"),                     # silver pixels, pack says white
        ({"gray": 0.9, "white": 0.1}, False, "grey"),  # pack says grey
        ({"red": 0.99, "white": 0.01}, True, None),  # night: never a chromatic name
    ],
)
def test_vehicle_colour_is_fused_with_the_pack(colours: dict[str, float], greyscale: bool,
                                               expected: str | None) -> None:
    va = FakeAttributeModel("vehicle_attributes", va_answer(CAR_HEAD, colours))
    t = track("car", Attribute("colour", "grey", 0.4), Attribute("colour", "white", 0.37))
    [out] = refine_tracks([t], [vehicle_view()], AttributeModels(vehicle=va), greyscale)
    ranked = [a for a in out.attributes if a.name == "colour"]
    if expected is not None:
        assert ranked[0].value == expected
    else:
        assert all(a.value in ("black", "white", "grey") for a in ranked)
    assert va.seen == 1


def person_view() -> TrackView:
    crop = np.zeros((92, 47, 3), np.uint8)
    crop[:, :] = 90
    crop[6:46, 3:43] = (200, 20, 20)    # red top
    crop[46:86, 3:43] = (20, 30, 180)   # blue trousers
    # Pixel statistics unsure: grey and black (e.g. shadows).
    up = np.zeros(len(COLOURS))
    up[COLOURS.index("grey")], up[COLOURS.index("red")] = 0.3, 0.25
    lo = np.zeros(len(COLOURS))
    lo[COLOURS.index("black")], lo[COLOURS.index("blue")] = 0.3, 0.28
    return TrackView(crop, Box(50, 50, 90, 130), None, {"upper": up, "lower": lo},
                     {"upper": 0.55, "lower": 0.58})


@pytest.mark.parametrize(
    ("flags", "carried", "expected"),
    [
        ({"has_backpack": 0.9, "has_bag": 0.1}, [], {"backpack"}),
        ({"has_backpack": 0.1, "has_bag": 0.15}, [], set()),  # 0.6 p below the 0.1 floor
        ({"has_bag": 0.8}, [Attribute("accessory", "suitcase", 0.7)], {"handbag", "suitcase"}),
        # Pack and carried evidence agree: one value, stronger than either.
        ({"has_bag": 0.5}, [Attribute("accessory", "handbag", 0.5)], {"handbag"}),
    ],
)
def test_accessory_votes(flags: dict[str, float], carried: list[Attribute],
                         expected: set[str]) -> None:
    out = accessory_attributes(carried, flags)
    assert {a.value for a in out} == expected
    for a in out:
        before = next((c.confidence for c in carried if c.value == a.value), 0.0)
        assert a.confidence >= before


def test_person_pack_points_vote_for_clothing_colours() -> None:
    pa = FakeAttributeModel("person_attributes", CropAttributes(
        flags={"person_flags": {"has_backpack": 0.9, "has_bag": 0.0}},
        points={"upper_colour_point": (0.5, 0.3), "lower_colour_point": (0.5, 0.75)}))
    t = track("person", Attribute("upper", "grey", 0.3), Attribute("lower", "black", 0.3))
    [out] = refine_tracks([t], [person_view()], AttributeModels(person=pa), greyscale=False)
    first = {a.name: a.value for a in reversed(out.attributes)}
    assert first["upper"] == "red" and first["lower"] == "blue"
    assert first["accessory"] == "backpack"
    assert not any("gender" in a.name or "male" in a.value for a in out.attributes)


def test_no_models_changes_nothing() -> None:
    t = track("car", Attribute("colour", "red", 0.8))
    assert refine_tracks([t], [vehicle_view()], AttributeModels(), False) == [t]


def test_tracks_without_a_view_are_left_alone() -> None:
    t = track("car")
    models = AttributeModels({"car": "vehicle"}, FixedCropClassifier("bus"))
    assert refine_tracks([t], [None], models, False) == [t]


def test_crop_classifier_sees_four_crops_per_pass() -> None:
    clf = FixedCropClassifier("truck")
    views = [vehicle_view() for _ in range(5)]
    scores = crop_scores(clf, views, grid=2)
    assert clf.passes == 2
    assert all(s == {"truck": pytest.approx(0.8)} for s in scores)


def test_stage_times_count_tracks() -> None:
    times = StageTimes()
    models = AttributeModels({"car": "vehicle"}, FixedCropClassifier("bus"),
                             FakeAttributeModel("vehicle_attributes", va_answer(CAR_HEAD, WHITE)))
    refine_tracks([track("car", local_id=i) for i in range(3)], [vehicle_view()] * 3, models,
                  False, times)
    assert times.counts == {"vehicle_pack": 3, "vehicle_type": 3}
    assert all(s >= 0 for s in times.seconds.values())


def test_fake_attribute_model_refuses_bad_task() -> None:
    with pytest.raises(ValueError, match="task"):
        FakeAttributeModel("face_attributes", CropAttributes())


# ------------------------------------------------------------------ the whole pipeline
def test_pipeline_runs_the_stage_on_coarse_tracks(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    clip = make_clip(tmp_path / "cam_20260104_100000.mp4", seconds=3.0, fps=10,
                     size=(320, 240),
                     objects=[Moving(RED, (60, 30), (0, 40), (260, 40), 0.0, 3.0),
                              Moving(RED, (20, 50), (140, 150), (200, 150), 0.0, 3.0,
                                     bottom=BLUE)])
    va = FakeAttributeModel("vehicle_attributes", va_answer(BUS_HEAD, {"red": 0.9}))
    pa = FakeAttributeModel("person_attributes", CropAttributes(
        flags={"person_flags": {"has_backpack": 0.95}}))
    crop = FixedCropClassifier("bus")
    models = ModelSet(detector=ShapeDetector(), plate_reader=None, vehicle_attributes=va,
                      person_attributes=pa, coarse={"car": "vehicle"}, crop_classifier=crop)
    monkeypatch.setattr(pipeline, "load_models", lambda *a, **k: models)
    settings = Settings(data_dir=tmp_path / "data", analysis=AnalysisSettings(plates=False))
    unit = WorkUnit("rec@0", "rec", str(clip.path), 0.0, math.inf, 10.0)
    result = pipeline.process_unit(unit, settings)
    assert result.error is None
    objects = sorted(t.object for t in result.tracks)
    assert objects == ["bus", "person"]
    bus = next(t for t in result.tracks if t.object == "bus")
    assert bus.attribute("vehicle_type") == Attribute("vehicle_type", "bus",
                                                      bus.attribute("vehicle_type").confidence)  # type: ignore[union-attr]
    assert bus.attribute("colour") is not None and bus.attribute("colour").value == "red"  # type: ignore[union-attr]
    person = next(t for t in result.tracks if t.object == "person")
    assert person.attribute("accessory") is not None
    assert {"vehicle_type", "vehicle_pack", "person_pack"} <= set(result.stats.seconds)
    # The bus's best view and its other views 1 s apart (3 s of footage): one batch of
    # the vehicle pack, one crop-classifier mosaic; the person's best view alone.
    assert va.seen == TYPE_VIEWS and pa.seen == 1 and crop.passes == 1


def test_builtin_path_has_no_attribute_stage(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    clip = make_clip(tmp_path / "cam_20260104_100000.mp4", seconds=2.0, fps=10,
                     objects=[Moving(RED, (60, 30), (0, 40), (260, 40), 0.0, 2.0)])
    models = ModelSet(detector=ShapeDetector(), plate_reader=None)
    monkeypatch.setattr(pipeline, "load_models", lambda *a, **k: models)
    unit = WorkUnit("rec@0", "rec", str(clip.path), 0.0, math.inf, 10.0)
    settings = Settings(data_dir=tmp_path / "d", analysis=AnalysisSettings(plates=False))
    result = pipeline.process_unit(unit, settings)
    assert result.error is None and [t.object for t in result.tracks] == ["car"]
    assert not {"vehicle_type", "vehicle_pack", "person_pack"} & set(result.stats.seconds)


@pytest.mark.parametrize(
    ("label_map", "expected"),
    [
        ({"vehicle": "car", "person": "person", "bike": "bicycle"},
         {"car": "vehicle", "bicycle": "bike"}),
        ({"car": "car", "bus": "bus"}, {}),
    ],
)
def test_coarse_classes_from_the_label_map(label_map: dict[str, str],
                                           expected: dict[str, str]) -> None:
    class Manifest:
        def __init__(self, m: dict[str, str]) -> None:
            self.label_map = m

    class Det(ShapeDetector):
        manifest = Manifest(label_map)

    assert coarse_classes(Det()) == expected
    assert coarse_classes(ShapeDetector()) == {}


# ------------------------------------------------------------------ real OMZ packs
@pytest.mark.skipif(SHARED_MODELS is None, reason="../shared/models absent")
@pytest.mark.parametrize("name", ["va-0039-ir", "va-0039-onnx"])
def test_real_vehicle_attributes_pack_in_the_stage(name: str, tmp_path: Path) -> None:
    from retrouve.vision.packs.attributes import AttributeModel

    try:
        model = AttributeModel(InstalledPack.load(write_pack(name, tmp_path)))
    except Exception as exc:  # the openvino extra may be absent here
        if "openvino" in str(exc):
            pytest.skip(str(exc))
        raise
    view = vehicle_view(colour=(200, 20, 20), w=72, h=60)
    [out] = refine_tracks([track("car")], [view], AttributeModels(vehicle=model), False)
    colours = [a for a in out.attributes if a.name == "colour"]
    assert colours and colours[0].value in COLOURS
    assert 0 < colours[0].confidence <= 1


@pytest.mark.skipif(SHARED_MODELS is None, reason="../shared/models absent")
def test_real_person_attributes_pack_in_the_stage(tmp_path: Path) -> None:
    from retrouve.vision.packs.attributes import AttributeModel

    model = AttributeModel(InstalledPack.load(write_pack("pa-0230-onnx", tmp_path)))
    [out] = refine_tracks([track("person")], [person_view()], AttributeModels(person=model),
                          False)
    assert {a.name for a in out.attributes} <= {"upper", "lower", "accessory"}
    assert any(a.name == "upper" for a in out.attributes)
