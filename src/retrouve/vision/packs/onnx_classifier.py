"""Classifier packs (``softmax`` format): one label per crop for one track attribute.

A classifier pack fills ``manifest.attribute`` (``make_model``, ``upper_type``…) from crops
(RGB uint8 ``(h, w, 3)``, any size: each is resized to the pack's input by its ``preprocess``).
For ``make_model`` the labels read ``"Make|Model"`` (see
:func:`retrouve.vision.packs.manifest.split_make_model`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from retrouve.errors import PackError
from retrouve.vision.packs.registry import InstalledPack
from retrouve.vision.packs.runtime import (
    batch_size,
    open_session,
    pack_label,
    run_images,
)


def softmax(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Row-wise softmax of ``(N, K)`` logits, numerically stable."""
    e: npt.NDArray[np.float32] = np.exp(x - x.max(axis=1, keepdims=True))
    out: npt.NDArray[np.float32] = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    return out


class OnnxClassifier:
    """A ``classifier`` pack. ``top_k`` labels per crop; see :class:`PackDetector` for
    ``providers`` and ``threads``."""

    def __init__(
        self,
        pack: InstalledPack,
        *,
        top_k: int = 5,
        providers: Sequence[str] | None = None,
        threads: int | None = None,
    ) -> None:
        m = pack.manifest
        self._what = pack_label(m)
        if m.task != "classifier":
            raise PackError(f"{self._what}: is a {m.task} pack, not a classifier")
        assert m.preprocess is not None and m.attribute is not None  # manifest validation
        self.name = m.name
        self.version = m.version
        self.attribute: str = m.attribute
        self.labels: tuple[str, ...] = tuple(m.labels)
        self.top_k = max(1, min(top_k, len(m.labels)))
        self._manifest = m
        self._pre = m.preprocess
        graph = m.graphs["model"]
        self._input = graph.inputs[0]
        self._output = graph.outputs[0].name
        self._batch = batch_size(m, "model")
        self._fixed = self._input.fixed(0) is not None
        self._session = open_session(m, pack.path, "model", providers, threads)

    def probabilities(self, crops: Sequence[npt.NDArray[np.uint8]]) -> npt.NDArray[np.float32]:
        """Class probabilities ``(N, K)`` float32 (rows sum to 1), ``K = len(labels)``."""
        if not crops:
            return np.zeros((0, len(self.labels)), np.float32)
        out = run_images(self._session, self._input, self._output, crops, self._pre,
                         self._batch, self._fixed, self._what)
        if out.ndim != 2 or out.shape[1] != len(self.labels):
            raise PackError(f"{self._what}: output {tuple(out.shape)} does not match "
                            f"{len(self.labels)} labels")
        return softmax(out) if self._manifest.apply_softmax else out

    def classify(self, crops: Sequence[npt.NDArray[np.uint8]]) -> list[list[tuple[str, float]]]:
        """For each RGB uint8 crop, the ``top_k`` ``(label, probability)`` pairs, best first."""
        probs = self.probabilities(crops)
        order = np.argsort(-probs, axis=1, kind="stable")[:, :self.top_k]
        return [[(self.labels[int(j)], float(row[j])) for j in idx]
                for row, idx in zip(probs, order, strict=True)]
