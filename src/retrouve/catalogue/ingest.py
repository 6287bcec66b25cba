"""Register cameras and recordings.

One bad file never stops a folder ingest: its error is collected in the report with the file
name and cause, and the other files go on. Re-ingesting a file already registered for the same
camera (same SHA-256) is a no-op.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from retrouve.catalogue.integrity import stamp_of
from retrouve.catalogue.overview import RecordingOverview, recordings_overview
from retrouve.catalogue.probe import MAX_PIXELS, probe
from retrouve.catalogue.sources import (
    check_plausible,
    media_files,
    parse_start,
    refuse_live,
    start_from_filename,
)
from retrouve.domain import Camera, Recording, ScopeWindow
from retrouve.errors import CatalogueError, DiskFull, MediaError, RecordingTimeError, StoreError
from retrouve.store.base import Tx
from retrouve.store.blobs import safe_name
from retrouve.store.db import Store
from retrouve.wallclock import zone_of

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    """Outcome of one ingest call: recordings added, files already known, files refused, and
    notes on added files (timestamp discontinuities mapped to frame order)."""

    added: list[Recording] = field(default_factory=list)
    skipped: list[Recording] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "added": [{"id": r.id, "path": r.path, "start": r.start.isoformat(),
                       "duration_s": r.duration_s} for r in self.added],
            "skipped": [{"id": r.id, "path": r.path} for r in self.skipped],
            "failed": [{"path": p, "error": e} for p, e in self.failed],
            "notes": [{"path": p, "note": n} for p, n in self.notes],
        }


#: The syntax of camera ids: used as they are in recording ids and file names.
CAMERA_ID: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,126}[A-Za-z0-9])?")


#: Longest camera name (the ``cameras.name`` column).
MAX_CAMERA_NAME: Final = 256


def check_camera(camera: Camera, registered: Iterable[Camera]) -> None:
    """Refuse a camera that cannot be registered (or saved) as it is, naming what is wrong.

    Ids have a strict syntax (:data:`CAMERA_ID`): they name files and recording ids as they
    are, so ``cam 9`` (refused, ``cam_9`` suggested) can never collide with ``cam_9``; an id
    equal to a ``registered`` one but for case is refused naming both (the two would share
    thumbnail folders on a case-insensitive disk). The time zone must be an IANA name; the
    position, when given, WGS84 degrees (latitude within ±90, longitude within ±180). The
    errors are keyed (``camera.*``, ``time.unknown_zone``) for the interface's language."""
    if not CAMERA_ID.fullmatch(camera.id):
        hint = safe_name(camera.id)[:128]
        message = (f"bad camera id {camera.id!r}: letters, digits, '.', '_' and '-' only, "
                   "starting and ending with a letter or digit, at most 128 characters")
        if CAMERA_ID.fullmatch(hint):
            raise CatalogueError(f"{message} (e.g. {hint!r})", key="camera.bad_id_hint",
                                 params={"id": camera.id, "hint": hint})
        raise CatalogueError(message, key="camera.bad_id", params={"id": camera.id})
    for other in registered:
        if other.id != camera.id and other.id.casefold() == camera.id.casefold():
            raise CatalogueError(f"camera id {camera.id!r} differs from the registered "
                                 f"{other.id!r} by case only: use {other.id!r}, or "
                                 "another id", key="camera.case_clash",
                                 params={"id": camera.id, "other": other.id})
    if not camera.name.strip() or len(camera.name) > MAX_CAMERA_NAME:
        raise CatalogueError(f"camera {camera.id!r}: its name must be 1-{MAX_CAMERA_NAME} "
                             "characters", key="camera.bad_name",
                             params={"id": camera.id, "max": MAX_CAMERA_NAME})
    zone_of(camera.timezone, RecordingTimeError)
    if not _within(camera.latitude, 90.0):
        raise CatalogueError(f"camera {camera.id!r}: latitude {camera.latitude} is outside "
                             "-90..90 degrees", key="camera.bad_latitude",
                             params={"id": camera.id, "value": camera.latitude})
    if not _within(camera.longitude, 180.0):
        raise CatalogueError(f"camera {camera.id!r}: longitude {camera.longitude} is "
                             "outside -180..180 degrees", key="camera.bad_longitude",
                             params={"id": camera.id, "value": camera.longitude})


def _within(degrees: float | None, bound: float) -> bool:
    """Whether ``degrees`` is absent or a finite value within ±``bound``."""
    return degrees is None or (math.isfinite(degrees) and -bound <= degrees <= bound)


class Catalogue:
    """Cameras and recordings, backed by the store. ``clock`` gives aware 'now' times;
    ``max_pixels`` bounds a still's or frame's pixel count (see ``probe``)."""

    def __init__(
        self, store: Store, clock: Callable[[], datetime], filename_pattern: str,
        start_format: str, max_pixels: int = MAX_PIXELS,
    ) -> None:
        self.max_pixels = max_pixels
        self.store = store
        self.clock = clock
        self.filename_pattern = filename_pattern
        self.start_format = start_format

    def recordings(self, camera_id: str | None = None,
                   scope: tuple[ScopeWindow, ...] | None = None) -> list[RecordingOverview]:
        """Recordings with their analysis state (of ``camera_id`` only, when given; those
        overlapping a case's ``scope`` only, when given)."""
        return recordings_overview(self.store, camera_id, scope)

    def add_camera(self, camera: Camera, tx: Tx | None = None) -> bool:
        """Register a camera (checked by :func:`check_camera`). False if it already exists
        unchanged. ``tx``: the caller's transaction (a journalled registration)."""
        check_camera(camera, self.store.list_cameras())
        return self.store.add_camera(camera, self.clock(), tx)

    def ingest(
        self, source: str, camera_id: str, start: str | None = None,
        recording_id: str | None = None,
    ) -> IngestReport:
        """Ingest a file or a folder (recursive) for ``camera_id``.

        ``start`` (ISO-8601) applies to a single file; otherwise each file's start comes from
        its name (``filename_pattern``). Raises only for problems of the whole call (live
        source, unknown camera, missing path, a folder without media files); per-file
        problems go to the report.
        """
        refuse_live(source)
        camera = self.store.require_camera(camera_id)
        root = Path(source)
        if not root.exists():
            raise MediaError(f"cannot ingest {source}: no such file or folder")
        files = list(media_files(root))
        if not files:
            # An empty export folder is the whole call's problem: an empty report would read
            # as success, and the operator would believe the footage registered.
            raise MediaError(f"cannot ingest {source}: no media files in this folder "
                             "(looked recursively for video and still-image suffixes)")
        if start is not None and len(files) > 1:
            raise RecordingTimeError(
                f"--start applies to one file, but {source} holds {len(files)} media files; "
                "name them by time (see filename_pattern) or ingest them one by one"
            )
        report = IngestReport()
        for path in files:
            try:
                rec, new = self._ingest_file(path, camera, start, recording_id, report)
            except DiskFull:
                raise  # every later file would fail the same way
            except (CatalogueError, StoreError, OSError) as exc:
                # One bad file (unreadable, refused, its id taken) never stops the others.
                log.warning("ingest refused %s: %s", path, exc)
                report.failed.append((str(path), str(exc)))
                continue
            except Exception as exc:
                log.exception("ingest of %s crashed", path)
                report.failed.append((str(path), f"unexpected {type(exc).__name__}: {exc}"))
                continue
            (report.added if new else report.skipped).append(rec)
        return report

    def _ingest_file(
        self, path: Path, camera: Camera, start: str | None, recording_id: str | None,
        report: IngestReport | None = None,
    ) -> tuple[Recording, bool]:
        info = probe(path, self.max_pixels)
        known = self.store.find_recording(camera.id, info.sha256)
        if known is not None:
            return known, False
        if start is not None:
            when = parse_start(start, camera.timezone)
        else:
            found = start_from_filename(
                path, self.filename_pattern, self.start_format, camera.timezone
            )
            if found is None:
                raise RecordingTimeError(
                    f"{path}: no start time: give --start ISO-8601 or name files by time "
                    f"(pattern {self.filename_pattern!r})"
                )
            when = found
        # "Now" is the later of the injected clock and this machine's: footage cannot have
        # been recorded after the real present (test fixtures' fixed clocks predate their
        # footage, so the injected clock alone would refuse it).
        now = max(self.clock(), datetime.now(UTC))
        check_plausible(when, now, f"{path.name}: start")
        try:
            # The cheap re-check before each analysis compares the file with this stamp.
            stamp = stamp_of(path)
        except OSError as exc:
            raise MediaError(f"cannot read {path}: {exc.strerror or exc}") from exc
        rec = Recording(
            id=recording_id or f"{safe_name(camera.id)}-{info.sha256[:12]}",
            camera_id=camera.id, path=str(path.resolve()), sha256=info.sha256,
            size_bytes=info.size_bytes, start=when, duration_s=info.duration_s, fps=info.fps,
            width=info.width, height=info.height, codec=info.codec,
            frame_count=info.frame_count, is_image=info.is_image,
            mtime_ns=stamp.mtime_ns, sample_sha256=stamp.sample_sha256,
        )
        self.store.add_recording(rec, self.clock())
        log.info("ingested %s as %s", path.name, rec.id)
        if info.ends_early:
            # Registered all the same: the analysis marks it partial where decoding stops.
            note = (f"no frame decodes near the announced end ({info.duration_s:.1f} s): a "
                    "truncated file? analysed as far as it decodes, then marked partial")
            log.warning("%s: %s", path.name, note)
            if report is not None:
                report.notes.append((str(path), note))
        for gap in info.discontinuities:
            # The time base across it is frame order (docs/analysis.md, "Time base").
            log.warning("%s: %s", path.name, gap.describe())
            if report is not None:
                report.notes.append((str(path), gap.describe()))
        return rec, True
