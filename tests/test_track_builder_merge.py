"""One object, one track: the builder merges duplicate tracks and keeps their class mix."""

from __future__ import annotations

import numpy as np
import pytest

from retrouve.analysis.plate_views import PlateViews
from retrouve.analysis.track_builder import FrameContext, TrackBuilder
from retrouve.domain import OBJECT_CLASSES, Box
from retrouve.vision.plates.ocr import FakePlateReader, RawRead

CAR, TRUCK, PERSON = (OBJECT_CLASSES.index(c) for c in ("car", "truck", "person"))
CTX = FrameContext(np.ones(3, np.float32), greyscale=False)


def frame() -> np.ndarray:  # type: ignore[type-arg]
    img = np.full((240, 480, 3), 90, np.uint8)
    img[100:160, 40:440] = (200, 30, 30)  # a red band the vehicles drive along
    return img


def vehicle_box(t: float) -> Box:
    x = 40.0 + 40.0 * t
    return Box(x, 100.0, x + 100.0, 160.0)


def build(rows: list[tuple[int, float, Box, float, int]]) -> TrackBuilder:
    b = TrackBuilder("rec", "rec@0")
    img = frame()
    for tid, t, box, score, cls in rows:
        b.add(tid, t, box, score, cls, img, CTX, None, 0.0, 0.25)
    return b


@pytest.mark.parametrize(
    ("name", "rows", "n_tracks"),
    [
        ("one vehicle, tracker ids alternate (car / truck)",
         [(1 if k % 2 == 0 else 2, k * 0.25, vehicle_box(k * 0.25), 0.6,
           CAR if k % 2 == 0 else TRUCK) for k in range(12)], 1),
        ("a vehicle and a person on it stay two",
         [(1, k * 0.25, vehicle_box(k * 0.25), 0.6, CAR) for k in range(8)]
         + [(2, k * 0.25, vehicle_box(k * 0.25), 0.7, PERSON) for k in range(8)], 2),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_builder_merges_duplicate_tracks(name: str, rows: list[tuple[int, float, Box, float,
                                                                      int]], n_tracks: int,
                                         ) -> None:
    b = build(sorted(rows, key=lambda r: r[1]))
    tracks = b.finish(2, 0.125, 0.0, 10.0, greyscale=False)
    assert len(tracks) == n_tracks
    assert b.merged == (1 if n_tracks == 1 else 0)


def test_merged_track_keeps_the_car_truck_mix() -> None:
    rows = [(1 if k % 2 == 0 else 2, k * 0.25, vehicle_box(k * 0.25), 0.6,
             CAR if k % 2 == 0 else TRUCK) for k in range(12)]
    (track,) = build(rows).finish(2, 0.125, 0.0, 10.0, greyscale=False)
    assert len(track.observations) == 12
    types = {a.value: a.confidence for a in track.attributes if a.name == "vehicle_type"}
    # An even car/truck split is the van signature (analysis/vehicle_type.py).
    assert track.object == "van" and "van" in types
    assert track.t_start == pytest.approx(0.0) and track.t_end == pytest.approx(2.875)


def test_votes_of_folded_boxes_reach_the_track() -> None:
    b = TrackBuilder("rec", "rec@0")
    img = frame()
    for k in range(6):
        votes = np.zeros(len(OBJECT_CLASSES), np.float32)
        votes[CAR], votes[TRUCK] = 0.6, 0.55
        b.add(1, k * 0.25, vehicle_box(k * 0.25), 0.6, CAR, img, CTX, None, 0.0, 0.25, votes)
    (track,) = b.finish(2, 0.125, 0.0, 10.0, greyscale=False)
    types = {a.value for a in track.attributes if a.name == "vehicle_type"}
    assert "van" in types  # without the truck votes a unanimous car would stay a car


def _read(text: str, conf: float) -> RawRead:
    return RawRead(text, tuple((c, conf) for c in text), conf, Box(1.0, 1.0, 30.0, 10.0))


@pytest.mark.parametrize(
    ("main", "piece_read"),
    [
        ([], True),  # the whole view reads nothing: the piece stands in
        ([_read("AB123CD", 0.7)], True),  # unsure: the piece's read joins the alternatives
        ([_read("AB123CD", 0.95)], False),  # confident (≥ PIECE_BELOW): no OCR on the piece
    ],
    ids=["no-read", "unsure", "confident"],
)
def test_pieces_are_read_when_the_views_are_not_confident(
    main: list[RawRead], piece_read: bool
) -> None:
    img = np.full((400, 800, 3), 120, np.uint8)
    views = PlateViews(k=3, spacing_s=0.4, min_px=90)
    views.offer(1.0, Box(100.0, 50.0, 700.0, 380.0), 0.8, img)
    views.offer(1.0, Box(100.0, 200.0, 400.0, 380.0), 0.5, img, piece=True)
    piece = _read("XY456ZT" if main else "AB123CD", 0.8)
    reader = FakePlateReader([main, [piece]])
    plate = views.read(reader)
    assert plate is not None and plate.text == "AB123CD"
    assert len(reader.crops) == (2 if piece_read else 1)
    if main and piece_read:
        assert "XY456ZT" in dict(plate.alternatives)
    if not piece_read:
        assert "XY456ZT" not in dict(plate.alternatives)
