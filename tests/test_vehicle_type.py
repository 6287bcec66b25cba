"""Van derivation from the car/truck vote mix and the boxes' shape."""

from __future__ import annotations

import pytest

from retrouve.analysis.vehicle_type import estimate
from retrouve.domain import Box, Observation


def boxes(ratio: float, n: int = 6) -> list[Observation]:
    return [Observation(i * 0.25, Box(0, 0, 100, 100 * ratio), 0.6) for i in range(n)]


@pytest.mark.parametrize(
    ("car", "truck", "ratio", "expected"),
    [
        (5.0, 0.0, 0.42, "car"),      # unanimous car, saloon side view
        (5.0, 0.0, 0.75, "car"),      # unanimous car, front view
        (0.2, 5.0, 0.60, "truck"),    # lorry: almost all truck votes
        (2.5, 2.5, 0.70, "van"),      # split votes: a van's signature
        (3.0, 2.0, 1.05, "van"),      # mostly car but tall from the front: a van
        (3.5, 1.5, 0.53, "van"),      # side view, tall for a car, some truck votes
        (4.5, 0.5, 0.40, "car"),      # a car the detector called truck once
    ],
)
def test_type_decision(car: float, truck: float, ratio: float, expected: str) -> None:
    assert estimate(car, truck, boxes(ratio)).best == expected


def test_probabilities_sum_to_one_and_rank() -> None:
    est = estimate(2.0, 1.0, boxes(0.9))
    assert sum(est.probabilities.values()) == pytest.approx(1.0)
    ranked = est.ranked()
    assert [p for _, p in ranked] == sorted((p for _, p in ranked), reverse=True)


def test_no_votes_means_car() -> None:
    assert estimate(0.0, 0.0, []).best == "car"
