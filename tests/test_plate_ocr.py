"""Plate OCR: the RawRead value, CTC decoding, line merging, the fake, and (integration) the
RapidOCR reader on synthetic plates drawn on a grey "car"."""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from retrouve.domain import Box
from retrouve.errors import ModelError
from retrouve.vision.plates.ocr import (
    FakePlateReader,
    RapidOcrPlateReader,
    RawRead,
    ctc_decode,
    looks_like_plate,
    merge_lines,
)


def test_raw_read_from_text_normalises_and_keeps_char_confidences() -> None:
    raw = "f ab-123-cd"
    r = RawRead.from_text(raw, char_conf=[i / 10 for i in range(len(raw))])
    assert r.text == "AB123CD"
    assert r.chars == (("A", 0.2), ("B", 0.3), ("1", 0.5), ("2", 0.6), ("3", 0.7),
                       ("C", 0.9), ("D", 1.0))
    assert r.confidence == pytest.approx(sum(c for _, c in r.chars) / len(r.chars))


def test_raw_read_checks_chars_against_text() -> None:
    with pytest.raises(ValueError, match="chars spell"):
        RawRead("AB12", (("A", 1.0),), 1.0, Box(0, 0, 1, 1))
    with pytest.raises(ValueError, match=r"0\.\.1"):
        RawRead("A", (("A", 1.0),), 1.5, Box(0, 0, 1, 1))


def test_shifted_moves_the_box_only() -> None:
    r = RawRead.from_text("AB-123-CD", 0.8, Box(10, 20, 50, 30)).shifted(100, 200)
    assert r.box == Box(110, 220, 150, 230)
    assert r.text == "AB123CD"


@pytest.mark.parametrize(
    ("text", "ok"),
    [("AB123CD", True), ("1234AB75", True), ("AB1", False), ("ABCDEFG", False),
     ("12345678901", False), ("1A01", True)],
)
def test_looks_like_plate(text: str, ok: bool) -> None:
    assert looks_like_plate(text) is ok


def _probs(steps: list[tuple[int, float]], classes: int = 5) -> npt.NDArray[np.float32]:
    out = np.zeros((len(steps), classes), np.float32)
    for t, (k, p) in enumerate(steps):
        out[t] = (1.0 - p) / (classes - 1)
        out[t, k] = p
    return out


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([(1, 0.9), (0, 0.99), (2, 0.8)], [("A", 0.9), ("B", 0.8)]),
        # A run of the same class is one character; its confidence is the run's best step.
        ([(1, 0.5), (1, 0.9), (1, 0.7)], [("A", 0.9)]),
        # A blank between equal classes makes two characters.
        ([(3, 0.6), (0, 0.9), (3, 0.7)], [("1", 0.6), ("1", 0.7)]),
        ([(0, 0.9), (0, 0.9)], []),
    ],
)
def test_ctc_decode(steps: list[tuple[int, float]], expected: list[tuple[str, float]]) -> None:
    got = ctc_decode(_probs(steps), ["blank", "A", "B", "1", " "])
    assert [c for c, _ in got] == [c for c, _ in expected]
    assert [p for _, p in got] == pytest.approx([p for _, p in expected])


def _quad(x0: float, y0: float, x1: float, y1: float) -> npt.NDArray[np.float32]:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)


@pytest.mark.parametrize(
    ("quads", "n_out"),
    [
        ([_quad(0, 0, 40, 20), _quad(50, 1, 90, 21)], 1),  # same line, small gap
        ([_quad(0, 0, 40, 20), _quad(80, 0, 120, 20)], 2),  # gap of 2 heights
        ([_quad(0, 0, 40, 20), _quad(0, 40, 40, 60)], 2),  # two lines
        ([_quad(0, 0, 40, 20), _quad(45, 0, 80, 20), _quad(85, 0, 120, 20)], 1),
    ],
)
def test_merge_lines(quads: list[npt.NDArray[np.float32]], n_out: int) -> None:
    out = merge_lines(quads)
    assert len(out) == n_out
    if n_out == 1:
        xs, ys = out[0][:, 0], out[0][:, 1]
        assert xs.min() <= 0.5 and xs.max() >= max(q[:, 0].max() for q in quads) - 0.5
        assert ys.min() <= min(q[:, 1].min() for q in quads) + 0.5


def test_fake_reader_replays_its_script() -> None:
    a = RawRead.from_text("AB-123-CD")
    b = RawRead.from_text("1234 AB 75")
    fake = FakePlateReader([[a], [], [a, b]], default=[b])
    crop = np.zeros((40, 80, 3), np.uint8)
    assert [fake.read(crop) for _ in range(4)] == [[a], [], [a, b], [b]]
    assert fake.crops == [(40, 80, 3)] * 4
    with pytest.raises(ValueError, match="uint8"):
        fake.read(np.zeros((40, 80), np.uint8))


def test_missing_package_raises_model_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def fake_import(name: str, package: str | None = None) -> Any:
        if name == "rapidocr_onnxruntime":
            raise ImportError(name)
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", fake_import)
    with pytest.raises(ModelError, match=r"pip install --no-deps rapidocr-onnxruntime==1\.4\.4"):
        RapidOcrPlateReader()


# --- integration: the real PP-OCRv4 models -------------------------------------------------


def car_with_plate(text: str, band: str | None = None) -> npt.NDArray[np.uint8]:
    """A 480x360 grey "car" (RGB) with a white plate low in the middle, black Hershey text, and
    optionally a blue EU band with a country code at the plate's left."""
    img = np.full((360, 480, 3), 110, np.uint8)
    cv2.rectangle(img, (60, 60), (420, 200), (70, 70, 80), -1)  # windscreen
    cv2.rectangle(img, (110, 250), (370, 296), (255, 255, 255), -1)
    x = 122
    if band is not None:
        cv2.rectangle(img, (110, 250), (138, 296), (0, 51, 153), -1)
        cv2.putText(img, band, (114, 290), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
        x = 146
    cv2.putText(img, text, (x, 286), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 2)
    return img


@pytest.fixture(scope="module")
def reader() -> Iterator[RapidOcrPlateReader]:
    pytest.importorskip("rapidocr_onnxruntime")
    yield RapidOcrPlateReader()


@pytest.mark.integration
@pytest.mark.parametrize(
    ("text", "band", "expected"),
    [
        ("AB-123-CD", None, "AB123CD"),
        ("1234 AB 75", None, "1234AB75"),
        ("GH-405-KL", "F", "GH405KL"),
    ],
)
def test_rapidocr_reads_synthetic_plates(
    reader: RapidOcrPlateReader, text: str, band: str | None, expected: str
) -> None:
    img = car_with_plate(text, band)
    t0 = time.perf_counter()
    reads = reader.read(img)
    elapsed = time.perf_counter() - t0
    assert reads, "no plate read"
    best = reads[0]
    assert best.text == expected
    assert best.confidence > 0.8
    assert len(best.chars) == len(best.text)
    # The box is the text line on the drawn plate (110, 250)-(370, 296), in crop pixels.
    b = best.box
    assert b.x0 >= 104 and b.x1 <= 376 and b.y0 >= 244 and b.y1 <= 302
    assert b.width > 150 and b.height > 20
    assert elapsed < 2.0


@pytest.mark.integration
def test_rapidocr_lower_fraction_and_plain_cars(reader: RapidOcrPlateReader) -> None:
    img = np.full((360, 480, 3), 110, np.uint8)
    cv2.putText(img, "AB-123-CD", (120, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 2)
    assert [r.text for r in reader.read(img)] == ["AB123CD"]
    assert RapidOcrPlateReader(lower_fraction=2 / 3).read(img) == []
    assert reader.read(np.full((360, 480, 3), 110, np.uint8)) == []
    assert reader.read(np.zeros((4, 4, 3), np.uint8)) == []
