"""Vehicle type per track from votes (crop SSD, type head, box shape, motion): pure cases."""

from __future__ import annotations

import pytest

from retrouve.analysis.type_vote import (
    TypeEvidence,
    crop_ssd_vote,
    decide_type,
    motion_vote,
    pool,
    size_vote,
    speed,
)
from retrouve.domain import Box, Observation


def boxes(ratio: float, n: int = 6, dx: float = 0.0, h: float = 50.0) -> list[Observation]:
    """``n`` boxes 0.25 s apart, height/width ``ratio``, moving ``dx`` px per sample."""
    w = h / ratio
    return [Observation(i * 0.25, Box(i * dx, 0, i * dx + w, h), 0.6) for i in range(n)]


SIDE_CAR = boxes(0.42)
FRONT_VAN = boxes(1.05)


@pytest.mark.parametrize(
    ("family", "ssd", "head", "obs", "best", "second"),
    [
        # The crop SSD sees a bus clearly and the head agrees: bus, car runner-up.
        ("vehicle", {"bus": 0.9}, {"car": 0.3, "van": 0.05, "truck": 0.05, "bus": 0.6},
         SIDE_CAR, "bus", "car"),
        # One vote for bus against a head sure of car and the prior: car, bus runner-up.
        ("vehicle", {"bus": 0.8, "car": 0.1}, {"car": 0.7, "bus": 0.1, "van": 0.1,
                                                "truck": 0.1}, SIDE_CAR, "car", "bus"),
        # SSD and head say truck: truck.
        ("vehicle", {"truck": 0.7, "car": 0.05}, {"car": 0.3, "van": 0.05, "truck": 0.6,
                                                   "bus": 0.05}, boxes(0.6), "truck", "car"),
        # A tall box the head calls van: head and shape outvote a weak SSD "car".
        ("vehicle", {"car": 0.3}, {"car": 0.1, "van": 0.8, "truck": 0.05, "bus": 0.05},
         FRONT_VAN, "van", "car"),
        # A head sure of bus, nothing else: bus, car (the prior) runner-up.
        ("vehicle", {}, {"car": 0.1, "van": 0.1, "truck": 0.1, "bus": 0.7}, SIDE_CAR,
         "bus", "car"),
        # ...but a head unsure of bus does not outvote the prior.
        ("vehicle", {}, {"car": 0.2, "van": 0.2, "truck": 0.2, "bus": 0.4}, SIDE_CAR,
         "car", "bus"),
        # Nothing at all: the prior (most tracks are cars, then trucks).
        ("vehicle", {}, {}, [], "car", "truck"),
        # Two-wheelers: the crop SSD tells a motorcycle from a bicycle.
        ("bike", {"motorcycle": 0.6, "bicycle": 0.1}, {}, boxes(1.5), "motorcycle",
         "bicycle"),
        ("bike", {"bicycle": 0.7}, {}, boxes(1.5), "bicycle", "motorcycle"),
        # No SSD answer: a fast two-wheeler (8 heights/s) is a motorcycle...
        ("bike", {}, {}, boxes(1.5, dx=100.0), "motorcycle", "bicycle"),
        # ...a slow one a bicycle.
        ("bike", {}, {}, boxes(1.5, dx=10.0), "bicycle", "motorcycle"),
    ],
)
def test_type_decision(family: str, ssd: dict[str, float], head: dict[str, float],
                       obs: list[Observation], best: str, second: str | None) -> None:
    d = decide_type(TypeEvidence(family, ssd, head, obs))
    assert "size" not in d.sources
    assert d.best == best
    if second is not None:
        assert d.ranked[1][0] == second
    assert sum(p for _, p in d.ranked) == pytest.approx(1.0)
    assert [p for _, p in d.ranked] == sorted((p for _, p in d.ranked), reverse=True)


@pytest.mark.parametrize(
    ("ssd", "head", "obs", "sources"),
    [
        ({"car": 0.5}, {"car": 1.0}, SIDE_CAR, ("crop_ssd", "shape", "type_head")),
        ({"car": 0.5}, {}, [], ("crop_ssd",)),
        ({}, {"car": 1.0}, SIDE_CAR, ("shape", "type_head")),
        ({}, {}, [], ()),
    ],
)
def test_sources_say_which_votes_spoke(ssd: dict[str, float], head: dict[str, float],
                                       obs: list[Observation], sources: tuple[str, ...]
                                       ) -> None:
    assert decide_type(TypeEvidence("vehicle", ssd, head, obs)).sources == sources


def probability(ssd: dict[str, float], head: dict[str, float], t: str) -> float:
    return dict(decide_type(TypeEvidence("vehicle", ssd, head, SIDE_CAR)).ranked)[t]


def test_bus_probability_grows_with_agreement_and_ssd_confidence() -> None:
    weak = probability({"bus": 0.2}, {}, "bus")
    strong = probability({"bus": 0.9}, {}, "bus")
    both = probability({"bus": 0.9}, {"bus": 0.9, "car": 0.1}, "bus")
    assert weak < strong < both


def test_crop_ssd_vote_abstains_without_vehicle_scores() -> None:
    assert crop_ssd_vote({"person": 0.9}) is None
    sure = crop_ssd_vote({"bus": 1.0})
    assert sure is not None and max(sure, key=sure.__getitem__) == "bus"
    assert sum(sure.values()) == pytest.approx(1.0)
    vague = crop_ssd_vote({"bus": 0.1})
    assert vague is not None and vague["bus"] < sure["bus"]


def test_floor_keeps_one_source_from_vetoing() -> None:
    p = pool([({"car": 1.0, "bus": 0.0}, 1.0)], ("car", "bus"), {"car": 0.5, "bus": 0.5})
    assert 0.0 < p["bus"] < p["car"]


@pytest.mark.parametrize(
    ("obs", "expected"),
    [([], None), (boxes(1.0, n=1), None), (boxes(1.0, dx=50.0), pytest.approx(4.0))],
)
def test_speed_in_heights_per_second(obs: list[Observation], expected: object) -> None:
    assert speed(obs) == expected


def test_motion_vote_none_without_motion_samples() -> None:
    assert motion_vote([]) is None


def test_unknown_family_is_refused() -> None:
    with pytest.raises(ValueError, match="family"):
        TypeEvidence("boat")


@pytest.mark.parametrize(
    ("ratio", "head", "best", "second"),
    [
        # As large as the vehicles around it: a car.
        (0.95, {}, "car", "van"),
        # Twice as large: a bus or a truck, never a car, even against a head that says car.
        (2.0, {}, "bus", "truck"),
        (1.9, {"car": 0.6, "van": 0.1, "truck": 0.1, "bus": 0.2}, "bus", "truck"),
        # A third larger, the head says truck: truck.
        (1.35, {"car": 0.2, "van": 0.1, "truck": 0.6, "bus": 0.1}, "truck", None),
        # Smaller than its neighbours: a car whatever the weak head says.
        (0.7, {"car": 0.3, "van": 0.2, "truck": 0.2, "bus": 0.3}, "car", None),
    ],
)
def test_relative_size_votes(ratio: float, head: dict[str, float], best: str,
                             second: str | None) -> None:
    d = decide_type(TypeEvidence("vehicle", {}, head, SIDE_CAR, ratio))
    assert "size" in d.sources
    assert d.best == best
    if second is not None:
        assert d.ranked[1][0] == second


@pytest.mark.parametrize("ratio", [None, 0.0, -1.0])
def test_no_size_vote_without_a_ratio(ratio: float | None) -> None:
    assert size_vote(ratio) is None


def test_size_vote_is_a_distribution_ordered_by_size() -> None:
    small, large = size_vote(0.9), size_vote(1.8)
    assert small is not None and large is not None
    assert sum(small.values()) == pytest.approx(1.0)
    assert max(small, key=small.__getitem__) == "car"
    assert max(large, key=large.__getitem__) == "bus"
    assert large["truck"] > large["van"] > large["car"]
