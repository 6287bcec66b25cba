"""The :class:`Classifier` seam: labels for crops (make/model of a vehicle), with a fake.

The default is an installed ``classifier`` pack
(:class:`retrouve.vision.packs.onnx_classifier.OnnxClassifier`); :class:`FakeClassifier` is
the scripted stand-in for tests. For ``make_model`` the labels read ``"Make|Model"`` (see
:func:`retrouve.vision.packs.manifest.split_make_model`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt


class Classifier(Protocol):
    """Labels one track attribute (``attribute``, e.g. ``"make_model"``) from RGB uint8 crops
    ``(h, w, 3)`` of any size.

    ``classify`` returns, per crop, ``(label, probability 0..1)`` pairs, best first (at most
    the classifier's top-k; probabilities of one crop sum to ≤ 1).
    """

    name: str
    version: str
    attribute: str

    def classify(self, crops: Sequence[npt.NDArray[np.uint8]]
                 ) -> list[list[tuple[str, float]]]: ...


class FakeClassifier:
    """Test fake: every crop gets ``answer`` (``(label, probability)`` pairs, best first).

    ``seen`` counts the crops classified so far (tests check which tracks were offered).
    """

    name = "fake-classifier"
    version = "1"

    def __init__(self, answer: Sequence[tuple[str, float]] = (("Renault|Clio", 0.9),),
                 attribute: str = "make_model") -> None:
        for label, p in answer:
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"probability of {label!r} must be in 0..1, got {p}")
        self.answer = sorted(answer, key=lambda lp: -lp[1])
        self.attribute = attribute
        self.seen = 0

    def classify(self, crops: Sequence[npt.NDArray[np.uint8]]
                 ) -> list[list[tuple[str, float]]]:
        self.seen += len(crops)
        return [list(self.answer) for _ in crops]
