"""The built-in appearance vector: same clothing → similar, different clothing → not."""

from __future__ import annotations

import numpy as np
import pytest

from retrouve.vision import appearance


def person(upper: tuple[int, int, int], lower: tuple[int, int, int], noise: int = 0,
           seed: int = 0) -> np.ndarray:
    img = np.zeros((120, 40, 3), np.int16)
    img[:20] = (200, 170, 150)  # head: excluded from the vector
    img[20:66] = upper
    img[66:] = lower
    if noise:
        img += np.random.default_rng(seed).integers(-noise, noise + 1, img.shape, dtype=np.int16)
    return np.clip(img, 0, 255).astype(np.uint8)


def cos(a: np.ndarray, b: np.ndarray) -> float:
    va = appearance.normalise(a)
    vb = appearance.normalise(b)
    assert va is not None and vb is not None
    return float(va @ vb)


def test_same_clothes_under_noise_are_similar() -> None:
    a = appearance.appearance_vector(person((150, 30, 30), (30, 40, 120), 12, 1), True)
    b = appearance.appearance_vector(person((150, 30, 30), (30, 40, 120), 12, 2), True)
    assert a is not None and b is not None
    assert cos(a, b) > 0.9


@pytest.mark.parametrize("other", [((30, 40, 120), (150, 30, 30)),   # swapped top/bottom
                                   ((40, 140, 40), (30, 40, 120)),   # different top
                                   ((20, 20, 20), (230, 230, 230))])  # achromatic
def test_different_clothes_are_not(other: tuple[tuple[int, int, int], ...]) -> None:
    a = appearance.appearance_vector(person((150, 30, 30), (30, 40, 120)), True)
    b = appearance.appearance_vector(person(*other), True)
    assert a is not None and b is not None
    assert cos(a, b) < 0.6


def test_head_does_not_count() -> None:
    a = person((150, 30, 30), (30, 40, 120))
    b = a.copy()
    b[:20] = (20, 200, 20)
    va, vb = appearance.appearance_vector(a, True), appearance.appearance_vector(b, True)
    assert va is not None and vb is not None
    assert cos(va, vb) > 0.99


def test_vectors_round_trip_bytes_and_tiny_crops_give_none() -> None:
    v = appearance.appearance_vector(person((150, 30, 30), (30, 40, 120)), True)
    assert v is not None and v.shape == (appearance.DIM,)
    assert np.array_equal(appearance.from_bytes(appearance.to_bytes(v)), v)
    assert appearance.appearance_vector(np.zeros((4, 4, 3), np.uint8), True) is None
    assert appearance.normalise(np.zeros(appearance.DIM, np.float32)) is None
