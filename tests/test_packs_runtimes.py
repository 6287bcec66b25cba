"""Pack runtimes × output layouts: ONNX Runtime and OpenVINO (reading the ONNX, or an IR
converted in the test) on tiny generated graphs for YOLO v8/v5, DETR, SSD DetectionOutput,
ATSS and multi-head attribute models; the manifest contract (runtime, weights, formats); the
refusal of biometric names and of undeclared graph outputs; and, when ``../shared/models`` is
present, the real Open Model Zoo files."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from layout_fixtures import RUNTIMES, atss_pack, heads_pack, ssd_pack, with_runtime
from omz_packs import PACKS, SHARED_EVAL, SHARED_MODELS, write_pack
from packs_fixtures import COCO80, FakeBox, detr_pack, yolo_pack
from retrouve.errors import MissingExtraError, PackError, PackRefused
from retrouve.vision.models import ModelHolder, ModelKey
from retrouve.vision.packs import InstalledPack, PackRegistry
from retrouve.vision.packs.attributes import AttributeModel
from retrouve.vision.packs.manifest import biometric_word, parse_manifest
from retrouve.vision.packs.pack_detector import PackDetector
from retrouve.vision.packs.runtime import check_graphs

pytest.importorskip("openvino")

CAR, TRUCK = COCO80.index("car"), COCO80.index("truck")
WHITE = np.full((720, 1280, 3), 255, np.uint8)
PVB = ["background", "vehicle", "person", "bike"]
PVB_MAP = {"vehicle": "car", "person": "person", "bike": "bicycle"}


def install(tmp_path: Path, src: Path) -> InstalledPack:
    return PackRegistry(tmp_path / "models").install(str(src))


def found(dets: Any) -> dict[str, list[tuple[list[float], float]]]:
    out: dict[str, list[tuple[list[float], float]]] = {}
    for box, conf, name in zip(dets.xyxy, dets.confidence, dets.class_names(), strict=True):
        out.setdefault(name, []).append(([float(v) for v in box], float(conf)))
    return out


# ------------------------------------------------------------------ layouts × runtimes
@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("layout", ["v8", "v5"])
def test_yolo_each_runtime(tmp_path: Path, runtime: str, layout: str) -> None:
    boxes = [FakeBox(320, 320, 100, 50, CAR, 0.9), FakeBox(325, 322, 100, 50, CAR, 0.8),
             FakeBox(322, 321, 100, 50, TRUCK, 0.7)]
    src = with_runtime(yolo_pack(tmp_path / "p", boxes, layout=layout), runtime)
    det = PackDetector(install(tmp_path, src), threads=1)
    assert det.runtime == ("onnxruntime" if runtime == "onnxruntime" else "openvino")
    got = found(det.detect(WHITE))
    # Letterbox 1280x720 → 640x360, 140 rows of padding; NMS per class keeps car and truck.
    [(car, conf)] = got["car"]
    assert car == pytest.approx([540, 310, 740, 410], abs=1.0)
    assert conf == pytest.approx(0.9, abs=5e-3)
    [(truck, _)] = got["truck"]
    assert truck == pytest.approx([544, 312, 744, 412], abs=1.0)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_detr_each_runtime(tmp_path: Path, runtime: str) -> None:
    boxes = [FakeBox(320, 320, 100, 50, 3, 0.9), FakeBox(500, 500, 50, 50, 1, 0.3)]
    src = with_runtime(detr_pack(tmp_path / "p", boxes, resize="letterbox"), runtime)
    got = found(PackDetector(install(tmp_path, src), threads=1).detect(WHITE))
    assert list(got) == ["car"]
    assert got["car"][0][0] == pytest.approx([540, 310, 740, 410], abs=1.0)


# (image_id, label, conf, x0, y0, x1, y1): normalised to the input tensor.
SSD_ROWS = [
    [0, 1, 0.9, 0.1, 0.2, 0.3, 0.4],     # vehicle → car (60, 80, 180, 160) on 600x400
    [0, 0, 0.99, 0.0, 0.0, 1.0, 1.0],    # background: dropped
    [0, 2, 0.2, 0.5, 0.5, 0.6, 0.9],     # person below 0.3: dropped
    [0, 3, 0.8, 0.5, 0.25, 0.6, 0.75],   # bike → bicycle (300, 100, 360, 300)
    [0, 7, 0.9, 0.1, 0.1, 0.2, 0.2],     # label outside the list: dropped
    [-1, 0, 0, 0, 0, 0, 0],              # end of detections
    [0, 1, 0.95, 0.7, 0.7, 0.8, 0.8],    # after the end: padding, never read
]


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize(("labels", "shift", "background"), [
    (PVB, 0, 0),                         # crossroad-1016 style: background 0 in labels
    (PVB[1:], -1, 3),                    # 2001 style: background id 3 after the classes
])
def test_ssd_each_runtime(tmp_path: Path, runtime: str, labels: list[str], shift: int,
                          background: int) -> None:
    rows = [[r[0], r[1] + shift if r[1] != 0 else background, *r[2:]] for r in SSD_ROWS]
    src = with_runtime(ssd_pack(tmp_path / "p", rows, labels=labels, label_map=PVB_MAP,
                                background=background), runtime)
    got = found(PackDetector(install(tmp_path, src), threads=1).detect(
        np.zeros((400, 600, 3), np.uint8)))
    assert sorted(got) == ["bicycle", "car"]
    assert got["car"][0][0] == pytest.approx([60, 80, 180, 160], abs=0.5)
    assert got["car"][0][1] == pytest.approx(0.9, abs=5e-3)
    assert got["bicycle"][0][0] == pytest.approx([300, 100, 360, 300], abs=0.5)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_atss_each_runtime(tmp_path: Path, runtime: str) -> None:
    boxes = [[10, 20, 110, 70, 0.6], [12, 22, 112, 72, 0.5], [200, 100, 220, 160, 0.35],
             [300, 10, 310, 20, 0.2], [0, 0, 5, 5, 0.9]]
    labels = [0, 0, 1, 2, 7]  # the second vehicle overlaps: NMS inside, kept as given
    src = with_runtime(atss_pack(tmp_path / "p", boxes, labels, names=PVB[1:],
                                 label_map=PVB_MAP), runtime)
    got = found(PackDetector(install(tmp_path, src), threads=1).detect(
        np.zeros((512, 896, 3), np.uint8)))
    assert sorted(got) == ["car", "person"]  # bike below 0.3, label 7 unknown
    assert [b for b, _ in got["car"]] == [pytest.approx([20, 40, 220, 140], abs=0.5),
                                         pytest.approx([24, 44, 224, 144], abs=0.5)]
    assert got["person"][0][0] == pytest.approx([400, 200, 440, 320], abs=0.5)


HEAD_OUTPUTS = {
    "color": np.array([[2.0, 0.0, -1.0]], np.float32),           # logits → softmax
    "type": np.array([[0.1, 0.7, 0.2, 0.0]], np.float32).reshape(1, 4, 1, 1),
    "flags": np.array([[0.0, 2.0]], np.float32),                 # logits → sigmoid
    "top": np.array([[0.25, 0.5]], np.float32),                  # normalised point
}
HEADS = {
    "color": {"attribute": "colour", "labels": ["white", "red", "blue"],
              "activation": "softmax", "kind": "class"},
    "type": {"attribute": "vehicle_type", "labels": ["car", "van", "truck", "bus"],
             "kind": "class"},
    "flags": {"attribute": "carried", "labels": ["has_bag", "has_backpack"],
              "activation": "sigmoid", "kind": "multilabel"},
    "top": {"attribute": "upper_colour_point", "kind": "point"},
}


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_heads_each_runtime(tmp_path: Path, runtime: str) -> None:
    src = with_runtime(heads_pack(tmp_path / "p", HEAD_OUTPUTS, HEADS), runtime)
    model = AttributeModel(install(tmp_path, src), threads=1)
    assert model.attributes == ("colour", "vehicle_type", "carried", "upper_colour_point")
    crops = [np.zeros((40, 100, 3), np.uint8), np.zeros((10, 10, 3), np.uint8)]
    first, second = model.predict(crops)
    e = np.exp([2.0, 0.0, -1.0])
    colour = first.classes["colour"]
    assert [lb for lb, _ in colour] == ["white", "red", "blue"]
    assert [p for _, p in colour] == pytest.approx(list(e / e.sum()), abs=5e-3)
    assert first.best("vehicle_type") == ("van", pytest.approx(0.7, abs=5e-3))
    assert first.flags["carried"] == pytest.approx(
        {"has_bag": 0.5, "has_backpack": 1 / (1 + np.exp(-2.0))}, abs=5e-3)
    assert first.points["upper_colour_point"] == pytest.approx((25.0, 20.0), abs=0.2)
    assert second.points["upper_colour_point"] == pytest.approx((2.5, 5.0), abs=0.1)
    assert model.predict([]) == []


# ------------------------------------------------------------------- refusals
@pytest.mark.parametrize(("name", "word"), [
    ("is_male", "male"), ("Female", "female"), ("gender", "gender"), ("age_conv3", "age"),
    ("isMale", "male"), ("ethnicity", "ethnicity"), ("race", "race"), ("Woman", "woman"),
    ("has_bag", None), ("luggage", None), ("stage", None), ("manhole", None), ("colour", None),
])
def test_biometric_word(name: str, word: str | None) -> None:
    assert biometric_word(name) == word


def _heads_manifest(tmp_path: Path) -> dict[str, Any]:
    src = heads_pack(tmp_path / "h", HEAD_OUTPUTS, HEADS)
    data: dict[str, Any] = json.loads((src / "manifest.json").read_text())
    return data


@pytest.mark.parametrize(("edit", "match"), [
    (lambda d: d["heads"]["flags"]["labels"].__setitem__(0, "is_male"),
     r"heads\.flags\.labels.*'is_male' is biometric"),
    (lambda d: d["heads"]["color"].__setitem__("attribute", "gender"),
     r"'gender' is biometric"),
    (lambda d: d["graphs"]["model"]["outputs"][3].__setitem__("name", "age_conv3"),
     r"'age_conv3' is biometric"),
])
def test_biometric_manifest_refused(tmp_path: Path, edit: Any, match: str) -> None:
    data = _heads_manifest(tmp_path)
    edit(data)
    with pytest.raises(PackRefused, match=match):
        parse_manifest(data, "test")


def test_biometric_detector_label_refused() -> None:
    data = {"schema": 1, "name": "oi", "version": "1", "task": "detector", "format": "yolo",
            "licence": "x", "files": {"m.onnx": "0" * 64},
            "graphs": {"model": {"file": "m.onnx",
                                 "inputs": [{"name": "i", "shape": [1, 3, 64, 64]}],
                                 "outputs": [{"name": "o", "shape": [1, 6, 10]}]}},
            "labels": ["Car", "Woman"], "label_map": {"Car": "car"},
            "preprocess": {"width": 64, "height": 64}}
    with pytest.raises(PackRefused, match=r"field 'labels': 'Woman' is biometric"):
        parse_manifest(data, "test")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_undeclared_gender_output_refused_at_install_and_load(tmp_path: Path,
                                                              runtime: str) -> None:
    # The original person-attributes-0230 has a gender entry: a graph exposing it, with the
    # manifest silent about it, is refused by the install (which opens every graph before the
    # pack goes live) and, should such a folder be put in place by hand, at load.
    outputs = {"attributes": np.full((1, 7), 0.5, np.float32),
               "is_male": np.array([[0.9]], np.float32)}
    heads = {"attributes": {"attribute": "person_flags", "kind": "multilabel",
                            "labels": [f"flag_{i}" for i in range(7)]}}
    src = with_runtime(heads_pack(tmp_path / "p", outputs, heads, task="person_attributes",
                                  w=80, h=160, declared=["attributes"]), runtime)
    with pytest.raises(PackRefused, match=r"graph output 'is_male' is not declared.*gender"):
        install(tmp_path, src)
    assert PackRegistry(tmp_path / "models").list() == []
    pack = InstalledPack.load(src)
    with pytest.raises(PackError, match=r"graph output 'is_male' is not declared.*gender"):
        AttributeModel(pack)
    with pytest.raises(PackError, match=r"graph model \(model\.\w+\): graph output 'is_male'"):
        check_graphs(pack.manifest, pack.path)


def test_gender_entry_in_a_declared_output_refused(tmp_path: Path) -> None:
    # Declaring the original 0230's 8-value output means listing is_male: refused at install.
    outputs = {"attributes": np.full((1, 8), 0.5, np.float32)}
    heads = {"attributes": {"attribute": "person_flags", "kind": "multilabel",
                            "labels": ["is_male", "has_bag", "has_backpack", "has_hat",
                                       "has_longsleeves", "has_longpants", "has_longhair",
                                       "has_coat_jacket"]}}
    src = heads_pack(tmp_path / "p", outputs, heads, task="person_attributes", w=80, h=160)
    with pytest.raises(PackRefused, match="'is_male' is biometric"):
        install(tmp_path, src)


def test_undeclared_detector_output_refused(tmp_path: Path) -> None:
    src = atss_pack(tmp_path / "p", [[1, 1, 9, 9, 0.9]], [0], names=PVB[1:],
                    label_map=PVB_MAP)
    data = json.loads((src / "manifest.json").read_text())
    del data["graphs"]["model"]["outputs"][1]
    with pytest.raises(PackRefused, match="atss needs boxes"):
        parse_manifest(data, "test")


# ------------------------------------------------------------------ manifest contract
def _ssd_manifest(tmp_path: Path) -> dict[str, Any]:
    src = ssd_pack(tmp_path / "s", SSD_ROWS, labels=PVB, label_map=PVB_MAP)
    data: dict[str, Any] = json.loads((src / "manifest.json").read_text())
    return data


def _ir(d: dict[str, Any], runtime: str = "openvino", weights: str | None = "m.bin",
        listed: bool = True) -> None:
    d["runtime"] = runtime
    d["files"] = {"m.xml": "0" * 64, **({"m.bin": "1" * 64} if listed else {})}
    d["graphs"]["model"]["file"] = "m.xml"
    if weights is not None:
        d["graphs"]["model"]["weights"] = weights


@pytest.mark.parametrize(("edit", "match"), [
    (lambda d: _ir(d), None),
    (lambda d: _ir(d, weights=None), r"weights.*needs its \.bin"),
    (lambda d: _ir(d, runtime="onnxruntime"), r"runtime.*OpenVINO IR.*'openvino'"),
    (lambda d: _ir(d, listed=False), r"graphs.model.weights': 'm\.bin' is not listed in files"),
    (lambda d: d["graphs"]["model"].__setitem__("weights", "model.bin"),
     "only an OpenVINO IR"),
    (lambda d: d.__setitem__("runtime", "tensorrt"), "runtime"),
    (lambda d: d["decode"].__setitem__("background_label", 1),
     r"background_label': label 1 \('vehicle'\) is mapped"),
    (lambda d: d["decode"].__setitem__("background_label", None), None),
    (lambda d: d["graphs"]["model"]["outputs"][0].__setitem__("shape", [1, 10, 7]),
     r"ssd needs one DetectionOutput"),
    (lambda d: d.__setitem__("heads", {"detection_out": {"attribute": "x", "kind": "point"}}),
     "only attribute models"),
])
def test_ssd_manifest_contract(tmp_path: Path, edit: Any, match: str | None) -> None:
    data = _ssd_manifest(tmp_path)
    edit(data)
    if match is None:
        parse_manifest(data, "test")
    else:
        with pytest.raises(PackRefused, match=match):
            parse_manifest(data, "test")


@pytest.mark.parametrize(("edit", "match"), [
    (lambda d: d["heads"].pop("top"), r"every graph output is one head"),
    (lambda d: d["heads"]["type"].__setitem__("attribute", "colour"), "filled twice"),
    (lambda d: d["heads"]["type"]["labels"].pop(), r"carries 4 values.*needs 3"),
    (lambda d: d["heads"]["top"].__setitem__("activation", "softmax"), "point head"),
    (lambda d: d["heads"]["flags"].__setitem__("activation", "softmax"), "multilabel"),
    (lambda d: d.__setitem__("labels", ["a"]), "lists labels per head"),
    (lambda d: d.__setitem__("task", "detector"), "not a detector format"),
])
def test_heads_manifest_contract(tmp_path: Path, edit: Any, match: str) -> None:
    data = _heads_manifest(tmp_path)
    edit(data)
    with pytest.raises(PackRefused, match=match):
        parse_manifest(data, "test")


def test_openvino_missing_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pack = install(tmp_path, with_runtime(ssd_pack(tmp_path / "p", SSD_ROWS, labels=PVB,
                                                   label_map=PVB_MAP), "openvino-onnx"))
    monkeypatch.setitem(sys.modules, "openvino", None)  # import openvino → ImportError
    with pytest.raises(MissingExtraError, match=r"retrouve\[openvino\]"):
        PackDetector(pack)


def test_openvino_unknown_device(tmp_path: Path) -> None:
    pack = install(tmp_path, with_runtime(ssd_pack(tmp_path / "p", SSD_ROWS, labels=PVB,
                                                   label_map=PVB_MAP), "openvino-onnx"))
    with pytest.raises(PackError, match="OpenVINO has no NPU9 device"):
        PackDetector(pack, providers=["npu9"])


def test_holder_builds_pack_models_by_runtime_once(tmp_path: Path) -> None:
    det_pack = install(tmp_path / "a", with_runtime(
        ssd_pack(tmp_path / "s", SSD_ROWS, labels=PVB, label_map=PVB_MAP), "openvino-ir"))
    attr_pack = install(tmp_path / "b", heads_pack(tmp_path / "h", HEAD_OUTPUTS, HEADS))
    holder = ModelHolder()
    key = ModelKey(detector_pack=str(det_pack.path), detect_threshold=0.3, pack_threads=1)
    det = holder.detector(key)
    assert isinstance(det, PackDetector) and det.runtime == "openvino"
    assert det.threshold == 0.3 and holder.detector(key) is det
    model = holder.attribute_model(str(attr_pack.path))
    assert holder.attribute_model(str(attr_pack.path)) is model
    assert holder.builds == {"detector": 1, "attributes": 1}


# ------------------------------------------------------------ the real OMZ files
needs_models = pytest.mark.skipif(SHARED_MODELS is None, reason="../shared/models absent")


def _frame() -> tuple[np.ndarray[Any, Any], bool]:
    """A real street frame (TfL clip of ../shared/eval) when present, else a generated one;
    and whether it is real."""
    if SHARED_EVAL is not None and (SHARED_EVAL / "media" / "tfl-blackfriars-a.mp4").is_file():
        import av

        with av.open(str(SHARED_EVAL / "media" / "tfl-blackfriars-a.mp4")) as c:
            for i, f in enumerate(c.decode(video=0)):
                if i == 50:
                    return f.to_ndarray(format="rgb24"), True
    from clips import GREY, RED

    frame = np.full((288, 352, 3), GREY, np.uint8)
    frame[100:160, 100:200] = RED
    return frame, False


@pytest.fixture(scope="module")
def omz(tmp_path_factory: pytest.TempPathFactory) -> dict[str, InstalledPack]:
    if SHARED_MODELS is None:
        pytest.skip("../shared/models absent")
    root = tmp_path_factory.mktemp("omz")
    reg = PackRegistry(root / "models")
    return {name: reg.install(str(write_pack(name, root / "src" / name))) for name in PACKS}


@needs_models
@pytest.mark.parametrize("name", [n for n in PACKS if PACKS[n]["task"] == "detector"])
def test_real_omz_detectors(omz: dict[str, InstalledPack], name: str) -> None:
    frame, real = _frame()
    dets = PackDetector(omz[name], threads=1).detect(frame)
    h, w = frame.shape[:2]
    assert dets.xyxy.shape == (len(dets), 4) and len(dets) <= 300
    assert (dets.xyxy[:, [0, 2]] <= w).all() and (dets.xyxy[:, [1, 3]] <= h).all()
    assert (dets.xyxy[:, 2] > dets.xyxy[:, 0]).all() and (dets.confidence >= 0.3).all()
    assert set(dets.class_names()) <= {"car", "person", "bicycle"}
    if real:  # a busy Blackfriars frame: these detectors find 63-74 % of its vehicles
        assert dets.class_names().count("car") >= 5


@needs_models
def test_real_2001_ir_matches_its_onnx(omz: dict[str, InstalledPack]) -> None:
    frame, _ = _frame()
    ir = PackDetector(omz["pvb-2001-ir"], threads=1).detect(frame)
    ort = PackDetector(omz["pvb-2001-onnx"], threads=1).detect(frame)
    assert abs(len(ir) - len(ort)) <= 1
    for box in ir.xyxy[ir.confidence > 0.5]:
        # the LICENSE-SOURCE says boxes agree within ~0.5 px; bf16 adds a little
        assert np.abs(ort.xyxy - box).max(axis=1).min() < 3.0


@needs_models
@pytest.mark.parametrize("name", [n for n in PACKS if PACKS[n]["task"] != "detector"])
def test_real_omz_attribute_models(omz: dict[str, InstalledPack], name: str) -> None:
    frame, _ = _frame()
    crops = [frame[90:190, 100:230], frame[:50, :30]]
    model = AttributeModel(omz[name], threads=1)
    for crop, res in zip(crops, model.predict(crops), strict=True):
        for ranked in res.classes.values():
            assert sum(p for _, p in ranked) == pytest.approx(1.0, abs=2e-2)
        for flags in res.flags.values():
            assert all(0.0 <= p <= 1.0 for p in flags.values())
        for x, y in res.points.values():
            assert -1 <= x <= crop.shape[1] + 1 and -1 <= y <= crop.shape[0] + 1
    if name.startswith("va"):
        assert model.attributes == ("colour", "vehicle_type")
    else:
        assert set(model.attributes) == {"person_flags", "upper_colour_point",
                                         "lower_colour_point"}
