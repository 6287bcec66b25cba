"""Shared fixtures: settings in a temporary data dir, services with the fake detector."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from databases import fresh_database
from retrouve.config import AnalysisSettings, Settings
from retrouve.domain import Detections
from retrouve.errors import ModelError
from retrouve.services import Services, build_services
from retrouve.vision.detector import Detector, ShapeDetector
from retrouve.vision.plates.ocr import PlateReader

#: The fixed "now" of every test (ingest and run times).
NOW = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    return NOW


def shape_detector(_settings: AnalysisSettings) -> Detector:
    """Detector factory for the analysis: the flat-background blob finder (no model)."""
    return ShapeDetector()


class _FailsOnSmallFrames(ShapeDetector):
    """The shape detector, failing on 160×120 frames: a work unit that fails while its file is
    intact (a file changed after ingest is not analysed at all, see test_integrity.py)."""

    def detect(self, image: npt.NDArray[np.uint8]) -> Detections:
        if image.shape[:2] == (120, 160):
            raise ModelError("detector failed on a 160x120 frame")
        return super().detect(image)


def fails_on_small_frames(_settings: AnalysisSettings) -> Detector:
    """Detector factory: :class:`_FailsOnSmallFrames`."""
    return _FailsOnSmallFrames()


def no_plates(_settings: AnalysisSettings) -> PlateReader | None:
    """Plate reader factory for tests that do not look at plates (no OCR model loaded)."""
    return None


def make_services(settings: Settings) -> Services:
    return build_services(settings, detector_factory=shape_detector,
                          plate_reader_factory=no_plates, clock=fixed_clock)


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str | None]:
    """This test's ``database_url``: None (SQLite in the data folder) or, under
    ``TEST_DATABASE_URL``, a fresh PostgreSQL database (see ``databases.py``)."""
    with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture(scope="module")
def module_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str | None]:
    """As :func:`database_url`, for a module-scoped store."""
    with fresh_database(tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return Settings(data_dir=tmp_path / "data", workers=1, executor="inline",
                    database_url=database_url)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    svc = make_services(settings)
    try:
        yield svc
    finally:
        svc.close()
