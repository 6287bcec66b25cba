"""One exception tree for the whole project.

::

    RetrouveError                    base: every error we raise on purpose
    ├── ConfigError                  settings that cannot work (bad path, unknown backend)
    ├── MissingExtraError            an optional backend selected but its extra not installed
    ├── CatalogueError               cameras and recordings
    │   ├── LiveSourceRefused        rtsp://, http(s)://, /dev/video*: recorded footage only
    │   ├── UnknownCameraError       a camera id that is not registered
    │   ├── DuplicateCameraError     registering a camera id twice with different details
    │   ├── RecordingTimeError       no wall-clock start, or a bad one
    │   └── MediaError               a file that cannot be opened, probed or decoded
    ├── ModelError                   model weights missing or unloadable
    ├── AnalysisError                a work unit failed (wraps the cause)
    ├── StoreError                   database or blob folder problems
    ├── QueryError                   a malformed search (bad colour, bad time window)
    └── EvaluationError              a malformed evaluation dataset or query file

Messages name the object (camera, recording, file) and the cause; callers chain with ``from``.
"""

from __future__ import annotations


class RetrouveError(Exception):
    """Base class of every error Retrouve raises on purpose."""


class ConfigError(RetrouveError):
    """Settings that cannot work."""


class MissingExtraError(ConfigError):
    """An optional backend was selected but its extra is not installed."""

    def __init__(self, extra: str, what: str) -> None:
        super().__init__(
            f"{what} needs the optional extra '{extra}': pip install 'retrouve[{extra}]'"
        )
        self.extra = extra


class CatalogueError(RetrouveError):
    """Problems registering cameras or recordings."""


class LiveSourceRefused(CatalogueError):
    """A live stream or device was given: Retrouve analyses recorded footage only."""


class UnknownCameraError(CatalogueError):
    """A camera id that is not registered."""


class DuplicateCameraError(CatalogueError):
    """A camera id registered twice with different details."""


class RecordingTimeError(CatalogueError):
    """A recording whose wall-clock start is missing or invalid."""


class MediaError(CatalogueError):
    """A file that cannot be opened, probed or decoded."""


class ModelError(RetrouveError):
    """Model weights missing or unloadable."""


class AnalysisError(RetrouveError):
    """A work unit failed."""


class StoreError(RetrouveError):
    """Database or blob folder problems."""


class QueryError(RetrouveError):
    """A malformed search."""


class EvaluationError(RetrouveError):
    """A malformed evaluation dataset or query file."""
