"""Analysis started from the web: one background thread at a time, progress for the pages.

The analysis itself is ``services.analyser.analyse`` (resumable, units written atomically), so
a server stopped mid-run loses nothing: the next start resumes. The thread is a daemon for the
same reason: it must not keep a stopping server alive.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from retrouve.analysis.runner import Analyser
from retrouve.domain import UnitResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobState:
    """A snapshot of the web-started analysis (``running`` False before the first start)."""

    running: bool = False
    started_by: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    units_done: int = 0
    units_total: int = 0
    units_failed: int = 0
    tracks: int | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "running": self.running, "started_by": self.started_by,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "units_done": self.units_done, "units_total": self.units_total,
            "units_failed": self.units_failed, "tracks": self.tracks, "error": self.error,
        }


class AnalysisJob:
    """Starts ``analyser.analyse`` in a thread, refusing a second start while one runs."""

    def __init__(self, analyser: Analyser, clock: Callable[[], datetime]) -> None:
        self.analyser = analyser
        self.clock = clock
        self._lock = threading.Lock()
        self._state = JobState()
        self._thread: threading.Thread | None = None

    def state(self) -> JobState:
        with self._lock:
            return self._state

    def pending_count(self) -> int:
        return len(self.analyser.pending())

    def start(self, recording_ids: Sequence[str] | None, user: str) -> bool:
        """Start analysing (pending or given recordings). False if one is already running."""
        with self._lock:
            if self._state.running:
                return False
            self._state = JobState(running=True, started_by=user, started_at=self.clock())
            self._thread = threading.Thread(
                target=self._run, args=(list(recording_ids) if recording_ids else None,),
                name="retrouve-web-analysis", daemon=True,
            )
            self._thread.start()
        return True

    def join(self, timeout: float | None = None) -> None:
        """Wait for the running analysis (tests, orderly shutdown)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _progress(self, done: int, total: int, result: UnitResult) -> None:
        with self._lock:
            self._state = replace(
                self._state, units_done=done, units_total=total,
                units_failed=self._state.units_failed + (1 if result.error else 0),
            )

    def _run(self, recording_ids: list[str] | None) -> None:
        error: str | None = None
        tracks: int | None = None
        try:
            report = self.analyser.analyse(recording_ids, progress=self._progress)
            tracks = report.tracks
        except Exception as exc:  # the thread must record any failure, not die silently
            log.exception("web-started analysis failed")
            error = f"{type(exc).__name__}: {exc}"
        with self._lock:
            self._state = replace(self._state, running=False, finished_at=self.clock(),
                                  tracks=tracks, error=error)
