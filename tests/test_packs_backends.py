"""ONNX backends on generated graphs with real signatures: YOLO v8/v5 and DETR detectors
(boxes back to original pixels through letterbox/stretch, label mapping, NMS), the classifier
(top-k, batching) and the CLIP embedder (normalisation, text path)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from packs_fixtures import (
    COCO80,
    FakeBox,
    classifier_pack,
    clip_pack,
    detr_pack,
    write_manifest,
    yolo_pack,
)
from retrouve.domain import OBJECT_CLASSES
from retrouve.errors import MissingExtraError
from retrouve.vision.embedder import Embedder
from retrouve.vision.packs import InstalledPack, PackError, PackRegistry
from retrouve.vision.packs.manifest import Preprocess
from retrouve.vision.packs.onnx_classifier import OnnxClassifier
from retrouve.vision.packs.onnx_detector import OnnxDetector, nms_per_class, yolo_layout
from retrouve.vision.packs.onnx_embedder import ClipEmbedder
from retrouve.vision.packs.runtime import resize_image

CAR, TRUCK, PERSON = (COCO80.index(n) for n in ("car", "truck", "person"))
LIGHT = COCO80.index("traffic light")  # not mapped: must be ignored

#: Candidates in 640x640 input pixels (see test_yolo_* for the expected original boxes).
BOXES = [
    FakeBox(320, 320, 100, 50, CAR, 0.9),       # → (540, 310, 740, 410) on 1280x720
    FakeBox(325, 322, 100, 50, CAR, 0.8),       # same car, lower score: NMS removes it
    FakeBox(322, 321, 100, 50, TRUCK, 0.7),     # other class, same place: kept (per class)
    FakeBox(100, 200, 40, 80, LIGHT, 0.95),     # unmapped label: ignored
    FakeBox(500, 400, 60, 60, CAR, 0.1),        # below threshold
    FakeBox(160, 250, 40, 100, PERSON, None),   # score = mean of the input tensor
    FakeBox(320, 60, 100, 40, CAR, 0.9),        # entirely in the letterbox padding: dropped
]
WHITE = np.full((720, 1280, 3), 255, np.uint8)
#: Mean of the letterboxed white frame: 360 content rows of 1.0 and 280 rows of 114/255.
WHITE_MEAN = (360 * 1.0 + 280 * 114 / 255) / 640


def installed(tmp_path: Path, src: Path) -> InstalledPack:
    return PackRegistry(tmp_path / "models").install(str(src))


def by_class(dets: Any) -> dict[str, list[tuple[list[float], float]]]:
    out: dict[str, list[tuple[list[float], float]]] = {}
    for box, conf, name in zip(dets.xyxy, dets.confidence, dets.class_names(), strict=True):
        out.setdefault(name, []).append(([round(float(v), 2) for v in box], float(conf)))
    return out


# ----------------------------------------------------------------------------- detectors
@pytest.mark.parametrize("layout", ["v8", "v5"])
def test_yolo_boxes_back_to_original_pixels(tmp_path: Path, layout: str) -> None:
    pack = installed(tmp_path, yolo_pack(tmp_path / "p", BOXES, layout=layout))
    det = OnnxDetector(pack)
    assert (det.name, det.version) == ("yolo-fake", "1.0")
    dets = det.detect(WHITE)
    assert dets.xyxy.dtype == np.float32 and dets.class_id.dtype == np.int32
    found = by_class(dets)
    assert sorted(found) == ["car", "person", "truck"]
    # Letterbox 1280x720 → 640x360 (scale 0.5) centred: 140 rows of padding on top.
    [(car_box, car_conf)] = found["car"]
    assert car_box == [540.0, 310.0, 740.0, 410.0]
    assert car_conf == pytest.approx(0.9)
    [(truck_box, _)] = found["truck"]
    assert truck_box == [544.0, 312.0, 744.0, 412.0]
    [(person_box, person_conf)] = found["person"]
    assert person_box == [280.0, 120.0, 360.0, 320.0]
    # ONNX Runtime's float32 ReduceMean over 1.2 M values drifts by ~1e-3; the mean without
    # letterbox padding (0.5625) or with black padding would be far off.
    assert person_conf == pytest.approx(WHITE_MEAN, abs=2e-3)


def test_yolo_portrait_and_threshold(tmp_path: Path) -> None:
    pack = installed(tmp_path, yolo_pack(tmp_path / "p", BOXES))
    # 360x640 portrait (W x H) → scale 1, 140 columns of padding on the left.
    portrait = np.full((640, 360, 3), 255, np.uint8)
    dets = OnnxDetector(pack, threshold=0.85).detect(portrait)
    found = by_class(dets)
    assert sorted(found) == ["car"]  # truck 0.7 and person (input mean ≈ 0.76) filtered
    assert [b for b, _ in found["car"]] == [[130.0, 295.0, 230.0, 345.0],
                                            [130.0, 40.0, 230.0, 80.0]]


def test_yolo_layout_detection() -> None:
    assert yolo_layout((1, 84, 8400), 80) == ("v8", False)
    assert yolo_layout((1, 8400, 84), 80) == ("v8", True)
    assert yolo_layout((1, 25200, 85), 80) == ("v5", True)
    assert yolo_layout((1, 84, 8400), 80, "v8") == ("v8", False)
    with pytest.raises(ValueError, match="fits neither"):
        yolo_layout((1, 90, 8400), 80)
    with pytest.raises(ValueError, match="fits neither"):
        yolo_layout((1, 84, 8400), 80, "v5")


@pytest.mark.parametrize(("resize", "expected"), [
    # stretch: x / 0.5, y / (640/720)
    ("stretch", [540.0, 331.88, 740.0, 388.12]),
    ("letterbox", [540.0, 310.0, 740.0, 410.0]),
])
def test_detr_boxes_and_labels(tmp_path: Path, resize: str, expected: list[float]) -> None:
    detr_car = 3  # COCO 91-id list: 3 = car
    boxes = [FakeBox(320, 320, 100, 50, detr_car, 0.9),
             FakeBox(100, 420, 50, 50, 10, 0.95),  # 10 = traffic light: unmapped
             FakeBox(500, 500, 50, 50, 1, 0.3)]    # person, below 0.5
    pack = installed(tmp_path, detr_pack(tmp_path / "p", boxes, resize=resize))
    dets = OnnxDetector(pack).detect(WHITE)
    found = by_class(dets)
    assert list(found) == ["car"]
    [(box, conf)] = found["car"]
    assert box == pytest.approx(expected, abs=0.01)
    assert conf == pytest.approx(0.9, abs=1e-4)


def test_nms_is_per_class() -> None:
    xyxy = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10], [50, 50, 60, 60]],
                    np.float32)
    scores = np.array([0.5, 0.9, 0.8, 0.3], np.float32)
    classes = np.array([0, 0, 1, 0], np.int32)
    assert nms_per_class(xyxy, scores, classes, 0.5, 100).tolist() == [1, 2, 3]
    assert nms_per_class(xyxy, scores, classes, 0.5, 2).tolist() == [1, 2]


def test_letterbox_transform_round_trip() -> None:
    p = Preprocess(width=640, height=640)
    img = np.zeros((480, 1000, 3), np.uint8)
    out, t = resize_image(img, p)
    assert out.shape == (640, 640, 3)
    # 1000x480 → 640x307 (rounded), 166 rows of padding on top.
    assert (t.scale_x, t.pad_x, t.pad_y) == (0.64, 0.0, 166.0)
    box = np.array([[64.0, 166.0 + 64.0, 640.0, 166.0 + 307.0]], np.float32)
    assert t.to_original(box, 1000, 480) == pytest.approx(np.array([[100, 100, 1000, 480]]),
                                                          abs=0.2)


def test_detector_refuses_wrong_inputs(tmp_path: Path) -> None:
    pack = installed(tmp_path, yolo_pack(tmp_path / "p", BOXES))
    det = OnnxDetector(pack)
    with pytest.raises(ValueError, match="RGB uint8"):
        det.detect(np.zeros((10, 10), np.uint8))
    with pytest.raises(PackError, match="not a detector"):
        OnnxDetector(installed(tmp_path / "c", classifier_pack(tmp_path / "cls")))


def test_signature_mismatch_refused(tmp_path: Path) -> None:
    src = yolo_pack(tmp_path / "p", BOXES)
    data = json.loads((src / "manifest.json").read_text())
    data["graphs"]["model"]["inputs"][0]["name"] = "input"
    write_manifest(src, data)
    with pytest.raises(PackError, match=r"'yolo-fake'.*graph inputs are \['images'\]"):
        OnnxDetector(installed(tmp_path, src))
    data["graphs"]["model"]["inputs"][0]["name"] = "images"
    data["graphs"]["model"]["outputs"][0]["shape"] = [1, 84, 2100]
    write_manifest(src, data)
    with pytest.raises(PackError, match="output output0 has shape"):
        OnnxDetector(PackRegistry(tmp_path / "m2").install(str(src)))


def test_providers(tmp_path: Path) -> None:
    pack = installed(tmp_path, yolo_pack(tmp_path / "p", BOXES))
    assert len(OnnxDetector(pack, providers=["CPUExecutionProvider"]).detect(WHITE)) == 3
    import onnxruntime as ort  # type: ignore[import-untyped]

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("onnxruntime-gpu is installed here")
    with pytest.raises(MissingExtraError, match=r"retrouve\[gpu\]"):
        OnnxDetector(pack, providers=["gpu"])
    with pytest.raises(PackError, match="unknown ONNX Runtime provider"):
        OnnxDetector(pack, providers=["NoSuchProvider"])


def test_detector_satisfies_protocol(tmp_path: Path) -> None:
    from retrouve.vision.detector import Detector, detect_tiled

    det: Detector = OnnxDetector(installed(tmp_path, yolo_pack(tmp_path / "p", BOXES)))
    merged, passes = detect_tiled(det, WHITE, tile_px=640)
    assert passes >= 1 and set(merged.class_names()) <= set(OBJECT_CLASSES)


# ---------------------------------------------------------------------------- classifier
def _solid(rgb: tuple[int, int, int], h: int, w: int) -> np.ndarray[Any, Any]:
    return np.full((h, w, 3), rgb, np.uint8)


def test_classifier_top_k_and_batches(tmp_path: Path) -> None:
    pack = installed(tmp_path, classifier_pack(tmp_path / "p", batch_size=2))
    clf = OnnxClassifier(pack, top_k=2)
    assert clf.attribute == "make_model"
    crops = [_solid((255, 0, 0), 40, 90), _solid((0, 255, 0), 120, 60),
             _solid((0, 0, 255), 31, 17)]  # three crops, batches of two
    result = clf.classify(crops)
    assert [r[0][0] for r in result] == ["Renault|Clio", "Peugeot|208", "Citroen|C3"]
    assert all(len(r) == 2 for r in result)
    # Red crop → logits (10, -10, -10, 0): second best is the zero logit ("Other|Other").
    (_, p1), (second, p2) = result[0]
    assert second == "Other|Other"
    e = np.exp([10.0, -10.0, -10.0, 0.0])
    assert p1 == pytest.approx(e[0] / e.sum(), rel=1e-5)
    assert p2 == pytest.approx(e[3] / e.sum(), rel=1e-4)
    probs = clf.probabilities(crops)
    assert probs.shape == (3, 4) and np.allclose(probs.sum(axis=1), 1.0)
    assert clf.classify([]) == []
    # Batching (2 + 1) gives the same answers as one crop at a time.
    one_by_one = np.concatenate([clf.probabilities([c]) for c in crops])
    assert np.allclose(one_by_one, probs, atol=1e-6)


# ------------------------------------------------------------------------------ embedder
def test_clip_embedder(tmp_path: Path) -> None:
    pack = installed(tmp_path, clip_pack(tmp_path / "p"))
    emb: Embedder = ClipEmbedder(pack)
    assert emb.dim == 512
    crops = [_solid((255, 0, 0), 50, 30), _solid((200, 0, 0), 20, 80),
             _solid((0, 0, 255), 64, 64)]
    vecs = emb.embed_images(crops)
    assert vecs.dtype == np.float32 and vecs.shape == (3, 512)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert float(vecs[0] @ vecs[1]) > 0.95 > float(vecs[0] @ vecs[2])
    red = emb.embed_text("red")
    blue = emb.embed_text("BLUE")
    assert red is not None and blue is not None
    assert red.dtype == np.float32 and red.shape == (512,)
    assert float(np.linalg.norm(red)) == pytest.approx(1.0, abs=1e-5)
    # A pure red crop normalised with mean = std = 0.5 is exactly the "red" direction.
    assert float(vecs[0] @ red) == pytest.approx(1.0, abs=1e-4)
    phrase = emb.embed_text("a photo of a red car")
    assert phrase is not None
    scores = vecs @ phrase
    assert int(np.argmax(scores)) in (0, 1) and scores[0] > scores[2]
    assert float(vecs[2] @ blue) > float(vecs[2] @ red)
    assert emb.embed_text("   ") is None
    assert emb.embed_images([]).shape == (0, 512)


def test_clip_tokenize_truncates_keeping_end(tmp_path: Path) -> None:
    pack = installed(tmp_path, clip_pack(tmp_path / "p"))
    emb = ClipEmbedder(pack)
    tokens = emb.tokenize(" ".join(["red"] * 100))
    assert tokens is not None
    ids, mask = tokens
    assert ids.shape == (1, 77) and ids.dtype == np.int64
    assert ids[0, 0] == 2 and ids[0, 76] == 3 and mask.sum() == 77  # <start> … <end>
    short = emb.tokenize("red car")
    assert short is not None
    assert short[0][0, :4].tolist() == [2, 4, 7, 3] and short[1].sum() == 4
    assert int(short[0][0, 4:].max()) == 0  # padded with pad_id
    unknown = emb.embed_text("zebra")  # [UNK] row is zero: a zero vector stays zero
    assert unknown is not None and float(np.linalg.norm(unknown)) == 0.0


def test_clip_bad_tokenizer(tmp_path: Path) -> None:
    src = clip_pack(tmp_path / "p")
    (src / "tokenizer.json").write_text("{}")
    write_manifest(src, json.loads((src / "manifest.json").read_text()))
    with pytest.raises(PackError, match="cannot load tokenizer"):
        ClipEmbedder(installed(tmp_path, src))
