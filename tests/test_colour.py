"""Colour naming on synthetic images with known colours (fast, no models)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from retrouve.domain import ACHROMATIC, COLOURS
from retrouve.vision.colour import (
    ColourEstimate,
    clothing_colour_scores,
    colour_histogram,
    decide,
    is_greyscale,
    vehicle_colour_scores,
    white_balance_gains,
)

RGB = tuple[int, int, int]
U8 = npt.NDArray[np.uint8]

ROAD: RGB = (105, 105, 108)
WINDOW: RGB = (35, 42, 50)
TYRE: RGB = (18, 18, 18)


def _noisy(img: npt.NDArray[np.float64], seed: int = 0, sigma: float = 4.0) -> U8:
    rng = np.random.default_rng(seed)
    return np.clip(img + rng.normal(0.0, sigma, img.shape), 0, 255).astype(np.uint8)


def _car(body: RGB, h: int = 120, w: int = 200, shadow: bool = False, seed: int = 0) -> U8:
    """A car box crop: roof, window band with pillars, body with grille and lights, tyres, road."""
    img = np.empty((h, w, 3), np.float64)
    img[:] = body

    def y(f: float) -> int:
        return round(f * h)

    def x(f: float) -> int:
        return round(f * w)

    img[y(0.13) : y(0.44), x(0.08) : x(0.92)] = WINDOW  # windscreen / side windows
    img[y(0.60) : y(0.68), x(0.38) : x(0.62)] = (25, 25, 25)  # grille
    img[y(0.52) : y(0.58), x(0.10) : x(0.20)] = (250, 250, 235)  # headlights
    img[y(0.52) : y(0.58), x(0.80) : x(0.90)] = (250, 250, 235)
    img[y(0.82) :, :] = ROAD
    img[y(0.80) :, x(0.08) : x(0.26)] = TYRE
    img[y(0.80) :, x(0.74) : x(0.92)] = TYRE
    img[y(0.84) : y(0.95), x(0.26) : x(0.74)] = (45, 45, 47)  # shadow under the car
    if shadow:  # left half of the car in shade: same hue, half the lightness
        img[:, : w // 2] *= 0.5
    return _noisy(img, seed)


def _person(top: RGB, bottom: RGB, h: int = 160, w: int = 64, seed: int = 1) -> U8:
    img = np.empty((h, w, 3), np.float64)
    img[:] = ROAD
    cx = w // 2
    img[round(0.02 * h) : round(0.15 * h), cx - 8 : cx + 8] = (205, 160, 130)  # head
    img[round(0.16 * h) : round(0.52 * h), cx - 18 : cx + 18] = top
    img[round(0.52 * h) : round(0.92 * h), cx - 14 : cx - 1] = bottom
    img[round(0.52 * h) : round(0.92 * h), cx + 1 : cx + 14] = bottom
    img[round(0.92 * h) :, cx - 15 : cx + 15] = (20, 20, 20)  # shoes
    return _noisy(img, seed)


def _name(scores: npt.NDArray[np.float32], weight: float = 1.0) -> str:
    est = decide(scores * weight, weight)
    assert est is not None
    return est.name


PATCHES: list[tuple[RGB, str]] = [
    ((15, 15, 15), "black"),
    ((240, 240, 240), "white"),
    ((128, 128, 128), "grey"),
    ((190, 190, 195), "grey"),  # silver
    ((200, 30, 30), "red"),
    ((130, 20, 20), "red"),  # maroon stays red
    ((240, 120, 30), "orange"),
    ((240, 210, 30), "yellow"),
    ((40, 150, 50), "green"),
    ((30, 60, 200), "blue"),
    ((20, 30, 110), "blue"),  # navy
    ((110, 70, 40), "brown"),
    ((139, 69, 19), "brown"),  # saddle brown
    ((120, 40, 150), "purple"),
    ((240, 160, 190), "pink"),
    ((255, 105, 180), "pink"),  # hot pink
]


@pytest.mark.parametrize(("rgb", "expected"), PATCHES)
def test_pure_patches(rgb: RGB, expected: str) -> None:
    hist = colour_histogram(_noisy(np.full((20, 20, 3), rgb, np.float64), sigma=2.0))
    assert hist.shape == (11,)
    assert hist.sum() == pytest.approx(1.0, abs=1e-4)
    assert COLOURS[int(np.argmax(hist))] == expected
    assert hist[COLOURS.index(expected)] > 0.7


def test_all_eleven_colours_covered() -> None:
    assert {name for _, name in PATCHES} == set(COLOURS)


def test_borderline_pixels_split() -> None:
    hist = colour_histogram(np.array([[0, 160, 160]], np.uint8))  # cyan: green/blue border
    assert hist[COLOURS.index("green")] > 0.2 and hist[COLOURS.index("blue")] > 0.2
    assert colour_histogram(np.zeros((0, 3), np.uint8)).sum() == 0.0


CARS: list[tuple[RGB, str]] = [
    ((190, 25, 30), "red"),
    ((235, 235, 232), "white"),
    ((30, 60, 170), "blue"),
    ((22, 22, 24), "black"),
    ((125, 125, 128), "grey"),
    ((180, 180, 185), "grey"),  # silver
    ((235, 200, 20), "yellow"),
    ((30, 120, 50), "green"),
    ((230, 110, 20), "orange"),
]


@pytest.mark.parametrize(("body", "expected"), CARS)
def test_car_body_colour(body: RGB, expected: str) -> None:
    scores, weight = vehicle_colour_scores(_car(body))
    assert 0.5 < weight <= 1.0
    assert _name(scores, weight) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ((190, 25, 30), "red"),
        ((30, 60, 170), "blue"),
        ((235, 200, 20), "yellow"),
        ((230, 110, 20), "orange"),
        ((30, 120, 50), "green"),
        ((235, 235, 232), "white"),
    ],
)
def test_car_half_in_shadow_keeps_its_colour(body: RGB, expected: str) -> None:
    scores, weight = vehicle_colour_scores(_car(body, shadow=True))
    assert _name(scores, weight) == expected


def test_foreground_mask_down_weights_background() -> None:
    # A red car filling only the middle third of a wide box; the rest is a green hedge.
    car = _car((190, 25, 30), h=120, w=100)
    crop = _noisy(np.full((120, 300, 3), (40, 140, 45), np.float64), seed=3)
    crop[:, 100:200] = car
    fg = np.zeros((120, 300), bool)
    fg[:, 100:200] = True
    with_mask, _ = vehicle_colour_scores(crop, foreground=fg)
    without, _ = vehicle_colour_scores(crop)
    red, green = COLOURS.index("red"), COLOURS.index("green")
    assert _name(with_mask) == "red"
    assert with_mask[green] < without[green] and with_mask[red] > without[red]


def _cast_scene(cast: tuple[float, float, float]) -> tuple[U8, U8]:
    """A frame of random patches plus a white car, both seen under the same colour cast."""
    rng = np.random.default_rng(7)
    patches = rng.integers(30, 220, (12, 16, 3)).astype(np.float64)
    frame = np.kron(patches, np.ones((20, 20, 1)))
    car = _car((235, 235, 232)).astype(np.float64)
    frame[100:220, 100:300] = car
    cast_arr = np.array(cast)
    return _noisy(frame * cast_arr, seed=5), _noisy(car * cast_arr, seed=6)


def test_white_balance_undoes_blue_cast() -> None:
    frame, car = _cast_scene((0.82, 0.92, 1.1))
    gains = white_balance_gains(frame)
    assert gains.shape == (3,) and gains.dtype == np.float32
    assert gains[0] > gains[2]  # red boosted, blue attenuated
    assert _name(vehicle_colour_scores(car)[0]) != "white"  # the cast alone misleads
    assert _name(vehicle_colour_scores(car, gains=gains)[0]) == "white"


def test_white_balance_neutral_frame_is_identity() -> None:
    grey = np.repeat(np.random.default_rng(2).integers(20, 230, (90, 120, 1)), 3, axis=2)
    gains = white_balance_gains(grey.astype(np.uint8))
    assert np.allclose(gains, 1.0, atol=0.02)


def test_person_upper_lower() -> None:
    cases: list[tuple[RGB, RGB, str, str]] = [
        ((200, 30, 30), (30, 50, 150), "red", "blue"),
        ((110, 70, 40), (40, 60, 110), "brown", "blue"),  # brown jacket, blue jeans
        ((235, 235, 235), (20, 20, 22), "white", "black"),
    ]
    for top, bottom, up_name, low_name in cases:
        (up, wu), (low, wl) = clothing_colour_scores(_person(top, bottom))
        assert wu > 0.5 and wl > 0.5
        assert (_name(up, wu), _name(low, wl)) == (up_name, low_name)


def test_greyscale_footage() -> None:
    colour_frame, _ = _cast_scene((1.0, 1.0, 1.0))
    grey_frame = np.repeat(colour_frame.mean(axis=2, keepdims=True), 3, axis=2)
    grey_frame = _noisy(grey_frame, seed=9, sigma=1.0)
    assert is_greyscale(grey_frame)
    assert not is_greyscale(colour_frame)
    # Even a strongly red car yields only black/white/grey, with lowered confidence.
    scores, _ = vehicle_colour_scores(_car((190, 25, 30)), greyscale=True)
    assert all(scores[COLOURS.index(c)] == 0.0 for c in COLOURS if c not in ACHROMATIC)
    red_scores = np.zeros(11, np.float32)
    red_scores[COLOURS.index("red")] = 0.8
    red_scores[COLOURS.index("grey")] = 0.2
    est = decide(red_scores * 3.0, 3.0, greyscale=True)
    assert est is not None and est.name == "grey"
    colour_est = decide(red_scores * 3.0, 3.0)
    assert colour_est is not None and est.confidence < colour_est.confidence
    assert decide(_one_hot("blue"), 1.0, greyscale=True) is None


def _one_hot(name: str) -> npt.NDArray[np.float32]:
    s = np.zeros(11, np.float32)
    s[COLOURS.index(name)] = 1.0
    return s


def test_empty_crops_and_no_evidence() -> None:
    empty = np.zeros((0, 0, 3), np.uint8)
    scores, weight = vehicle_colour_scores(empty)
    assert weight == 0.0 and scores.sum() == 0.0
    (up, wu), (low, wl) = clothing_colour_scores(empty)
    assert wu == 0.0 and wl == 0.0 and up.sum() == 0.0 and low.sum() == 0.0
    assert decide(np.zeros(11, np.float32), 0.0) is None
    assert decide(_one_hot("red"), 0.0) is None


def test_decide_confidence_grows_with_evidence() -> None:
    scores = _one_hot("red") * 0.7 + _one_hot("orange") * 0.3
    weak, strong = decide(scores * 0.5, 0.5), decide(scores * 5.0, 5.0)
    assert isinstance(weak, ColourEstimate) and isinstance(strong, ColourEstimate)
    assert weak.name == strong.name == "red"
    assert weak.confidence < strong.confidence <= 0.7
    assert strong.scores.sum() == pytest.approx(1.0)


def test_tiny_car_has_little_weight() -> None:
    _, big = vehicle_colour_scores(_car((190, 25, 30)))
    _, tiny = vehicle_colour_scores(_car((190, 25, 30), h=12, w=20))
    assert 0.0 < tiny < big
