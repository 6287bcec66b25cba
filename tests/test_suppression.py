"""Class-agnostic suppression of duplicate boxes on one object (pixels of one frame)."""

from __future__ import annotations

import numpy as np
import pytest

from retrouve.domain import OBJECT_CLASSES, Detections
from retrouve.vision.detector import ShapeDetector, detect_voted
from retrouve.vision.suppression import (
    CONTAINED,
    KIND_OF_CLASS,
    PassRegions,
    SuppressionRule,
    VotedDetections,
    cut_boxes,
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
    (
        "car and truck on one vehicle",
        [(CAR_BOX, 0.6, "car"), (SHIFTED, 0.4, "truck")],
        ["car"],
        {"car": 0.6, "truck": 0.4},
    ),
    (
        "truck wins, car vote kept",
        [(CAR_BOX, 0.3, "car"), (SHIFTED, 0.7, "truck")],
        ["truck"],
        {"car": 0.3, "truck": 0.7},
    ),
    (
        "same class twice: best score, no double count",
        [(CAR_BOX, 0.5, "car"), (SHIFTED, 0.8, "car")],
        ["car"],
        {"car": 0.8},
    ),
    (
        "tile piece inside the whole vehicle: not by IoU",
        [(CAR_BOX, 0.8, "car"), (PIECE, 0.5, "truck")],
        ["car", "truck"],
        {"car": 0.8},
    ),
    (
        "far small object inside a box is another",
        [(CAR_BOX, 0.8, "car"), (TINY, 0.5, "car")],
        ["car", "car"],
        {"car": 0.8},
    ),
    ("two cars apart", [(CAR_BOX, 0.8, "car"), (APART, 0.7, "car")], ["car", "car"], {"car": 0.8}),
    (
        "person inside a car is another object",
        [(CAR_BOX, 0.8, "car"), (SHIFTED, 0.9, "person")],
        ["car", "person"],
        {"car": 0.8},
    ),
    (
        "bag on a person is another object",
        [(CAR_BOX, 0.9, "person"), (SHIFTED, 0.6, "handbag")],
        ["person", "handbag"],
        {"person": 0.9},
    ),
    (
        "rider and bicycle stay apart",
        [(CAR_BOX, 0.7, "person"), (SHIFTED, 0.6, "bicycle")],
        ["person", "bicycle"],
        {"person": 0.7},
    ),
    (
        "motorcycle called bicycle",
        [(CAR_BOX, 0.4, "bicycle"), (SHIFTED, 0.6, "motorcycle")],
        ["motorcycle"],
        {"bicycle": 0.4, "motorcycle": 0.6},
    ),
    (
        "handbag called suitcase",
        [(CAR_BOX, 0.5, "handbag"), (SHIFTED, 0.45, "suitcase")],
        ["handbag"],
        {"handbag": 0.5, "suitcase": 0.45},
    ),
    (
        "three boxes: bus, truck, car on one vehicle",
        [
            (CAR_BOX, 0.3, "bus"),
            (SHIFTED, 0.5, "truck"),
            ((102.0, 101.0, 202.0, 161.0), 0.4, "car"),
        ],
        ["truck"],
        {"bus": 0.3, "truck": 0.5, "car": 0.4},
    ),
]


@pytest.mark.parametrize(("name", "rows", "kept", "votes"), CASES, ids=[c[0] for c in CASES])
def test_suppression_cases(
    name: str, rows: list[Row], kept: list[str], votes: dict[str, float]
) -> None:
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
    out = suppress_duplicates(
        dets((CAR_BOX, 0.8, "car"), (PIECE, 0.5, "truck"), (APART, 0.7, "car")), CONTAINED
    )
    assert len(out) == 2
    assert out.folded_boxes(0).tolist() == [[*PIECE, 0.5]]
    assert out.folded_boxes(1).shape == (0, 5)


@pytest.mark.parametrize(
    ("rule", "inside", "n_kept"),
    [
        (SuppressionRule(), PIECE, 2),
        (CONTAINED, PIECE, 1),
        (SuppressionRule(containment=0.8, max_area_ratio=2.0), PIECE, 2),
        (CONTAINED, QUARTER, 2),
        (SuppressionRule(iou=0.35), PIECE, 1),
    ],
    ids=[
        "default: IoU only",
        "containment folds the piece",
        "area ratio limits containment",
        "a quarter box is beyond the area ratio",
        "a lower IoU folds it",
    ],
)
def test_rule_parameters(
    rule: SuppressionRule, inside: tuple[float, float, float, float], n_kept: int
) -> None:
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
        VotedDetections(d, VotedDetections.single(d).votes, (np.zeros((0, 5), np.float32),) * 2)


def test_every_class_has_a_kind() -> None:
    assert len(KIND_OF_CLASS) == len(OBJECT_CLASSES)
    assert KIND_OF_CLASS[C["car"]] == KIND_OF_CLASS[C["truck"]] == KIND_OF_CLASS[C["bus"]]
    assert KIND_OF_CLASS[C["person"]] not in {KIND_OF_CLASS[C["car"]], KIND_OF_CLASS[C["handbag"]]}


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


# --------------------------------------------------------------------------- tile pieces
# A 1280 x 720 frame in the tiles detect_voted uses for tile_px=640 (2 x 2, 20 % overlap).
W, H = 1280.0, 720.0
FULL = (0.0, 0.0, W, H)
T0, T1 = (0.0, 0.0, 704.0, 396.0), (576.0, 0.0, 1280.0, 396.0)
T2, T3 = (0.0, 324.0, 704.0, 720.0), (576.0, 324.0, 1280.0, 720.0)
Seen = tuple[tuple[float, float, float, float], float, str, tuple[float, float, float, float]]


def seen(*rows: Seen) -> tuple[Detections, PassRegions]:
    regions = np.array([r[3] for r in rows], np.float32).reshape(-1, 4)
    return dets(*((b, s, c) for b, s, c, _ in rows)), PassRegions(regions, W, H)


# name, detections with the pass that saw each, kept boxes (input order), their scores.
# Boxes measured on the plate camera (plates-a, OMZ detector pack): the tiles' pieces of a
# car crossing a tile border score higher than the whole frame's box of it.
PIECE_CASES: list[tuple[str, list[Seen], list[tuple[float, float, float, float]], list[float]]] = [
    (
        "whole box beats the stronger pieces of two tiles",
        [
            ((199, 0, 841, 304), 0.54, "car", FULL),
            ((196, 0, 704, 301), 0.66, "car", T0),
            ((576, 0, 843, 293), 0.41, "car", T1),
        ],
        [(199, 0, 841, 304)],
        [0.66],
    ),
    (
        "four pieces across the tile cross fold into the whole box",
        [
            ((443, 75, 983, 463), 0.74, "car", FULL),
            ((455, 73, 704, 389), 0.49, "car", T0),
            ((580, 75, 981, 389), 0.75, "car", T1),
            ((451, 324, 704, 467), 0.43, "car", T2),
            ((580, 324, 963, 470), 0.66, "truck", T3),
        ],
        [(443, 75, 983, 463)],
        [0.75],
    ),
    (
        "no whole box: the pieces of two tiles join",
        [((196, 0, 704, 301), 0.66, "car", T0), ((576, 0, 843, 293), 0.41, "car", T1)],
        [(196, 0, 843, 301)],
        [0.66],
    ),
    (
        "a car whole inside the overlap band is not a piece of a cut bus",
        [((300, 100, 704, 300), 0.7, "bus", T0), ((600, 150, 680, 250), 0.6, "car", T1)],
        [(300, 100, 704, 300), (600, 150, 680, 250)],
        [0.7, 0.6],
    ),
    (
        "two cars side by side at the border stay two",
        [((500, 100, 700, 200), 0.7, "car", T0), ((590, 220, 800, 320), 0.6, "car", T1)],
        [(500, 100, 700, 200), (590, 220, 800, 320)],
        [0.7, 0.6],
    ),
    (
        "a person's piece never folds into a car",
        [((199, 0, 841, 304), 0.54, "car", FULL), ((600, 0, 704, 290), 0.8, "person", T0)],
        [(199, 0, 841, 304), (600, 0, 704, 290)],
        [0.54, 0.8],
    ),
    (
        "uncut boxes of two tiles fold by plain IoU as before",
        [((600, 100, 690, 180), 0.5, "car", T0), ((602, 101, 692, 181), 0.7, "car", T1)],
        [(602, 101, 692, 181)],
        [0.7],
    ),
]


@pytest.mark.parametrize(
    ("name", "rows", "kept", "scores"), PIECE_CASES, ids=[c[0] for c in PIECE_CASES]
)
def test_tile_pieces(
    name: str, rows: list[Seen], kept: list[tuple[float, ...]], scores: list[float]
) -> None:
    d, passes = seen(*rows)
    out = suppress_duplicates(d, passes=passes)
    assert out.detections.xyxy.tolist() == [list(map(float, b)) for b in kept]
    assert out.detections.confidence.tolist() == pytest.approx(scores)


def test_piece_keeps_its_class_vote_apart() -> None:
    # Built-in SSD on plates-a: the whole frame says truck, the tiles say car (stronger).
    d, passes = seen(
        ((185, 3, 851, 306), 0.68, "truck", FULL),
        ((201, 0, 704, 306), 0.70, "car", T0),
        ((576, 0, 852, 274), 0.77, "car", T1),
    )
    out = suppress_duplicates(d, passes=passes)
    assert out.detections.class_names() == ["truck"]
    assert out.votes[0, C["truck"]] == pytest.approx(0.68)
    assert out.votes[0, C["car"]] == pytest.approx(0.77)
    assert len(out.folded_boxes(0)) == 2  # both pieces stay available as plate views


@pytest.mark.parametrize(
    ("box", "region", "cut"),
    [
        ((196, 0, 704, 301), T0, True),
        ((580, 75, 981, 389), T1, True),
        ((0, 100, 100, 200), T0, False),
        ((1180, 600, 1280, 720), T3, False),
        ((300, 100, 600, 300), T0, False),
        ((199, 0, 841, 304), FULL, False),
        ((600, 328, 700, 500), T3, True),
    ],
    ids=[
        "right border",
        "left border 4 px in, bottom 7 px in",
        "frame border",
        "frame corner",
        "inside",
        "whole frame",
        "top border of a lower tile",
    ],
)
def test_cut_boxes(box: tuple[float, ...], region: tuple[float, ...], cut: bool) -> None:
    passes = PassRegions(np.array([region], np.float32), W, H)
    assert cut_boxes(np.array([box], np.float32), passes).tolist() == [cut]


def test_pass_regions_are_checked() -> None:
    with pytest.raises(ValueError, match=r"regions: expected float32 \(N, 4\)"):
        PassRegions(np.zeros((2, 3), np.float32), W, H)
    d, passes = seen(((0, 0, 10, 10), 0.5, "car", FULL))
    with pytest.raises(ValueError, match="2 detections but 1 pass regions"):
        suppress_duplicates(Detections.concat([d, d]), passes=passes)


class _Zoomed(ShapeDetector):
    """Blobs scored by how much of the input image they fill: an object crossing a tile
    border fills more of the tile than of the frame, so a piece outscores the whole box."""

    def detect(self, image: np.ndarray) -> Detections:  # type: ignore[type-arg]
        d = super().detect(image)
        fill = (d.xyxy[:, 2] - d.xyxy[:, 0]) / image.shape[1]
        return Detections(d.xyxy, (0.3 + 0.6 * fill).astype(np.float32), d.class_id)


def test_detect_voted_folds_tile_pieces_into_the_whole_object() -> None:
    image = np.full((720, 1280, 3), 128, np.uint8)
    image[100:300, 300:900] = (200, 30, 30)  # a wide vehicle across the tile border x 576..704
    image[500:560, 1000:1100] = (30, 30, 200)  # a car inside one lower tile
    voted, passes = detect_voted(_Zoomed(), image, tile_px=640)
    assert passes == 5
    assert voted.detections.xyxy.tolist() == [[300, 100, 900, 300], [1000, 500, 1100, 560]]
