"""Tests of the ByteTrack-style tracker on synthetic detections (pixels, recording seconds)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from retrouve.domain import OBJECT_CLASSES, Box, Detections
from retrouve.vision.tracker import ByteTracker, Tracker, TrackerConfig

CAR = OBJECT_CLASSES.index("car")
TRUCK = OBJECT_CLASSES.index("truck")
PERSON = OBJECT_CLASSES.index("person")

Det = tuple[tuple[float, float, float, float], float, int]  # (x0, y0, x1, y1), score, class


def dets(*rows: Det) -> Detections:
    if not rows:
        return Detections.empty()
    return Detections(
        np.array([r[0] for r in rows], np.float32),
        np.array([r[1] for r in rows], np.float32),
        np.array([r[2] for r in rows], np.int32),
    )


def box_at(cx: float, cy: float, w: float, h: float) -> tuple[float, float, float, float]:
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def run(tracker: Tracker, frames: list[tuple[float, list[Det]]]) -> list[list[int]]:
    out: list[list[int]] = []
    for t, rows in frames:
        ids: npt.NDArray[np.int64] = tracker.update(dets(*rows), t)
        assert ids.dtype == np.int64 and ids.shape == (len(rows),)
        out.append([int(i) for i in ids])
    return out


@pytest.mark.parametrize(
    ("fps", "speed", "dy"),
    [(5.0, 60.0, 30.0), (2.0, 60.0, 30.0), (5.0, 150.0, 10.0), (4.0, 80.0, 0.0)],
)
def test_crossing_objects_keep_their_ids(fps: float, speed: float, dy: float) -> None:
    # A walks right, B walks left; their boxes overlap heavily while they pass each other.
    tracker = ByteTracker()
    frames: list[tuple[float, list[Det]]] = []
    for k in range(int(6 * fps)):
        t = k / fps
        a = box_at(100 + speed * t, 200, 40, 80)
        b = box_at(100 + speed * 6 - speed * t, 200 + dy, 40, 80)
        frames.append((t, [(a, 0.9, PERSON), (b, 0.8, PERSON)]))
    ids = run(tracker, frames)
    assert ids[0][0] != ids[0][1]
    assert all(row == ids[0] for row in ids), ids


@pytest.mark.parametrize(
    ("velocity", "size"),
    [((100.0, 0.0), 30.0), ((0.0, -90.0), 30.0), ((80.0, 60.0), 40.0), ((-120.0, 0.0), 48.0)],
)
def test_fast_object_at_two_fps_without_overlap_keeps_one_id(
    velocity: tuple[float, float], size: float
) -> None:
    tracker = ByteTracker()
    boxes = [box_at(300 + velocity[0] * t, 300 + velocity[1] * t, size, size) for t in (0, 0.5)]
    assert Box(*boxes[0]).iou(Box(*boxes[1])) == 0.0  # the premise: consecutive boxes are apart
    frames: list[tuple[float, list[Det]]] = []
    for k in range(8):
        t = k / 2  # 2 fps
        frames.append(
            (t, [(box_at(300 + velocity[0] * t, 300 + velocity[1] * t, size, size), 0.8, CAR)])
        )
    ids = run(tracker, frames)
    assert {row[0] for row in ids} == {ids[0][0]}


@pytest.mark.parametrize(
    ("gap", "vx", "same"),
    [(1.0, 0.0, True), (1.0, 50.0, True), (1.9, 0.0, True), (2.5, 0.0, False), (4.0, 30.0, False)],
)
def test_gap_without_detections(gap: float, vx: float, same: bool) -> None:
    tracker = ByteTracker()
    frames = [(k / 5, [(box_at(200 + vx * k / 5, 200, 40, 80), 0.9, PERSON)]) for k in range(5)]
    t_back = 0.8 + gap
    frames.append((t_back, [(box_at(200 + vx * t_back, 200, 40, 80), 0.9, PERSON)]))
    ids = run(tracker, frames)
    assert (ids[-1][0] == ids[0][0]) is same
    assert ids[-1][0] >= 1


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        # Low score on the track: extends it.
        ([(box_at(102, 100, 40, 80), 0.3, PERSON)], ["track"]),
        # Low score far from any track: part of no track, starts none.
        ([(box_at(600, 400, 40, 80), 0.3, PERSON)], [-1]),
        # Below low_threshold even on the track: ignored.
        ([(box_at(100, 100, 40, 80), 0.1, PERSON)], [-1]),
        # High score takes the track, the low one next to it matches nothing.
        (
            [(box_at(100, 100, 40, 80), 0.9, PERSON), (box_at(104, 100, 40, 80), 0.3, PERSON)],
            ["track", -1],
        ),
    ],
)
def test_low_score_detections_extend_but_never_start(
    second: list[Det], expected: list[int | str]
) -> None:
    tracker = ByteTracker()
    first = run(tracker, [(0.0, [(box_at(100, 100, 40, 80), 0.9, PERSON)])])[0][0]
    ids = run(tracker, [(0.2, second)])[0]
    assert ids == [first if e == "track" else e for e in expected]
    # A later high-score detection still continues the track (it was kept alive).
    if expected[0] == "track":
        assert run(tracker, [(0.4, [(box_at(103, 100, 40, 80), 0.9, PERSON)])])[0] == [first]


def test_low_score_alone_never_starts_a_track() -> None:
    tracker = ByteTracker(TrackerConfig(new_track_threshold=0.7))
    rows: list[Det] = [
        (box_at(100, 100, 40, 80), 0.3, PERSON),
        (box_at(300, 100, 40, 80), 0.6, CAR),
    ]
    assert run(tracker, [(0.0, rows), (0.2, rows)]) == [[-1, -1], [-1, -1]]


@pytest.mark.parametrize(
    "classes", [[CAR, TRUCK, CAR, TRUCK, TRUCK], [TRUCK, CAR, CAR, CAR, TRUCK]]
)
def test_class_flip_keeps_the_id(classes: list[int]) -> None:
    tracker = ByteTracker()
    frames = [
        (k / 3, [(box_at(100 + 30 * k, 200, 120, 60), 0.8, c)]) for k, c in enumerate(classes)
    ]
    ids = run(tracker, frames)
    assert {row[0] for row in ids} == {ids[0][0]}


@pytest.mark.parametrize(
    ("left_class", "right_class", "takes_track"),
    [(PERSON, CAR, [False, True]), (CAR, PERSON, [True, False]), (TRUCK, CAR, [False, True])],
)
def test_same_class_is_preferred_when_overlap_is_equal(
    left_class: int, right_class: int, takes_track: list[bool]
) -> None:
    tracker = ByteTracker()
    (car_id,) = run(tracker, [(0.0, [(box_at(200, 200, 100, 60), 0.9, CAR)])])[0]
    left, right = box_at(190, 200, 100, 60), box_at(210, 200, 100, 60)  # same IoU with the track
    ids = run(tracker, [(0.3, [(left, 0.9, left_class), (right, 0.9, right_class)])])[0]
    assert [i == car_id for i in ids] == takes_track


@pytest.mark.parametrize(
    "times",
    [
        [0.0, 0.1, 0.2, 0.3, 1.1, 1.15, 1.5, 2.4, 2.45],
        [0.0, 0.5, 0.7, 0.75, 1.6, 1.9, 3.0],
    ],
)
def test_irregular_time_steps_use_real_dt(times: list[float]) -> None:
    # 150 px/s with a 48 px box: across the 0.8-1.1 s gaps the object moves 120-165 px, well
    # outside the centre gate of its last box, so only a dt-scaled prediction can keep the id.
    tracker = ByteTracker()
    frames = [(t, [(box_at(100 + 150 * t, 300, 48, 48), 0.9, CAR)]) for t in times]
    ids = run(tracker, frames)
    assert {row[0] for row in ids} == {ids[0][0]}


def test_empty_detections() -> None:
    tracker = ByteTracker()
    empty = tracker.update(Detections.empty(), 0.0)
    assert empty.dtype == np.int64 and empty.shape == (0,)
    person = (box_at(100, 100, 40, 80), 0.9, PERSON)
    ids = run(tracker, [(0.2, [person]), (0.4, []), (0.6, []), (0.8, [person])])
    assert ids[1] == [] and ids[2] == [] and ids[3] == ids[0]


def test_fallback_cannot_steal_an_iou_match() -> None:
    tracker = ByteTracker()
    (tid,) = run(tracker, [(0.0, [(box_at(200, 200, 40, 40), 0.9, CAR)])])[0]
    near = (box_at(255, 200, 40, 40), 0.95, CAR)  # inside the centre gate, no overlap, same class
    overlap = (box_at(205, 200, 40, 40), 0.6, PERSON)  # good IoU, class mismatch, lower score
    far = (box_at(400, 200, 40, 40), 0.9, CAR)  # outside the gate
    ids = run(tracker, [(0.2, [near, overlap, far])])[0]
    assert ids[1] == tid
    assert ids[0] not in (-1, tid) and ids[2] not in (-1, tid, ids[0])


def test_ids_are_never_reused_after_reset() -> None:
    tracker = ByteTracker()
    rows: list[Det] = [(box_at(100 + 200 * i, 100, 40, 80), 0.9, PERSON) for i in range(3)]
    before = run(tracker, [(0.0, rows), (0.2, rows)])
    tracker.reset()
    after = run(tracker, [(0.0, rows), (0.2, rows)])  # the time base restarts after reset
    assert before[0] == before[1] and after[0] == after[1]
    assert min(after[0]) > max(before[0])
    assert len(set(before[0]) | set(after[0])) == 6


def test_time_must_increase() -> None:
    tracker = ByteTracker()
    tracker.update(Detections.empty(), 1.0)
    with pytest.raises(ValueError, match="time must increase"):
        tracker.update(Detections.empty(), 1.0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"low_threshold": 0.6},
        {"new_track_threshold": 0.4},
        {"match_iou": 0.0},
        {"max_lost_s": -1.0},
    ],
)
def test_config_rejects_inconsistent_values(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="TrackerConfig"):
        TrackerConfig(**kwargs)
