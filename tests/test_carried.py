"""Carried objects: association by overlap and co-motion over the track, left-behind bags."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from retrouve.analysis import carried
from retrouve.domain import Box, Observation, Track

Path = Callable[[float], tuple[float, float]]  # t → top-left corner of the box


def track(local: int, obj: str, size: tuple[float, float], path: Path,
          times: list[float], conf: float = 0.8) -> Track:
    w, h = size
    obs = tuple(Observation(t, Box(path(t)[0], path(t)[1], path(t)[0] + w, path(t)[1] + h),
                            conf) for t in times)
    return Track(recording_id="r", unit_id="r@0000000.0", local_id=local, object=obj,
                 object_confidence=conf, t_start=times[0], t_end=times[-1], best_t=times[0],
                 best_box=obs[0].box, attributes=(), observations=obs)


TIMES = [i * 0.25 for i in range(20)]  # 5 s at 4 fps


def walking(x0: float, speed: float, y: float = 100.0) -> Path:
    return lambda t: (x0 + speed * t, y)


def attrs(t: Track) -> set[tuple[str, str]]:
    return {(a.name, a.value) for a in t.attributes}


def test_bag_moving_with_its_carrier_is_an_accessory_of_that_person() -> None:
    person = track(1, "person", (40, 120), walking(100, 40), TIMES)
    bystander = track(2, "person", (40, 120), walking(400, -40), TIMES)
    # Hand-carried at hip height, moving exactly with person 1.
    bag = track(3, "handbag", (18, 20), lambda t: (130 + 40 * t, 160), TIMES, conf=0.6)
    out = {t.local_id: t for t in carried.apply([person, bystander, bag])}
    assert ("accessory", "handbag") in attrs(out[1])
    assert ("accessory", "handbag") not in attrs(out[2])
    conf = next(a.confidence for a in out[1].attributes if a.name == "accessory")
    assert 0.5 * 0.6 <= conf <= 0.6


def test_a_person_walking_past_a_static_bag_does_not_carry_it() -> None:
    person = track(1, "person", (40, 120), walking(0, 60), TIMES)  # crosses x=150 at t≈2.5
    bag = track(2, "suitcase", (30, 40), lambda t: (150, 170), TIMES)
    out = {t.local_id: t for t in carried.apply([person, bag])}
    assert not any(a.name == "accessory" for a in out[1].attributes)


def test_overlap_on_one_frame_is_not_enough() -> None:
    person = track(1, "person", (40, 120), walking(0, 80), TIMES)
    bag = track(2, "backpack", (20, 25), lambda t: (5 + 80 * t, 120) if t < 0.3 else
                (300 - 50 * t, 120), TIMES)
    assert carried.associate([person, bag]) == []


def test_best_of_two_close_people_is_chosen() -> None:
    carrier = track(1, "person", (40, 120), walking(100, 30), TIMES)
    neighbour = track(2, "person", (40, 120), walking(120, 10), TIMES)
    bag = track(3, "backpack", (24, 30), lambda t: (108 + 30 * t, 120), TIMES)
    (assoc,) = carried.associate([carrier, neighbour, bag])
    assert assoc.carrier == 1 and assoc.item == 3


def test_bag_left_behind_after_its_carrier_leaves() -> None:
    times = [i * 0.25 for i in range(40)]  # 10 s
    # The person walks in with the bag, puts it down at t=3 s and walks on.
    person = track(1, "person", (40, 120), lambda t: (100 + 40 * t, 100), times)
    bag = track(2, "suitcase", (24, 30),
                lambda t: (110 + 40 * min(t, 3.0), 175), times)
    out = {t.local_id: t for t in carried.apply([person, bag])}
    assert ("accessory", "suitcase") in attrs(out[1])
    assert ("left_behind", "yes") in attrs(out[2])


def test_bag_kept_to_the_end_is_not_left_behind() -> None:
    person = track(1, "person", (40, 120), walking(100, 40), TIMES)
    bag = track(2, "handbag", (18, 20), lambda t: (130 + 40 * t, 160), TIMES)
    out = {t.local_id: t for t in carried.apply([person, bag])}
    assert ("left_behind", "yes") not in attrs(out[2])


def test_still_image_uses_proximity_with_lower_trust() -> None:
    person = track(1, "person", (40, 120), walking(100, 0), [0.0])
    bag = track(2, "umbrella", (20, 60), walking(120, 0, 120), [0.0])
    (assoc,) = carried.associate([person, bag])
    assert assoc.score == pytest.approx(0.6)


def test_tracks_without_carried_objects_are_unchanged() -> None:
    tracks = [track(1, "person", (40, 120), walking(0, 10), TIMES),
              track(2, "car", (120, 60), walking(0, 30), TIMES)]
    assert carried.apply(tracks) == tracks


def test_confused_bag_kind_is_a_runner_up() -> None:
    person = track(1, "person", (40, 120), walking(100, 40), TIMES)
    bag = track(2, "suitcase", (24, 30), lambda t: (130 + 40 * t, 170), TIMES, conf=0.8)
    out = {t.local_id: t for t in carried.apply([person, bag])}
    acc = {a.value: a.confidence for a in out[1].attributes if a.name == "accessory"}
    assert set(acc) == {"suitcase", "handbag"}
    assert acc["handbag"] == pytest.approx(acc["suitcase"] * carried.SIBLING_FACTOR, abs=1e-3)
