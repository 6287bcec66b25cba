"""Model packs in the analysis: which installed packs a run uses, loaded once per process.

The services resolve the selection from the registry (:func:`select_packs`) into
``AnalysisSettings.packs`` — plain paths, so a worker process or a cluster node rebuilds the
same models from the settings it was shipped, and the run records exactly which packs it used.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from retrouve.config import AnalysisSettings, PackSelection
from retrouve.domain import Attribute
from retrouve.vision.detector import Detector
from retrouve.vision.packs import InstalledPack, PackRegistry, split_make_model
from retrouve.vision.packs.manifest import MAKE_MODEL_ATTRIBUTES

if TYPE_CHECKING:
    from retrouve.vision.packs.onnx_classifier import OnnxClassifier
    from retrouve.vision.packs.onnx_embedder import ClipEmbedder

#: Make/model labels below this probability are not stored (noise, not evidence).
MIN_MAKE_MODEL = 0.1


def select_packs(registry: PackRegistry) -> PackSelection:
    """The most recently installed pack of each task the analysis can use."""
    det = registry.active("detector")
    mm = next((p for a in sorted(MAKE_MODEL_ATTRIBUTES)
               if (p := registry.active("classifier", a)) is not None), None)
    emb = registry.active("embedder")
    return PackSelection(detector=det.path if det else None, make_model=mm.path if mm else None,
                         embedder=emb.path if emb else None)


def describe(selection: PackSelection) -> dict[str, str]:
    """``{role: "name@version"}`` of the selected packs (recorded with each run)."""
    out = {}
    for role in ("detector", "make_model", "embedder"):
        folder = getattr(selection, role)
        if folder is not None:
            pack = InstalledPack.load(Path(folder))
            out[f"pack_{role}"] = f"{pack.name}@{pack.version}"
    return out


@functools.lru_cache(maxsize=2)
def _detector(folder: str, threshold: float) -> Detector:
    from retrouve.vision.packs.onnx_detector import OnnxDetector

    return OnnxDetector(InstalledPack.load(Path(folder)), threshold=threshold)


def pack_detector(settings: AnalysisSettings) -> Detector | None:
    """The selected detector pack (cached per process), or ``None`` for the built-in one."""
    if not settings.use_packs or settings.packs.detector is None:
        return None
    return _detector(str(settings.packs.detector), settings.detect_threshold)


class PackModels:
    """The per-track models of the selected packs: make/model classifier, image embedder."""

    def __init__(self, settings: AnalysisSettings) -> None:
        sel = settings.packs if settings.use_packs else PackSelection()
        self.make_model: OnnxClassifier | None = (
            _classifier(str(sel.make_model)) if sel.make_model else None)
        self.embedder: ClipEmbedder | None = _embedder(str(sel.embedder)) if sel.embedder else None

    @property
    def any(self) -> bool:
        return self.make_model is not None or self.embedder is not None

    def make_model_attributes(self, crops: Sequence[npt.NDArray[np.uint8]]
                              ) -> list[list[Attribute]]:
        """``make``/``model`` attributes (lower-case values) per vehicle crop."""
        if self.make_model is None or not crops:
            return [[] for _ in crops]
        out = []
        for labels in self.make_model.classify(list(crops)):
            makes: dict[str, float] = {}
            models: dict[str, float] = {}
            for label, p in labels:
                make, model = split_make_model(label)
                makes[make.lower()] = makes.get(make.lower(), 0.0) + p
                models[model.lower()] = max(models.get(model.lower(), 0.0), p)
            attrs = [Attribute("make", k, round(v, 4)) for k, v in makes.items()
                     if v >= MIN_MAKE_MODEL]
            attrs += [Attribute("model", k, round(v, 4)) for k, v in models.items()
                      if v >= MIN_MAKE_MODEL]
            out.append(attrs)
        return out

    def embed(self, crops: Sequence[npt.NDArray[np.uint8]]) -> tuple[str, npt.NDArray[np.float32]]:
        """``(vector kind, (N, D) vectors)`` of the crops with the embedder pack."""
        assert self.embedder is not None
        return self.embedder.name, self.embedder.embed_images(list(crops))


@functools.lru_cache(maxsize=2)
def _classifier(folder: str) -> OnnxClassifier:
    from retrouve.vision.packs.onnx_classifier import OnnxClassifier

    return OnnxClassifier(InstalledPack.load(Path(folder)))


@functools.lru_cache(maxsize=2)
def _embedder(folder: str) -> ClipEmbedder:
    from retrouve.vision.packs.onnx_embedder import ClipEmbedder

    return ClipEmbedder(InstalledPack.load(Path(folder)))
