"""Class-agnostic suppression of duplicate boxes on one object (pixels of one frame)."""

from __future__ import annotations

import numpy as np
import pytest

from retrouve.domain import OBJECT_CLASSES, Detections
from retrouve.vision.detector import detect_voted
from retrouve.vision.suppression import (
    CONTAINED,
    KIND_OF_CLASS,
    SuppressionRule,
    VotedDetections,
    suppress_duplicates,
)

C = {name: i for i, name in enumerate(OBJECT_CLASSES)}
Row = tuple[tuple[float, float, float, float], float, str]


def dets(*rows: Row) -> Detections:
    return Detections(
        np.array([r[0] for r in rows], np.float32).reshape(-1, 4),
        np.array([r[1] for r in rows], np.float32),
        np.array([C[r[2]] for r in rows], np.int32),
    )


CAR_BOX = (100.0, 100.0, 200.0, 160.0)
SHIFTED = (105.0, 102.0, 205.0, 162.0)  # IoU ≈ 0.87 with CAR_BOX
PIECE = (100.0, 100.0, 140.0, 160.0)  # inside CAR_BOX: IoU 0.4, area ratio 2.5
QUARTER = (100.0, 100.0, 150.0, 130.0)  # inside CAR_BOX, area ratio 4: beyond the limit
TINY = (100.0, 100.0, 120.0, 115.0)  # inside, 1/20 of the area: another object far behind
APART = (300.0, 100.0, 400.0, 160.0)

CASES: list[tuple[str, list[Row], list[str], dict[str, float]]] = [
    # name, detections, kept classes (input order), votes of the first kept row
    ("car and truck on one vehicle", [(CAR_BOX, 0.6, "car"), (SHIFTED, 0.4, "truck")],
     ["car"], {"car": 0.6, "truck": 0.4}),
    ("truck wins, car vote kept", [(CAR_BOX, 0.3, "car"), (SHIFTED, 0.7, "truck")],
     ["truck"], {"car": 0.3, "truck": 0.7}),
    ("same class twice: best score, no double count",
     [(CAR_BOX, 0.5, "car"), (SHIFTED, 0.8, "car")], ["car"], {"car": 0.8}),
    ("tile piece inside the whole vehicle: not by IoU",
     [(CAR_BOX, 0.8, "car"), (PIECE, 0.5, "truck")], ["car", "truck"], {"car": 0.8}),
    ("far small object inside a box is another", [(CAR_BOX, 0.8, "car"), (TINY, 0.5, "car")],
     ["car", "car"], {"car": 0.8}),
    ("two cars apart", [(CAR_BOX, 0.8, "car"), (APART, 0.7, "car")], ["car", "car"],
     {"car": 0.8}),
    ("person inside a car is another object", [(CAR_BOX, 0.8, "car"), (SHIFTED, 0.9, "person")],
     ["car", "person"], {"car": 0.8}),
    ("bag on a person is another object",
     [(CAR_BOX, 0.9, "person"), (SHIFTED, 0.6, "handbag")], ["person", "handbag"],
     {"person": 0.9}),
    ("rider and bicycle stay apart", [(CAR_BOX, 0.7, "person"), (SHIFTED, 0.6, "bicycle")],
     ["person", "bicycle"], {"person": 0.7}),
    ("motorcycle called bicycle", [(CAR_BOX, 0.4, "bicycle"), (SHIFTED, 0.6, "motorcycle")],
     ["motorcycle"], {"bicycle": 0.4, "motorcycle": 0.6}),
    ("handbag called suitcase", [(CAR_BOX, 0.5, "handbag"), (SHIFTED, 0.45, "suitcase")],
     ["handbag"], {"handbag": 0.5, "suitcase": 0.45}),
    ("three boxes: bus, truck, car on one vehicle",
     [(CAR_BOX, 0.3, "bus"), (SHIFTED, 0.5, "truck"), ((102.0, 101.0, 202.0, 161.0), 0.4,
                                                        "car")], ["truck"],
     {"bus": 0.3, "truck": 0.5, "car": 0.4}),
]


@pytest.mark.parametrize(("name", "rows", "kept", "votes"), CASES, ids=[c[0] for c in CASES])
def test_suppression_cases(name: str, rows: list[Row], kept: list[str],
                           votes: dict[str, float]) -> None:
    out = suppress_duplicates(dets(*rows))
    assert out.detections.class_names() == kept
    want = np.zeros(len(OBJECT_CLASSES), np.float32)
    for cls, score in votes.items():
        want[C[cls]] = score
    assert out.votes[0] == pytest.approx(want)
    # Each kept row votes its own class with its own (best) score.
    for i, c in enumerate(out.detections.class_id):
        assert out.votes[i, c] == pytest.approx(out.detections.confidence[i])


def test_folded_boxes_are_kept_per_detection() -> None:
    out = suppress_duplicates(dets((CAR_BOX, 0.8, "car"), (PIECE, 0.5, "truck"),
                                   (APART, 0.7, "car")), CONTAINED)
    assert len(out) == 2
    assert out.folded_boxes(0).tolist() == [[*PIECE, 0.5]]
    assert out.folded_boxes(1).shape == (0, 5)


@pytest.mark.parametrize(
    ("rule", "inside", "n_kept"),
    [(SuppressionRule(), PIECE, 2), (CONTAINED, PIECE, 1),
     (SuppressionRule(containment=0.8, max_area_ratio=2.0), PIECE, 2),
     (CONTAINED, QUARTER, 2), (SuppressionRule(iou=0.35), PIECE, 1)],
    ids=["default: IoU only", "containment folds the piece", "area ratio limits containment",
         "a quarter box is beyond the area ratio", "a lower IoU folds it"],
)
def test_rule_parameters(rule: SuppressionRule, inside: tuple[float, float, float, float],
                         n_kept: int) -> None:
    # PIECE: inside CAR_BOX with IoU 0.4 and an area ratio of 2.5.
    out = suppress_duplicates(dets((CAR_BOX, 0.8, "car"), (inside, 0.5, "truck")), rule)
    assert len(out) == n_kept


def test_rule_is_checked() -> None:
    with pytest.raises(ValueError, match="containment must be in"):
        SuppressionRule(containment=1.5)
    with pytest.raises(ValueError, match="max_area_ratio"):
        SuppressionRule(max_area_ratio=0.5)


def test_empty_and_single_pass_through() -> None:
    assert len(suppress_duplicates(Detections.empty())) == 0
    one = suppress_duplicates(dets((CAR_BOX, 0.5, "car")))
    assert one.votes[0, C["car"]] == pytest.approx(0.5) and one.votes.sum() == pytest.approx(0.5)


def test_votes_shape_is_checked() -> None:
    d = dets((CAR_BOX, 0.5, "car"))
    with pytest.raises(ValueError, match=r"votes: expected float32 \(1, 10\)"):
        VotedDetections(d, np.zeros((2, len(OBJECT_CLASSES)), np.float32))
    with pytest.raises(ValueError, match="folded: expected 1 entries"):
        VotedDetections(d, VotedDetections.single(d).votes,
                        (np.zeros((0, 5), np.float32),) * 2)


def test_every_class_has_a_kind() -> None:
    assert len(KIND_OF_CLASS) == len(OBJECT_CLASSES)
    assert KIND_OF_CLASS[C["car"]] == KIND_OF_CLASS[C["truck"]] == KIND_OF_CLASS[C["bus"]]
    assert KIND_OF_CLASS[C["person"]] not in {KIND_OF_CLASS[C["car"]],
                                             KIND_OF_CLASS[C["handbag"]]}


class _CarAndTruck:
    """A fake detector whose own NMS is per class: one vehicle, two boxes."""

    name = "car_and_truck"
    version = "1"

    def detect(self, image: np.ndarray) -> Detections:  # type: ignore[type-arg]
        return dets((CAR_BOX, 0.6, "car"), (SHIFTED, 0.45, "truck"))


def test_detect_voted_folds_even_a_single_pass() -> None:
    image = np.zeros((240, 320, 3), np.uint8)
    voted, passes = detect_voted(_CarAndTruck(), image, tile_px=640)
    assert passes == 1
    assert voted.detections.class_names() == ["car"]
    assert voted.votes[0, C["truck"]] == pytest.approx(0.45)
