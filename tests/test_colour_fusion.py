"""Colour fusion: pixel statistics with a pack's 7-term colour head; sample-point votes."""

from __future__ import annotations

import numpy as np
import pytest

from retrouve.analysis.colour_fusion import (
    add_point_vote,
    fuse_vehicle_colour,
    pack_distribution,
    point_colour,
    point_patch,
)
from retrouve.domain import COLOURS


def dist(**shares: float) -> np.ndarray:
    v = np.zeros(len(COLOURS))
    for k, p in shares.items():
        v[COLOURS.index(k)] = p
    return v


def best(scores: np.ndarray) -> str:
    return COLOURS[int(np.argmax(scores))]


@pytest.mark.parametrize(
    ("pixels", "weight", "head", "expected"),
    [
        # Silver: the pixels hesitate between white and grey, the pack settles it.
        (dist(white=0.48, grey=0.52), 1.0, {"white": 0.9, "gray": 0.1}, "white"),
        # A brown car: the pack cannot say brown, so brown stays the pixels' call.
        (dist(brown=0.7, red=0.2, orange=0.1), 1.0, {"red": 0.9, "black": 0.1}, "brown"),
        # Pixels red, pack red: red.
        (dist(red=0.8, black=0.2), 1.0, {"red": 0.95, "black": 0.05}, "red"),
        # Pixels disagree with a confident pack on a known term: the blend wins (blue).
        (dist(black=0.55, blue=0.45), 1.0, {"blue": 0.9, "black": 0.1}, "blue"),
        # No pack: the pixels as they are.
        (dist(green=0.6, grey=0.4), 1.0, None, "green"),
        # No pixel evidence: the pack alone.
        (dist(), 0.0, {"yellow": 0.8, "white": 0.2}, "yellow"),
    ],
)
def test_vehicle_colour_fusion(pixels: np.ndarray, weight: float,
                               head: dict[str, float] | None, expected: str) -> None:
    vote = fuse_vehicle_colour(pixels * max(weight, 1.0), weight, head)
    assert best(vote.scores) == expected
    assert float(vote.scores.sum()) == pytest.approx(1.0)
    assert vote.weight > 0


def test_unknown_terms_keep_their_pixel_share() -> None:
    pixels = dist(pink=0.3, red=0.4, white=0.3)
    head = {"white": 1.0, "gray": 0.0, "yellow": 0.0, "red": 0.0, "green": 0.0, "blue": 0.0,
            "black": 0.0}  # a head lists all its labels
    vote = fuse_vehicle_colour(pixels, 1.0, head)
    assert vote.scores[COLOURS.index("pink")] == pytest.approx(0.3)
    # The pack moved mass from red to white within the 0.7 share it can speak about.
    assert vote.scores[COLOURS.index("white")] > 0.4 > vote.scores[COLOURS.index("red")]


def test_pack_adds_evidence_weight() -> None:
    alone = fuse_vehicle_colour(dist(red=1.0), 1.0, None)
    fused = fuse_vehicle_colour(dist(red=1.0), 1.0, {"red": 1.0})
    assert fused.weight > alone.weight


def test_nothing_known_gives_no_weight() -> None:
    assert fuse_vehicle_colour(dist(), 0.0, None).weight == 0.0
    assert fuse_vehicle_colour(dist(), 0.0, {"mauve": 1.0}).weight == 0.0


def test_pack_distribution_maps_gray_to_grey_and_ignores_unknown() -> None:
    q, known = pack_distribution({"gray": 0.5, "black": 0.5, "mauve": 3.0})
    assert q[COLOURS.index("grey")] == pytest.approx(0.5)
    assert int(known.sum()) == 2


def test_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="expected 11"):
        fuse_vehicle_colour(np.ones(7), 1.0, None)


def person_crop() -> np.ndarray:
    crop = np.zeros((80, 40, 3), np.uint8)
    crop[:40] = (200, 20, 20)   # red top
    crop[40:] = (20, 30, 180)   # blue trousers
    return crop


@pytest.mark.parametrize(
    ("point", "expected"),
    [((20.0, 15.0), "red"), ((20.0, 65.0), "blue")],
)
def test_point_colour_samples_the_patch(point: tuple[float, float], expected: str) -> None:
    hist = point_colour(person_crop(), point)
    assert hist is not None and best(hist) == expected


def test_point_outside_the_crop_gives_nothing() -> None:
    assert point_patch(person_crop(), (500.0, 500.0)).shape == (0, 3)
    assert point_colour(person_crop(), (500.0, 500.0)) is None


def test_point_colour_on_greyscale_keeps_achromatic_terms_only() -> None:
    hist = point_colour(person_crop(), (20.0, 15.0), greyscale=True)
    assert hist is None or best(hist) in ("black", "white", "grey")


def test_point_vote_adds_one_weighted_vote() -> None:
    s, w = add_point_vote(dist(red=2.0), 2.0, dist(blue=1.0).astype(np.float32), 0.5)
    assert w == pytest.approx(2.5)
    assert s[COLOURS.index("blue")] == pytest.approx(0.5)
    same, w0 = add_point_vote(dist(red=2.0), 2.0, None)
    assert w0 == 2.0 and same[COLOURS.index("red")] == 2.0
