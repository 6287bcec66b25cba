"""Recordings as operators list them: status, failure, progress, start in the camera's zone.

One record and one JSON shape for ``retrouve recordings --json``, ``GET /api/recordings`` and
the footage page, so the front ends never assemble it themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from retrouve.domain import Recording, RecordingStatus, ScopeWindow
from retrouve.store.db import Store
from retrouve.store.records import UnitProgress


@dataclass(frozen=True)
class RecordingOverview:
    """One recording with its analysis state. ``local_start`` is ``recording.start`` in the
    camera's zone (UTC when the camera is gone); ``progress`` counts its work units."""

    recording: Recording
    status: RecordingStatus
    error: str | None
    local_start: datetime
    progress: UnitProgress
    #: Where the decodable content ends when before ``duration_s`` (a truncated file,
    #: status ``partial``): ``analysed_until_s``–``duration_s`` was never analysed.
    analysed_until_s: float | None = None

    def to_json(self) -> dict[str, Any]:
        r, p = self.recording, self.progress
        return {"id": r.id, "camera": r.camera_id, "path": r.path,
                "start": r.start.isoformat(), "duration_s": r.duration_s, "sha256": r.sha256,
                "status": self.status, "error": self.error, "units_done": p.done,
                "units_failed": p.failed, "units_total": p.total,
                "analysed_until_s": self.analysed_until_s}


def recordings_overview(store: Store, camera_id: str | None = None,
                        scope: tuple[ScopeWindow, ...] | None = None) -> list[RecordingOverview]:
    """Every recording (of ``camera_id`` only, when given; overlapping ``scope`` only, when
    given), in the store's order."""
    zones: dict[str, tzinfo] = {c.id: ZoneInfo(c.timezone) for c in store.list_cameras()}
    progress = store.unit_progress()
    return [RecordingOverview(e.recording, e.status, e.error,
                              e.recording.start.astimezone(zones.get(e.recording.camera_id, UTC)),
                              progress.get(e.recording.id, UnitProgress()),
                              e.analysed_until_s)
            for e in store.list_recordings(camera_id, scope=scope)]
