"""Settings: one pydantic-settings tree.

Sources, highest priority first: explicit keyword arguments (the CLI passes its options), the
environment (``RETROUVE_`` prefix, ``__`` for nesting, e.g. ``RETROUVE_ANALYSIS__SAMPLE_FPS=3``),
then an optional TOML file named by ``RETROUVE_CONFIG``. Every path derives from ``data_dir``.
Nothing is read at import time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class PackSelection(BaseModel):
    """Installed model packs an analysis uses (folders under ``data_dir/models``).

    Filled by the services from the pack registry when ``analysis.use_packs`` is on (the most
    recently installed pack of each task), and recorded with each analysis run.
    """

    detector: Path | None = None
    make_model: Path | None = None
    embedder: Path | None = None


class AnalysisSettings(BaseModel):
    """How footage is analysed. Times in seconds, rates in frames per second."""

    #: Frames analysed per second of video. 4 fps was chosen by measurement on ../shared/eval
    #: (see docs/analysis.md): lower rates lose fast vehicles between samples, higher rates cost
    #: detector time without improving recall.
    sample_fps: float = Field(4.0, gt=0, le=60)
    #: Long recordings are cut into slices of this length, each one work unit.
    slice_seconds: float = Field(600.0, ge=10)
    #: Motion gate: share of (low-resolution) pixels that must change to run the detector.
    motion_min_area: float = Field(0.0005, ge=0, le=1)
    #: Even on a static scene, run the detector at least this often (parked or stopped objects).
    refresh_seconds: float = Field(5.0, gt=0)
    #: Detector tiles: a frame whose long side exceeds ``tile_px`` is also detected in tiles of
    #: about this size, so that small far objects are not lost in the 300x300 detector input.
    tile_px: int = Field(640, ge=200)
    #: Minimum detector score kept; scores up to ``+0.1`` only extend tracks (ByteTrack's
    #: low-score pass), above that they may start one.
    detect_threshold: float = Field(0.2, ge=0.05, le=0.95)
    #: Tracks seen on fewer analysed frames than this are dropped as noise (images excepted).
    min_track_frames: int = Field(2, ge=1)
    #: Thumbnail long side in pixels.
    thumbnail_px: int = Field(320, ge=64)
    #: Read licence plates of vehicle tracks (needs ``rapidocr-onnxruntime``, see README).
    plates: bool = True
    #: Full-resolution vehicle views read per track (the best ones, spread in time); the
    #: reads are combined into one consensus. More views: better reads, more OCR time.
    plate_views: int = Field(3, ge=1, le=10)
    #: Vehicles narrower than this (original pixels) on every frame are not read: a plate
    #: is about a fifth of a car's width, and OCR needs ~15 px high characters.
    plate_min_vehicle_px: int = Field(90, ge=16)
    #: Seconds between two views kept for plate reading (different frames, different noise).
    plate_view_spacing_s: float = Field(0.4, ge=0)
    #: Use installed model packs (detector, make/model classifier, CLIP embedder) when present.
    use_packs: bool = True
    packs: PackSelection = Field(default_factory=lambda: PackSelection())


class Settings(BaseSettings):
    """Root settings. ``database_url`` defaults to SQLite inside ``data_dir``."""

    model_config = SettingsConfigDict(
        env_prefix="RETROUVE_", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Path("retrouve-data")
    database_url: str | None = None
    workers: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1), ge=1)
    executor: str = "process"
    #: NVR export file names: a regular expression with a named group ``start`` (and optionally
    #: ``camera``); ``start_format`` is the ``strptime`` format of that group.
    filename_pattern: str = r"(?P<start>\d{8}[T_-]?\d{6})"
    start_format: str = "%Y%m%d%H%M%S"
    analysis: AnalysisSettings = Field(default_factory=lambda: AnalysisSettings())

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml = os.environ.get("RETROUVE_CONFIG")
        if toml:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(toml)))
        return tuple(sources)

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'retrouve.db').resolve()}"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"


def load_settings(**overrides: Any) -> Settings:
    """Build settings; ``None`` overrides are ignored so CLI defaults do not mask the env."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
