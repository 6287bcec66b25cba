"""The per-track type evidence beyond one frame: several spaced views, their averaged model
answers, and the size of a vehicle against the others of its camera (pure cases)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from retrouve.analysis import relative_size, spaced_views
from retrouve.analysis.track_attributes import mean_classes, mean_scores
from retrouve.domain import Box, Observation
from retrouve.vision.packs.attributes import CropAttributes


@dataclass
class V:
    t: float
    quality: float


@pytest.mark.parametrize(
    ("offers", "kept"),
    [
        # Room for three: all kept.
        ([(0.0, 1), (2.0, 2), (4.0, 3)], [0.0, 2.0, 4.0]),
        # A better view within the spacing replaces its neighbour; a worse one is refused.
        ([(0.0, 1), (0.5, 2), (0.8, 1)], [0.5]),
        # Full: a better view far from the others replaces the worst...
        ([(0.0, 1), (2.0, 5), (4.0, 3), (6.0, 4)], [2.0, 4.0, 6.0]),
        # ...a worse one is refused.
        ([(0.0, 3), (2.0, 5), (4.0, 3), (6.0, 1)], [0.0, 2.0, 4.0]),
    ],
)
def test_spaced_views(offers: list[tuple[float, float]], kept: list[float]) -> None:
    views: list[V] = []
    for t, q in offers:
        spaced_views.offer(views, V(t, q), 3, 1.0)
    assert sorted(v.t for v in views) == kept


def _perspective_tracks(
    n: int, big: float = 1.8, w: int = 352, h: int = 288
) -> list[list[Observation]]:
    """``n`` cars whose size follows ``6 + 0.25·y1`` (px) as they come down the frame, and one
    vehicle ``big`` times that size."""
    out = []
    for k in range(n + 1):
        scale = big if k == n else 1.0 + 0.04 * ((k % 5) - 2)  # cars within ±8 %
        obs = []
        for i in range(8):
            y1 = 80.0 + 20.0 * i + 3 * k
            side = scale * (6.0 + 0.25 * y1)
            x0 = 20.0 + 25.0 * (k % 10)
            obs.append(Observation(i * 0.25, Box(x0, y1 - side, x0 + side, y1), 0.8))
        out.append(obs)
    return out


def test_relative_size_finds_the_large_vehicle() -> None:
    tracks = _perspective_tracks(10)
    line = relative_size.fit(tracks, 352, 288)
    assert line is not None
    assert line.b == pytest.approx(0.25, abs=0.03)
    ratios = [line.ratio(obs, 352, 288) for obs in tracks]
    assert all(r is not None for r in ratios)
    assert ratios[-1] == pytest.approx(1.8, abs=0.1)
    assert all(abs(r - 1.0) < 0.15 for r in ratios[:-1])  # type: ignore[operator]


def test_relative_size_needs_enough_tracks() -> None:
    assert relative_size.fit(_perspective_tracks(relative_size.MIN_TRACKS - 2), 352, 288) is None


def test_boxes_cut_by_the_frame_edge_do_not_count() -> None:
    tracks = _perspective_tracks(10)
    line = relative_size.fit(tracks, 352, 288)
    assert line is not None
    cut = [Observation(0.0, Box(0.0, 100.0, 90.0, 200.0), 0.9)]  # touches the left edge
    assert line.ratio(cut, 352, 288) is None


def test_mean_scores_counts_missing_classes_as_zero() -> None:
    assert mean_scores([{"car": 0.6}, {"car": 0.2, "bus": 0.4}]) == pytest.approx(
        {"car": 0.4, "bus": 0.2}
    )
    assert mean_scores([]) == {}


def test_mean_classes_averages_each_head() -> None:
    a = CropAttributes({"vehicle_type": (("bus", 0.9), ("car", 0.1))}, flags={"f": {"x": 0.5}})
    b = CropAttributes({"vehicle_type": (("car", 0.8), ("bus", 0.2))})
    m = mean_classes([a, b])
    assert dict(m.classes["vehicle_type"]) == pytest.approx({"bus": 0.55, "car": 0.45})
    assert m.classes["vehicle_type"][0][0] == "bus"
    assert m.flags == a.flags
    assert mean_classes([a]) is a
